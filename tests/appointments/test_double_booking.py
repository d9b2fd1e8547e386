"""A provider never holds two overlapping appointments that still hold their time (the booking
service on every database; see test_concurrency.py for races and the PostgreSQL constraint)."""

import pytest

from appointments.models import Appointment, AppointmentStatus
from keneyapp.core.scoping import scopes_disabled
from tests.factories import AppointmentFactory

from .helpers import DAKAR, assert_error, at, book, detail_url, snapshot

MONDAY_9 = at(DAKAR, 2030, 1, 7, 9)  # 09:00-09:30 in Dakar (UTC+0)


@pytest.fixture
def booked(clinic, doctor, patient):
    """The doctor's 09:00-09:30 appointment on Monday 7 January 2030."""
    return AppointmentFactory(tenant=clinic, patient=patient, provider=doctor, appointment_date=MONDAY_9)


def assert_double_booking(response, clash: Appointment) -> None:
    body = assert_error(response, 409, code="double_booking")
    assert body["conflicting_appointment"] == {
        "id": clash.pk,
        "appointment_date": clash.appointment_date.astimezone(DAKAR).isoformat(),
        "ends_at": clash.ends_at.astimezone(DAKAR).isoformat(),
    }


@pytest.mark.parametrize(
    ("when", "duration"),
    [
        pytest.param("2030-01-07T09:00:00", 30, id="same-slot"),
        pytest.param("2030-01-07T09:15:00", 30, id="starts-inside"),
        pytest.param("2030-01-07T08:45:00", 30, id="ends-inside"),
        pytest.param("2030-01-07T08:00:00", 120, id="surrounds"),
        pytest.param("2030-01-07T09:10:00", 5, id="inside"),
        pytest.param("2030-01-07T08:59:00", 5, id="by-four-minutes"),
    ],
)
def test_an_overlapping_booking_is_a_409_naming_the_appointment_it_clashes_with(
    api, doctor, patient, booked, when, duration
):
    response = book(api(doctor), patient, when, provider=doctor, duration=duration)

    assert_double_booking(response, booked)
    with scopes_disabled():
        assert list(Appointment.objects.values_list("pk", flat=True)) == [booked.pk]


def test_the_conflict_is_answered_in_clinic_time(api, paris_doctor, paris_patient):
    client = api(paris_doctor)
    first = book(client, paris_patient, "2030-01-07T09:00:00", provider=paris_doctor).json()

    response = book(client, paris_patient, "2030-01-07T09:15:00", provider=paris_doctor)

    body = assert_error(response, 409, code="double_booking")
    assert body["conflicting_appointment"] == {
        "id": first["id"],
        "appointment_date": "2030-01-07T09:00:00+01:00",
        "ends_at": "2030-01-07T09:30:00+01:00",
    }


@pytest.mark.parametrize(
    ("when", "duration"),
    [
        pytest.param("2030-01-07T09:30:00", 30, id="starts-when-it-ends"),
        pytest.param("2030-01-07T08:30:00", 30, id="ends-when-it-starts"),
    ],
)
def test_adjacent_appointments_do_not_clash(api, doctor, patient, booked, when, duration):
    response = book(api(doctor), patient, when, provider=doctor, duration=duration)

    assert response.status_code == 201, response.content
    with scopes_disabled():
        assert Appointment.objects.count() == 2


@pytest.mark.parametrize("released", [AppointmentStatus.CANCELLED, AppointmentStatus.NO_SHOW])
def test_cancelled_and_missed_appointments_free_their_time(api, clinic, doctor, patient, booked, released):
    booked.status = released
    booked.save(update_fields=["status"])

    response = book(api(doctor), patient, "2030-01-07T09:00:00", provider=doctor)

    assert response.status_code == 201, response.content


@pytest.mark.parametrize(
    "holding", [AppointmentStatus.CONFIRMED, AppointmentStatus.CHECKED_IN, AppointmentStatus.COMPLETED]
)
def test_confirmed_checked_in_and_completed_appointments_still_hold_their_time(
    api, doctor, patient, booked, holding
):
    booked.status = holding
    booked.save(update_fields=["status"])

    response = book(api(doctor), patient, "2030-01-07T09:00:00", provider=doctor)

    assert_double_booking(response, booked)


def test_different_providers_do_not_clash(api, doctor, nurse, patient, booked):
    response = book(api(doctor), patient, "2030-01-07T09:00:00", provider=nurse)

    assert response.status_code == 201, response.content


