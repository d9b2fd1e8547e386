"""POST /api/v1/appointments: the guide's body, the answer's shape, clinic time, and the
outside-working-hours flag."""

from datetime import UTC, datetime, timedelta

import pytest

from appointments.models import Appointment, AppointmentStatus, TimeOff
from keneyapp.accounts.roles import Role
from keneyapp.core.scoping import scopes_disabled
from tests.factories import PatientFactory

from .helpers import DAKAR, ITEM_KEYS, LIST_URL, at, book, detail_url, guide_body

ANSWER_KEYS = ITEM_KEYS | {"outside_working_hours"}


# --- the guide's body -------------------------------------------------------------------------


def test_the_guides_body_books_an_unassigned_appointment(api, doctor, clinic, patient):
    response = api(doctor).post(LIST_URL, guide_body(patient), format="json")

    assert response.status_code == 201, response.content
    body = response.json()
    assert set(body) == ANSWER_KEYS
    assert body["patient"] == {"id": patient.pk, "name": "Fatou Sall", "mrn": "A0000001"}
    assert body["provider"] is None
    assert body["appointment_date"] == "2025-12-15T10:00:00+00:00"  # Dakar is UTC+0 all year
    assert body["ends_at"] == "2025-12-15T10:30:00+00:00"
    assert body["duration_minutes"] == 30
    assert body["status"] == "scheduled"
    assert body["reason"] == "Check-up"
    assert body["created_by"] == doctor.pk
    assert body["cancelled_at"] is None
    assert body["outside_working_hours"] is False
    assert response["Location"] == detail_url(body["id"])

    with scopes_disabled():
        stored = Appointment.objects.get(pk=body["id"])
    assert stored.tenant == clinic
    assert stored.patient == patient
    assert stored.provider is None
    assert stored.appointment_date == datetime(2025, 12, 15, 10, 0, tzinfo=UTC)
    assert stored.ends_at == datetime(2025, 12, 15, 10, 30, tzinfo=UTC)
    assert stored.created_by == doctor


def test_the_guides_body_posted_again_and_again_is_accepted_every_time(api, doctor, patient):
    client = api(doctor)

    responses = [client.post(LIST_URL, guide_body(patient), format="json") for _ in range(3)]

    assert [r.status_code for r in responses] == [201, 201, 201]
    assert len({r.json()["id"] for r in responses}) == 3
    with scopes_disabled():
        assert Appointment.objects.filter(patient=patient).count() == 3


def test_a_naive_time_is_wall_clock_time_in_the_clinics_zone(api, paris_doctor, paris_patient):
    response = api(paris_doctor).post(LIST_URL, guide_body(paris_patient), format="json")

    assert response.status_code == 201, response.content
    body = response.json()
    # 10:00 in Paris in December (UTC+1) is 09:00 UTC, and the answer speaks Paris time.
    assert body["appointment_date"] == "2025-12-15T10:00:00+01:00"
    assert body["ends_at"] == "2025-12-15T10:30:00+01:00"
    with scopes_disabled():
        stored = Appointment.objects.get(pk=body["id"])
    assert stored.appointment_date == datetime(2025, 12, 15, 9, 0, tzinfo=UTC)


def test_a_naive_summer_time_uses_the_summer_offset(api, paris_doctor, paris_patient):
    response = book(api(paris_doctor), paris_patient, "2026-07-01T10:00:00")

    assert response.json()["appointment_date"] == "2026-07-01T10:00:00+02:00"
    with scopes_disabled():
        assert Appointment.objects.get().appointment_date == datetime(2026, 7, 1, 8, 0, tzinfo=UTC)


def test_a_time_with_an_offset_is_taken_as_given_and_answered_in_clinic_time(
    api, paris_doctor, paris_patient
):
    response = book(api(paris_doctor), paris_patient, "2025-12-15T10:00:00Z")

    assert response.json()["appointment_date"] == "2025-12-15T11:00:00+01:00"
    with scopes_disabled():
        assert Appointment.objects.get().appointment_date == datetime(2025, 12, 15, 10, 0, tzinfo=UTC)


