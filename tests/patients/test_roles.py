"""What each role may do with patients (keneyapp/accounts/roles.py): every role reads, creates and
edits; only admins and doctors delete. A refusal is 403 in the own clinic, 404 in another."""

import pytest

from keneyapp.accounts.roles import Role
from keneyapp.core.scoping import scopes_disabled
from patients.models import Patient

from .helpers import LIST_URL, assert_error, detail_url, snapshot, valid_body

ALL_ROLES = list(Role)
MAY_DELETE = [Role.ADMIN, Role.DOCTOR]
MAY_NOT_DELETE = [Role.NURSE, Role.RECEPTIONIST]


def test_the_delete_split_covers_every_role():
    assert set(MAY_DELETE) | set(MAY_NOT_DELETE) == set(Role)


@pytest.mark.parametrize("role", ALL_ROLES)
def test_every_role_lists_patients(api, staff_of, patient, role):
    body = api(staff_of(role)).get(LIST_URL).json()

    assert [item["id"] for item in body["items"]] == [patient.pk]


@pytest.mark.parametrize("role", ALL_ROLES)
def test_every_role_reads_a_patient(api, staff_of, patient, role):
    response = api(staff_of(role)).get(detail_url(patient))

    assert response.status_code == 200
    assert response.json()["id"] == patient.pk


@pytest.mark.parametrize("role", ALL_ROLES)
def test_every_role_creates_a_patient(api, staff_of, clinic, role):
    user = staff_of(role)

    response = api(user).post(LIST_URL, valid_body(), format="json")

    assert response.status_code == 201
    with scopes_disabled():
        created = Patient.objects.get(pk=response.json()["id"])
    assert (created.tenant_id, created.created_by_id) == (clinic.pk, user.pk)


@pytest.mark.parametrize("role", ALL_ROLES)
def test_every_role_edits_a_patient(api, staff_of, patient, role):
    response = api(staff_of(role)).patch(detail_url(patient), {"allergies": "Latex"}, format="json")

    assert response.status_code == 200
    assert snapshot(patient)["allergies"] == "Latex"


@pytest.mark.parametrize("role", MAY_DELETE)
def test_admins_and_doctors_delete_a_patient(api, staff_of, patient, role):
    response = api(staff_of(role)).delete(detail_url(patient))

    assert response.status_code == 204
    assert snapshot(patient)["is_deleted"] is True


@pytest.mark.parametrize("role", MAY_NOT_DELETE)
def test_nurses_and_receptionists_get_403_on_delete_and_the_patient_stays(api, staff_of, patient, role):
    client = api(staff_of(role))
    before = snapshot(patient)

    response = client.delete(detail_url(patient))

    assert_error(response, 403, code="permission_denied")
    assert snapshot(patient) == before
    assert client.get(detail_url(patient)).status_code == 200


@pytest.mark.parametrize("role", MAY_NOT_DELETE)
def test_a_refused_delete_of_an_unknown_patient_is_still_404(api, staff_of, role):
    response = api(staff_of(role)).delete(detail_url(987654))

    assert_error(response, 404)


@pytest.mark.parametrize("role", ALL_ROLES)
@pytest.mark.parametrize("method", ["get", "patch", "delete"])
def test_every_role_gets_404_not_403_on_another_clinics_patient(api, staff_of, foreign_patient, role, method):
    before = snapshot(foreign_patient)

    response = getattr(api(staff_of(role)), method)(
        detail_url(foreign_patient), {"notes": "x"}, format="json"
    )

    assert_error(response, 404, code="not_found")
    assert snapshot(foreign_patient) == before
