"""GET, PATCH and DELETE /api/v1/patients/{id}."""

import pytest

from keneyapp.core.scoping import scopes_disabled
from patients.models import Patient
from patients.selectors import PATIENT_FIELDS
from tests.factories import PatientFactory

from .helpers import LIST_URL, assert_error, detail_url, snapshot

# --- GET --------------------------------------------------------------------------------------


def test_get_answers_every_field_of_the_patient(api, doctor, patient):
    response = api(doctor).get(detail_url(patient))

    assert response.status_code == 200
    body = response.json()
    assert list(body) == list(PATIENT_FIELDS)
    assert body["id"] == patient.pk
    assert body["mrn"] == patient.mrn
    assert (body["first_name"], body["last_name"]) == ("Fatou", "Sall")
    assert body["date_of_birth"] == "1980-05-17"
    assert body["sex"] == "female"
    assert body["email"] == "fatou.sall@example.org"
    assert body["phone_number"] == patient.phone_number
    assert body["created_by"] is None


def test_get_with_fields_answers_exactly_those_keys(api, doctor, patient):
    response = api(doctor).get(detail_url(patient), {"fields": "mrn,id"})

    assert response.json() == {"id": patient.pk, "mrn": patient.mrn}


def test_get_with_an_unknown_field_is_a_400(api, doctor, patient):
    response = api(doctor).get(detail_url(patient), {"fields": "id,search_text"})

    assert_error(response, 400, fields=("fields",))


def test_get_matches_the_same_patient_in_the_list(api, doctor, patient):
    client = api(doctor)

    assert client.get(detail_url(patient)).json() == client.get(LIST_URL).json()["items"][0]


# --- PATCH ------------------------------------------------------------------------------------


def test_patch_changes_only_the_given_fields_and_answers_the_patient(api, doctor, patient):
    before = snapshot(patient)

    response = api(doctor).patch(detail_url(patient), {"first_name": "Fatoumata"}, format="json")

    assert response.status_code == 200
    body = response.json()
    assert body["first_name"] == "Fatoumata"
    assert body["last_name"] == "Sall"
    assert body["email"] == "fatou.sall@example.org"
    assert list(body) == list(PATIENT_FIELDS)
    after = snapshot(patient)
    assert after["first_name"] == "Fatoumata"
    assert after["updated_at"] > before["updated_at"]
    unchanged = set(before) - {"first_name", "updated_at", "search_text"}
    assert {k: after[k] for k in unchanged} == {k: before[k] for k in unchanged}


def test_patch_answer_is_what_a_get_then_answers(api, doctor, patient):
    client = api(doctor)

    patched = client.patch(detail_url(patient), {"notes": "Asthma since 2001."}, format="json").json()

    assert patched == client.get(detail_url(patient)).json()
    assert patched["notes"] == "Asthma since 2001."


def test_patch_with_fields_answers_exactly_those_keys(api, doctor, patient):
    response = api(doctor).patch(
        f"{detail_url(patient)}?fields=id,last_name", {"last_name": "Ba"}, format="json"
    )

    assert response.json() == {"id": patient.pk, "last_name": "Ba"}


def test_patch_with_an_empty_body_changes_nothing(api, doctor, patient):
    before = snapshot(patient)

    response = api(doctor).patch(detail_url(patient), {}, format="json")

    assert response.status_code == 200
    after = snapshot(patient)
    assert {k: v for k, v in after.items() if k != "updated_at"} == {
        k: v for k, v in before.items() if k != "updated_at"
    }


def test_renamed_patient_is_found_by_the_new_name_only(api, doctor, patient):
    client = api(doctor)

    client.patch(
        detail_url(patient),
        {"first_name": "Ndèye", "last_name": "Guèye", "email": "ndeye.gueye@example.org"},
        format="json",
    )

    assert [i["id"] for i in client.get(LIST_URL, {"search": "ndeye gueye"}).json()["items"]] == [patient.pk]
    assert client.get(LIST_URL, {"search": "fatou"}).json()["total"] == 0
    assert client.get(LIST_URL, {"search": "sall"}).json()["total"] == 0


def test_patched_phone_and_email_are_searchable(api, doctor, patient):
    client = api(doctor)

    client.patch(
        detail_url(patient), {"phone_number": "+221 76 555 44 33", "email": "new@clinic.sn"}, format="json"
    )

    assert client.get(LIST_URL, {"search": "765554433"}).json()["total"] == 1
    assert client.get(LIST_URL, {"search": "new@clinic.sn"}).json()["total"] == 1
    assert client.get(LIST_URL, {"search": "fatou.sall"}).json()["total"] == 0


def test_patch_may_keep_or_recase_the_patients_own_email_and_mrn(api, doctor, patient):
    response = api(doctor).patch(
        detail_url(patient), {"email": "FATOU.SALL@example.org", "mrn": patient.mrn}, format="json"
    )

    assert response.status_code == 200
    assert snapshot(patient)["email"] == "FATOU.SALL@example.org"


def test_patch_may_clear_optional_fields(api, doctor, patient):
    response = api(doctor).patch(detail_url(patient), {"email": "", "phone_number": ""}, format="json")

    assert response.status_code == 200
    row = snapshot(patient)
    assert (row["email"], row["phone_number"]) == ("", "")


# --- DELETE -----------------------------------------------------------------------------------


def test_delete_is_a_204_and_keeps_the_row_marked_deleted(api, doctor, patient):
    response = api(doctor).delete(detail_url(patient))

    assert response.status_code == 204
    assert response.content == b""
    with scopes_disabled():
        row = Patient.objects.get(pk=patient.pk)
    assert row.is_deleted is True
    assert row.deleted_at is not None
    assert (row.first_name, row.last_name, row.mrn) == ("Fatou", "Sall", patient.mrn)


@pytest.mark.parametrize("method", ["get", "patch", "delete"])
def test_deleted_patient_is_404_for_every_method(api, doctor, patient, method):
    client = api(doctor)
    client.delete(detail_url(patient))
    before = snapshot(patient)

    response = getattr(client, method)(detail_url(patient), {"first_name": "X"}, format="json")

    assert_error(response, 404, code="not_found")
    assert snapshot(patient) == before


def test_deleted_patient_leaves_the_list_the_total_and_search(api, doctor, clinic, patient):
    PatientFactory(tenant=clinic, first_name="Kept")
    client = api(doctor)

    client.delete(detail_url(patient))

    body = client.get(LIST_URL).json()
    assert body["total"] == 1
    assert [item["first_name"] for item in body["items"]] == ["Kept"]
    assert client.get(LIST_URL, {"search": "fatou"}).json() == {
        "items": [],
        "total": 0,
        "skip": 0,
        "limit": 50,
    }
    assert client.get(LIST_URL, {"search": patient.mrn}).json()["total"] == 0