def test_a_repeated_autumn_hour_is_its_first_occurrence_and_lasts_the_booked_duration(
    api, paris_doctor, paris_patient
):
    # 02:30 happens twice in Paris on 25 October 2026 (02:00-03:00 is repeated); the first one is
    # 00:30 UTC. A 30-minute visit ends 30 real minutes later, not at wall-clock 03:00.
    response = book(api(paris_doctor), paris_patient, "2026-10-25T02:30:00", provider=paris_doctor)

    assert response.status_code == 201, response.content
    with scopes_disabled():
        stored = Appointment.objects.get()
    assert stored.appointment_date == datetime(2026, 10, 25, 0, 30, tzinfo=UTC)
    assert stored.ends_at - stored.appointment_date == timedelta(minutes=30)
    assert response.json()["ends_at"] == "2026-10-25T02:00:00+01:00"


def test_a_visit_right_after_the_repeated_hour_does_not_clash_with_one_in_it(
    api, paris_doctor, paris_patient
):
    client = api(paris_doctor)
    first = book(client, paris_patient, "2026-10-25T02:30:00", provider=paris_doctor)  # 00:30-01:00 UTC

    second = book(client, paris_patient, "2026-10-25T02:00:00+01:00", provider=paris_doctor)  # 01:00 UTC

    assert (first.status_code, second.status_code) == (201, 201), second.content


# --- the answer -------------------------------------------------------------------------------


def test_an_assigned_appointment_names_its_provider(api, receptionist, doctor, patient):
    response = book(api(receptionist), patient, "2030-01-07T09:00:00", provider=doctor, duration=45)

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["provider"] == {"id": doctor.pk, "name": f"{doctor.first_name} {doctor.last_name}"}
    assert body["duration_minutes"] == 45
    assert body["ends_at"] == "2030-01-07T09:45:00+00:00"
    assert body["created_by"] == receptionist.pk
    with scopes_disabled():
        assert Appointment.objects.get().provider == doctor


def test_a_provider_without_a_name_is_named_by_username(api, staff_of, doctor, patient):
    nameless = staff_of(Role.NURSE, username="nurse.x", first_name="", last_name="")

    body = book(api(doctor), patient, "2030-01-07T09:00:00", provider=nameless).json()

    assert body["provider"] == {"id": nameless.pk, "name": "nurse.x"}


def test_notes_and_reason_are_stored(api, doctor, patient):
    response = book(api(doctor), patient, "2030-01-07T09:00:00", reason="Follow-up", notes="Fasting.")

    assert response.status_code == 201
    with scopes_disabled():
        stored = Appointment.objects.get()
    assert (stored.reason, stored.notes) == ("Follow-up", "Fasting.")


def test_the_tenant_comes_from_the_user_never_from_the_body(api, doctor, clinic, other_clinic, patient):
    response = api(doctor).post(LIST_URL, guide_body(patient, tenant_id=other_clinic.pk), format="json")

    assert response.status_code == 400
    with scopes_disabled():
        assert not Appointment.objects.filter(tenant=other_clinic).exists()


@pytest.mark.parametrize("role", list(Role))
def test_every_role_can_book(api, staff_of, patient, role):
    response = book(api(staff_of(role)), patient, "2030-01-07T09:00:00")

    assert response.status_code == 201, response.content
    with scopes_disabled():
        assert Appointment.objects.count() == 1


def test_anonymous_cannot_book(api, patient):
    response = api().post(LIST_URL, guide_body(patient), format="json")

    assert response.status_code == 401
    with scopes_disabled():
        assert Appointment.objects.count() == 0


# --- outside working hours --------------------------------------------------------------------

MONDAY = "2030-01-07"  # far in the future, so no test depends on today's date
SATURDAY = "2030-01-12"


