"""GET and PATCH /api/v1/appointments/{id}, and cancel: ours are readable and editable; another
clinic's are 404 (never 403) and stay as they are."""

import pytest

from appointments.models import Appointment, AppointmentStatus
from keneyapp.core.scoping import scopes_disabled
from tests.factories import AppointmentFactory, PatientFactory

from .helpers import DAKAR, PARIS, assert_error, at, cancel_url, detail_url, snapshot


@pytest.fixture
def appointment(clinic, doctor, patient):
    return AppointmentFactory(
        tenant=clinic,
        patient=patient,
        provider=doctor,
        appointment_date=at(DAKAR, 2030, 1, 7, 9),
        reason="Check-up",
        notes="Bring results.",
    )


@pytest.fixture
def foreign_appointment(other_clinic, outsider, foreign_patient):
    return AppointmentFactory(
        tenant=other_clinic,
        patient=foreign_patient,
        provider=outsider,
        appointment_date=at(DAKAR, 2030, 1, 7, 9),
    )


def test_get_answers_the_appointment(api, doctor, patient, appointment):
    response = api(doctor).get(detail_url(appointment))

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["id"] == appointment.pk
    assert body["patient"] == {"id": patient.pk, "name": "Fatou Sall", "mrn": "A0000001"}
    assert body["provider"]["id"] == doctor.pk
    assert body["appointment_date"] == "2030-01-07T09:00:00+00:00"
    assert body["ends_at"] == "2030-01-07T09:30:00+00:00"
    assert (body["reason"], body["notes"], body["status"]) == ("Check-up", "Bring results.", "scheduled")


def test_get_answers_in_clinic_time(api, paris_clinic, paris_doctor, paris_patient):
    appointment = AppointmentFactory(
        tenant=paris_clinic, patient=paris_patient, appointment_date=at(PARIS, 2030, 7, 1, 9)
    )

    body = api(paris_doctor).get(detail_url(appointment)).json()

    assert body["appointment_date"] == "2030-07-01T09:00:00+02:00"


def test_the_list_and_the_detail_answer_the_same_item(api, doctor, appointment):
    client = api(doctor)

    [from_list] = client.get("/api/v1/appointments").json()["items"]
    detail = client.get(detail_url(appointment)).json()

    assert from_list == detail


def test_patch_answers_what_get_answers_and_the_flag(api, doctor, appointment):
    client = api(doctor)

    patched = client.patch(detail_url(appointment), {"notes": "Fasting."}, format="json").json()
    got = client.get(detail_url(appointment)).json()

    assert patched.pop("outside_working_hours") is True  # the doctor has no working hours on file
    assert {k: v for k, v in patched.items() if k != "updated_at"} == {
        k: v for k, v in got.items() if k != "updated_at"
    }
    assert got["notes"] == "Fasting."


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        pytest.param({"reason": "Vaccination"}, {"reason": "Vaccination"}, id="reason"),
        pytest.param({"notes": ""}, {"notes": ""}, id="blank-notes"),
        pytest.param(
            {"duration_minutes": 60},
            {"duration_minutes": 60, "ends_at": at(DAKAR, 2030, 1, 7, 10)},
            id="duration",
        ),
        pytest.param({"provider_id": None}, {"provider_id": None}, id="unassign"),
        pytest.param(
            {"appointment_date": "2030-01-08T15:00:00"},
            {"appointment_date": at(DAKAR, 2030, 1, 8, 15), "ends_at": at(DAKAR, 2030, 1, 8, 15, 30)},
            id="reschedule",
        ),
    ],
)
def test_patch_changes_only_what_it_names(api, doctor, appointment, changes, expected):
    before = snapshot(appointment)

    response = api(doctor).patch(detail_url(appointment), changes, format="json")

    assert response.status_code == 200, response.content
    after = snapshot(appointment)
    changed = {k for k in after if after[k] != before[k]} - {"updated_at"}
    assert changed == set(expected)
    assert {k: after[k] for k in expected} == expected


def test_patch_reassigns_to_a_nurse(api, doctor, nurse, appointment):
    response = api(doctor).patch(detail_url(appointment), {"provider_id": nurse.pk}, format="json")

    assert response.status_code == 200
    assert response.json()["provider"] == {"id": nurse.pk, "name": "Nadia Ba"}
    with scopes_disabled():
        assert Appointment.objects.get(pk=appointment.pk).provider == nurse


def test_the_patient_cannot_be_changed(api, doctor, clinic, appointment):
    other = PatientFactory(tenant=clinic)
    before = snapshot(appointment)

    response = api(doctor).patch(detail_url(appointment), {"patient_id": other.pk}, format="json")

    assert_error(response, 400, fields=("patient_id",))
    assert snapshot(appointment) == before


def test_an_unknown_appointment_is_a_404(api, doctor):
    client = api(doctor)

    assert_error(client.get(detail_url(987654)), 404, code="not_found")
    assert_error(client.patch(detail_url(987654), {"notes": "x"}, format="json"), 404)
    assert_error(client.post(cancel_url(987654), {"reason": "x"}, format="json"), 404)


# --- another clinic's appointment -------------------------------------------------------------


def test_another_clinics_appointment_is_a_404_to_get(api, doctor, foreign_appointment):
    assert_error(api(doctor).get(detail_url(foreign_appointment)), 404, code="not_found")


@pytest.mark.parametrize(
    "changes",
    [
        {"notes": "Seen by us"},
        {"status": "cancelled"},
        {"status": "completed"},
        {"appointment_date": "2030-01-08T09:00:00"},
        {"status": "nonsense"},  # even invalid input must not tell the other clinic's row exists
    ],
)
def test_another_clinics_appointment_is_a_404_to_patch_and_unchanged(
    api, doctor, foreign_appointment, changes
):
    before = snapshot(foreign_appointment)

    response = api(doctor).patch(detail_url(foreign_appointment), changes, format="json")

    assert_error(response, 404, code="not_found")
    assert snapshot(foreign_appointment) == before


@pytest.mark.parametrize("role", ["doctor", "receptionist"])
def test_another_clinics_appointment_is_a_404_to_cancel_and_unchanged(
    api, staff_of, foreign_appointment, role
):
    before = snapshot(foreign_appointment)

    response = api(staff_of(role)).post(
        cancel_url(foreign_appointment), {"reason": "Mine now"}, format="json"
    )

    assert_error(response, 404, code="not_found")
    assert snapshot(foreign_appointment) == before


def test_a_receptionist_completing_another_clinics_appointment_gets_404_not_403(
    api, receptionist, other_clinic, foreign_patient
):
    checked_in = AppointmentFactory(
        tenant=other_clinic, patient=foreign_patient, status=AppointmentStatus.CHECKED_IN
    )

    response = api(receptionist).patch(detail_url(checked_in), {"status": "completed"}, format="json")

    assert_error(response, 404)


def test_the_other_clinic_cannot_see_ours_either(api, outsider, appointment):
    client = api(outsider)

    assert_error(client.get(detail_url(appointment)), 404)
    assert client.get("/api/v1/appointments").json()["total"] == 0
