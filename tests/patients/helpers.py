"""Helpers for the patients API tests: the URLs, a valid body, and the API's one error shape."""

from keneyapp.core.scoping import scopes_disabled
from patients.models import Patient
from tests.error_shape import assert_error as assert_error  # re-exported for this folder's tests

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


def snapshot(patient: Patient) -> dict:
    """Every column of the patient's row as stored, to prove a refused request changed nothing."""
    with scopes_disabled():
        return Patient.objects.filter(pk=patient.pk).values().get()
