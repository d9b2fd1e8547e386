"""A patient of another clinic does not exist for us: 404 for every method, absent from every
list, total and search, and untouched by anything we send."""

import pytest

from keneyapp.core.scoping import scopes_disabled
from patients.models import Patient

from .helpers import LIST_URL, assert_error, detail_url, snapshot, valid_body


def test_other_clinics_patient_is_404_on_get(api, doctor, foreign_patient):
    assert_error(api(doctor).get(detail_url(foreign_patient)), 404, code="not_found")


def test_other_clinics_patient_is_404_on_get_with_fields(api, doctor, foreign_patient):
    response = api(doctor).get(detail_url(foreign_patient), {"fields": "id"})

    assert_error(response, 404, code="not_found")


def test_other_clinics_patient_is_404_on_patch_and_unchanged(api, doctor, foreign_patient):
    before = snapshot(foreign_patient)

    response = api(doctor).patch(detail_url(foreign_patient), {"first_name": "Hijacked"}, format="json")

    assert_error(response, 404, code="not_found")
    assert snapshot(foreign_patient) == before


def test_other_clinics_patient_is_404_on_an_invalid_patch_too(api, doctor, foreign_patient):
    # The answer must not depend on the body: a 400 here would confirm the id exists.
    response = api(doctor).patch(detail_url(foreign_patient), {"email": "nope"}, format="json")

    assert_error(response, 404)


def test_other_clinics_patient_is_404_on_delete_and_stays(api, doctor, foreign_patient):
    response = api(doctor).delete(detail_url(foreign_patient))

    assert_error(response, 404, code="not_found")
    row = snapshot(foreign_patient)
    assert row["is_deleted"] is False
    assert row["deleted_at"] is None


def test_the_answer_for_another_clinics_patient_equals_the_answer_for_no_patient(
    api, doctor, foreign_patient
):
    client = api(doctor)

    theirs = client.get(detail_url(foreign_patient))
    nobody = client.get(detail_url(foreign_patient.pk + 100000))

    assert (theirs.status_code, theirs.json()) == (nobody.status_code, nobody.json())


def test_other_clinics_patients_are_not_in_our_list_or_total(api, doctor, patient, foreign_patient):
    body = api(doctor).get(LIST_URL).json()

    assert [item["id"] for item in body["items"]] == [patient.pk]
    assert body["total"] == 1


@pytest.mark.parametrize("attribute", ["first_name", "last_name", "email", "phone_number", "mrn"])
def test_other_clinics_patients_are_never_found_by_search(api, doctor, patient, foreign_patient, attribute):
    body = api(doctor).get(LIST_URL, {"search": getattr(foreign_patient, attribute)}).json()

    assert foreign_patient.pk not in [item["id"] for item in body["items"]]
    assert body["total"] == 0


def test_our_patients_are_invisible_to_the_other_clinic(api, outsider, patient, foreign_patient):
    client = api(outsider)

    assert [item["id"] for item in client.get(LIST_URL).json()["items"]] == [foreign_patient.pk]
    assert client.get(LIST_URL, {"search": "fatou"}).json()["total"] == 0
    assert_error(client.get(detail_url(patient)), 404)


def test_a_patient_created_by_the_other_clinic_belongs_to_it(api, outsider, other_clinic, patient):
    response = api(outsider).post(LIST_URL, valid_body(email=patient.email, mrn=patient.mrn), format="json")

    assert response.status_code == 201
    with scopes_disabled():
        assert Patient.objects.get(pk=response.json()["id"]).tenant_id == other_clinic.pk