def test_unassigned_appointments_never_clash(api, doctor, patient, booked):
    client = api(doctor)

    responses = [book(client, patient, "2030-01-07T09:00:00") for _ in range(2)]

    assert [r.status_code for r in responses] == [201, 201]


def test_another_clinics_provider_calendar_is_not_ours(api, outsider, other_clinic, doctor, patient):
    AppointmentFactory(tenant=other_clinic, provider=outsider, appointment_date=MONDAY_9)

    response = book(api(doctor), patient, "2030-01-07T09:00:00", provider=doctor)

    assert response.status_code == 201


# --- rescheduling into an overlap -------------------------------------------------------------


@pytest.fixture
def later(clinic, doctor, patient):
    """The doctor's 10:00-10:30 appointment, the same morning as `booked`."""
    return AppointmentFactory(
        tenant=clinic, patient=patient, provider=doctor, appointment_date=at(DAKAR, 2030, 1, 7, 10)
    )


@pytest.mark.parametrize(
    "changes",
    [
        pytest.param({"appointment_date": "2030-01-07T09:15:00"}, id="moved-onto-it"),
        pytest.param({"duration_minutes": 30, "appointment_date": "2030-01-07T08:45:00"}, id="moved-into-it"),
    ],
)
def test_rescheduling_into_an_overlap_is_a_409_and_changes_nothing(api, doctor, booked, later, changes):
    before = snapshot(later)

    response = api(doctor).patch(detail_url(later), changes, format="json")

    assert_double_booking(response, booked)
    assert snapshot(later) == before


def test_lengthening_into_the_next_appointment_is_a_409_and_changes_nothing(api, doctor, booked, later):
    before = snapshot(booked)

    response = api(doctor).patch(detail_url(booked), {"duration_minutes": 90}, format="json")

    assert_double_booking(response, later)
    assert snapshot(booked) == before


def test_reassigning_to_a_busy_provider_is_a_409_and_changes_nothing(
    api, clinic, doctor, nurse, patient, booked
):
    nurses = AppointmentFactory(tenant=clinic, patient=patient, provider=nurse, appointment_date=MONDAY_9)
    before = snapshot(nurses)

    response = api(doctor).patch(detail_url(nurses), {"provider_id": doctor.pk}, format="json")

    assert_double_booking(response, booked)
    assert snapshot(nurses) == before


def test_assigning_an_unassigned_request_to_a_busy_provider_is_a_409(api, clinic, doctor, patient, booked):
    request = AppointmentFactory(tenant=clinic, patient=patient, appointment_date=MONDAY_9)
    before = snapshot(request)

    response = api(doctor).patch(detail_url(request), {"provider_id": doctor.pk}, format="json")

    assert_double_booking(response, booked)
    assert snapshot(request) == before


def test_an_appointment_does_not_clash_with_itself(api, doctor, booked):
    response = api(doctor).patch(
        detail_url(booked), {"appointment_date": "2030-01-07T09:10:00", "duration_minutes": 15}, format="json"
    )

    assert response.status_code == 200, response.content
    booked.refresh_from_db()
    assert booked.appointment_date == at(DAKAR, 2030, 1, 7, 9, 10)
    assert booked.ends_at == at(DAKAR, 2030, 1, 7, 9, 25)


def test_rescheduling_to_a_free_time_moves_the_appointment_and_its_end(api, doctor, booked, later):
    response = api(doctor).patch(
        detail_url(later), {"appointment_date": "2030-01-07T11:00:00"}, format="json"
    )

    assert response.status_code == 200, response.content
    assert response.json()["appointment_date"] == "2030-01-07T11:00:00+00:00"
    assert response.json()["ends_at"] == "2030-01-07T11:30:00+00:00"
    later.refresh_from_db()
    assert (later.appointment_date, later.ends_at) == (
        at(DAKAR, 2030, 1, 7, 11),
        at(DAKAR, 2030, 1, 7, 11, 30),
    )


def test_reactivating_a_slot_is_refused_once_it_is_cancelled(api, doctor, patient, booked):
    # A cancelled appointment is history: its slot can be rebooked, and the cancelled one cannot
    # come back to clash with the new booking.
    client = api(doctor)
    client.post(f"{detail_url(booked)}/cancel", {"reason": "Patient called"}, format="json")
    rebooked = book(client, patient, "2030-01-07T09:00:00", provider=doctor)

    response = client.patch(detail_url(booked), {"status": "scheduled"}, format="json")

    assert rebooked.status_code == 201
    assert_error(response, 409, code="invalid_status_transition")
    with scopes_disabled():
        assert Appointment.objects.get(pk=booked.pk).status == AppointmentStatus.CANCELLED
