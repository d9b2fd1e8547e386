"""Ids that name no patient, and paths that are not the API's: a JSON 404, never HTML, a 500 or a
redirect."""

import pytest

from keneyapp.core.scoping import scopes_disabled
from patients.models import Patient

from .helpers import LIST_URL, assert_error, detail_url, snapshot, valid_body

METHODS = ["get", "patch", "delete"]
NO_SUCH_IDS = [
    "abc",
    "99999999999999999999",  # does not fit a 64-bit key
    "9223372036854775808",  # one past the largest 64-bit key
    "999999999999999999",
    "0",
    "-1",
    "1.5",
    "1e3",
    "%20",
]


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("raw_id", NO_SUCH_IDS)
def test_an_id_that_names_no_patient_is_a_json_404(api, doctor, patient, method, raw_id):
    before = snapshot(patient)

    response = getattr(api(doctor), method)(f"{LIST_URL}/{raw_id}", {"first_name": "X"}, format="json")

    assert_error(response, 404, code="not_found")
    assert snapshot(patient) == before


@pytest.mark.parametrize("method", METHODS)
def test_an_unknown_id_is_a_json_404(api, doctor, patient, method):
    with scopes_disabled():
        unknown = Patient.objects.order_by("-pk").values_list("pk", flat=True).first() + 1000

    response = getattr(api(doctor), method)(f"{LIST_URL}/{unknown}", {"first_name": "X"}, format="json")

    assert_error(response, 404, code="not_found")


@pytest.mark.parametrize("method", ["get", "post"])
def test_the_list_with_a_trailing_slash_is_a_404_not_a_redirect(api, doctor, method):
    response = getattr(api(doctor), method)(f"{LIST_URL}/", {}, format="json")

    assert_error(response, 404, code="not_found")
    assert "Location" not in response
    with scopes_disabled():
        assert Patient.objects.count() == 0


@pytest.mark.parametrize("method", METHODS)
def test_a_patient_with_a_trailing_slash_is_a_404_not_a_redirect(api, doctor, patient, method):
    before = snapshot(patient)

    response = getattr(api(doctor), method)(f"{LIST_URL}/{patient.pk}/", {"first_name": "X"}, format="json")

    assert_error(response, 404)
    assert "Location" not in response
    assert snapshot(patient) == before


@pytest.mark.parametrize(
    ("method", "on_detail"), [("put", True), ("post", True), ("delete", False), ("patch", False)]
)
def test_a_method_the_route_does_not_serve_is_a_json_405(api, doctor, patient, method, on_detail):
    before = snapshot(patient)
    url = detail_url(patient) if on_detail else LIST_URL

    response = getattr(api(doctor), method)(url, valid_body(), format="json")

    assert_error(response, 405, code="method_not_allowed")
    assert snapshot(patient) == before
    with scopes_disabled():
        assert Patient.objects.count() == 1
