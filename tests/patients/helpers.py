"""Helpers for the patients API tests: the URLs, a valid body, and the API's one error shape."""

from patients.models import Patient

LIST_URL = "/api/v1/patients"


def detail_url(patient_or_id) -> str:
    return f"{LIST_URL}/{getattr(patient_or_id, 'pk', patient_or_id)}"


def valid_body(**overrides) -> dict:
    body = {
        "first_name": "Awa",
        "last_name": "Diop",
        "date_of_birth": "1990-04-12",
        "sex": "female",
        "email": "awa.diop@example.org",
        "phone_number": "+221 77 123 45 67",
    }
    body.update(overrides)
    return body


def assert_error(response, status: int, *, fields: tuple[str, ...] = (), code: str | None = None) -> dict:
    """The response is JSON in the API's error shape, and names exactly `fields` when given."""
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert body["status"] == status
    assert isinstance(body["code"], str) and body["code"]
    assert isinstance(body["detail"], str) and body["detail"]
    if code is not None:
        assert body["code"] == code
    if fields:
        assert set(body["fields"]) == set(fields), body
        for problems in body["fields"].values():
            assert problems
            for problem in problems:
                assert set(problem) == {"code", "message"}
                assert problem["message"]
    return body


def snapshot(patient: Patient) -> dict:
    """Every column of the patient's row as stored, to prove a refused request changed nothing."""
    return Patient.objects.filter(pk=patient.pk).values().get()