@pytest.mark.parametrize(
    ("when", "duration", "outside"),
    [
        pytest.param(f"{MONDAY}T09:00:00", 30, False, id="inside"),
        pytest.param(f"{MONDAY}T08:00:00", 240, False, id="exactly-the-whole-morning"),
        pytest.param(f"{MONDAY}T07:30:00", 30, True, id="before-opening"),
        pytest.param(f"{MONDAY}T11:45:00", 30, True, id="runs-past-closing"),
        pytest.param(f"{MONDAY}T13:00:00", 30, True, id="afternoon"),
        pytest.param(f"{SATURDAY}T09:00:00", 30, True, id="weekend"),
    ],
)
def test_booking_outside_working_hours_is_allowed_but_flagged(
    api, doctor, patient, weekday_mornings, when, duration, outside
):
    weekday_mornings(doctor)

    response = book(api(doctor), patient, when, provider=doctor, duration=duration)

    assert response.status_code == 201, response.content
    assert response.json()["outside_working_hours"] is outside


def test_working_hours_are_clinic_time(api, paris_doctor, paris_patient, weekday_mornings):
    weekday_mornings(paris_doctor)
    client = api(paris_doctor)

    inside = book(client, paris_patient, f"{MONDAY}T08:00:00", provider=paris_doctor)  # 07:00 UTC
    # 11:30 UTC is 12:30 in Paris: after closing, though 11:30 would be inside in UTC.
    outside = book(client, paris_patient, f"{MONDAY}T11:30:00Z", provider=paris_doctor)

    assert inside.json()["outside_working_hours"] is False
    assert outside.json()["outside_working_hours"] is True


def test_time_off_counts_as_outside_working_hours(api, doctor, clinic, patient, weekday_mornings):
    weekday_mornings(doctor)
    TimeOff.objects.create(
        tenant=clinic,
        provider=doctor,
        starts_at=at(DAKAR, 2030, 1, 7, 10),
        ends_at=at(DAKAR, 2030, 1, 7, 11),
        reason="Training",
    )
    client = api(doctor)

    during = book(client, patient, f"{MONDAY}T10:30:00", provider=doctor)
    before = book(client, patient, f"{MONDAY}T09:00:00", provider=doctor)

    assert during.json()["outside_working_hours"] is True
    assert before.json()["outside_working_hours"] is False


def test_an_unassigned_appointment_is_never_flagged(api, doctor, patient, weekday_mornings):
    weekday_mornings(doctor)

    response = book(api(doctor), patient, f"{SATURDAY}T23:00:00")

    assert response.json()["outside_working_hours"] is False


def test_another_providers_hours_do_not_count(api, doctor, nurse, patient, weekday_mornings):
    weekday_mornings(nurse)

    response = book(api(doctor), patient, f"{MONDAY}T09:00:00", provider=doctor)

    assert response.json()["outside_working_hours"] is True


def test_rescheduling_answers_the_flag_for_the_new_time(api, doctor, patient, weekday_mornings):
    weekday_mornings(doctor)
    client = api(doctor)
    created = book(client, patient, f"{MONDAY}T09:00:00", provider=doctor).json()

    moved = client.patch(
        detail_url(created["id"]), {"appointment_date": f"{SATURDAY}T09:00:00"}, format="json"
    )

    assert created["outside_working_hours"] is False
    assert moved.status_code == 200
    assert moved.json()["outside_working_hours"] is True


def test_one_patient_may_have_many_appointments_with_different_providers(api, doctor, nurse, clinic, patient):
    client = api(doctor)
    other_patient = PatientFactory(tenant=clinic)

    responses = [
        book(client, patient, f"{MONDAY}T09:00:00", provider=doctor),
        book(client, patient, f"{MONDAY}T09:00:00", provider=nurse),
        book(client, other_patient, f"{MONDAY}T10:00:00", provider=doctor),
    ]

    assert [r.status_code for r in responses] == [201, 201, 201]
    with scopes_disabled():
        assert Appointment.objects.filter(status=AppointmentStatus.SCHEDULED).count() == 3
