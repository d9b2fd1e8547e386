"""Status changes follow appointments.status_rules.ALLOWED_TRANSITIONS; who may make them follows
the roles table (a receptionist books, reschedules and cancels; only clinical staff complete)."""

import itertools

import pytest
from django.utils import timezone

from appointments.models import Appointment, AppointmentStatus
from appointments.status_rules import ALLOWED_TRANSITIONS
from keneyapp.accounts.roles import Role
from keneyapp.core.scoping import scopes_disabled
from tests.factories import AppointmentFactory

from .helpers import DAKAR, assert_error, at, book, cancel_url, detail_url, snapshot

STATUSES = [status.value for status in AppointmentStatus]
FINAL = [AppointmentStatus.COMPLETED, AppointmentStatus.CANCELLED, AppointmentStatus.NO_SHOW]
ALLOWED = [(current, target) for current, targets in ALLOWED_TRANSITIONS.items() for target in targets]
REFUSED = [
    (current, target)
    for current, target in itertools.permutations(STATUSES, 2)
    if target not in ALLOWED_TRANSITIONS[current]
]


@pytest.fixture
def make_appointment(clinic, doctor, patient):
    def make(status=AppointmentStatus.SCHEDULED, **fields):
        fields.setdefault("appointment_date", at(DAKAR, 2030, 1, 7, 9))
        return AppointmentFactory(tenant=clinic, patient=patient, provider=doctor, status=status, **fields)

    return make


def patch(client, appointment, body):
    return client.patch(detail_url(appointment), body, format="json")


# --- the table ----------------------------------------------------------------------------------


def test_the_table_covers_every_status():
    assert set(ALLOWED_TRANSITIONS) == set(STATUSES)
    assert len(ALLOWED) + len(REFUSED) == len(STATUSES) * (len(STATUSES) - 1)


@pytest.mark.parametrize(("current", "target"), ALLOWED)
def test_every_allowed_transition_is_accepted(api, doctor, make_appointment, current, target):
    appointment = make_appointment(current)

    response = patch(api(doctor), appointment, {"status": target})

    assert response.status_code == 200, response.content
    assert response.json()["status"] == target
    appointment.refresh_from_db()
    assert appointment.status == target
    assert (appointment.cancelled_at is not None) == (target == AppointmentStatus.CANCELLED)


@pytest.mark.parametrize(("current", "target"), REFUSED)
def test_every_other_transition_is_a_409_and_changes_nothing(api, doctor, make_appointment, current, target):
    appointment = make_appointment(current)
    before = snapshot(appointment)

    response = patch(api(doctor), appointment, {"status": target})

    body = assert_error(response, 409, code="invalid_status_transition")
    assert (body["current_status"], body["requested_status"]) == (current, target)
    assert snapshot(appointment) == before


@pytest.mark.parametrize(
    ("current", "target", "allowed"),
    [
        ("completed", "scheduled", False),
        ("cancelled", "scheduled", False),
        ("no_show", "checked_in", False),
        ("checked_in", "scheduled", False),
        ("checked_in", "confirmed", False),
        ("scheduled", "confirmed", True),
        ("confirmed", "checked_in", True),
        ("checked_in", "completed", True),
        ("scheduled", "no_show", True),
    ],
)
def test_named_facts_of_the_table(current, target, allowed):
    assert (target in ALLOWED_TRANSITIONS[current]) is allowed


@pytest.mark.parametrize("status", STATUSES)
def test_setting_the_current_status_again_changes_nothing(api, doctor, make_appointment, status):
    appointment = make_appointment(status)
    before = snapshot(appointment)

    response = patch(api(doctor), appointment, {"status": status})

    assert response.status_code == 200, response.content
    after = snapshot(appointment)
    assert {k: v for k, v in after.items() if k != "updated_at"} == {
        k: v for k, v in before.items() if k != "updated_at"
    }


def test_an_unknown_status_is_a_400_and_changes_nothing(api, doctor, make_appointment):
    appointment = make_appointment()
    before = snapshot(appointment)

    response = patch(api(doctor), appointment, {"status": "done"})

    assert_error(response, 400, fields=("status",))
    assert snapshot(appointment) == before


# --- roles ------------------------------------------------------------------------------------


def test_a_receptionist_books_reschedules_and_cancels(api, receptionist, doctor, patient):
    client = api(receptionist)

    booked = book(client, patient, "2030-01-07T09:00:00", provider=doctor)
    moved = patch(client, booked.json()["id"], {"appointment_date": "2030-01-07T10:00:00"})
    confirmed = patch(client, booked.json()["id"], {"status": "confirmed"})
    cancelled = client.post(cancel_url(booked.json()["id"]), {"reason": "Patient travelling"}, format="json")

    assert [booked.status_code, moved.status_code, confirmed.status_code, cancelled.status_code] == [
        201,
        200,
        200,
        200,
    ]
    with scopes_disabled():
        stored = Appointment.objects.get()
    assert stored.appointment_date == at(DAKAR, 2030, 1, 7, 10)
    assert stored.status == AppointmentStatus.CANCELLED
    assert stored.cancellation_reason == "Patient travelling"


@pytest.mark.parametrize("role", [Role.RECEPTIONIST, Role.ADMIN])
@pytest.mark.parametrize("current", [AppointmentStatus.SCHEDULED, AppointmentStatus.CHECKED_IN])
def test_only_clinical_staff_mark_an_appointment_completed(api, staff_of, make_appointment, role, current):
    appointment = make_appointment(current)
    before = snapshot(appointment)

    response = patch(api(staff_of(role)), appointment, {"status": "completed"})

    assert_error(response, 403, code="permission_denied")
    assert snapshot(appointment) == before


@pytest.mark.parametrize("role", [Role.DOCTOR, Role.NURSE])
def test_doctors_and_nurses_mark_an_appointment_completed(api, staff_of, make_appointment, role):
    appointment = make_appointment(AppointmentStatus.CHECKED_IN)

    response = patch(api(staff_of(role)), appointment, {"status": "completed"})

    assert response.status_code == 200, response.content
    appointment.refresh_from_db()
    assert appointment.status == AppointmentStatus.COMPLETED


def test_a_forbidden_transition_is_a_409_even_for_a_role_that_may_not_make_it(
    api, receptionist, make_appointment
):
    # The state is checked first: nothing can complete a cancelled visit, whoever asks.
    appointment = make_appointment(AppointmentStatus.CANCELLED)

    response = patch(api(receptionist), appointment, {"status": "completed"})

    assert_error(response, 409, code="invalid_status_transition")


@pytest.mark.parametrize("role", list(Role))
@pytest.mark.parametrize("target", ["confirmed", "checked_in", "no_show", "cancelled"])
def test_every_role_confirms_checks_in_marks_no_show_and_cancels(
    api, staff_of, make_appointment, role, target
):
    appointment = make_appointment()

    response = patch(api(staff_of(role)), appointment, {"status": target})

    assert response.status_code == 200, response.content
    with scopes_disabled():
        assert Appointment.objects.get(pk=appointment.pk).status == target


# --- cancel -----------------------------------------------------------------------------------


def test_cancel_records_when_and_why(api, receptionist, make_appointment):
    appointment = make_appointment()
    before = timezone.now()

    response = api(receptionist).post(cancel_url(appointment), {"reason": "Patient unwell"}, format="json")

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["status"] == "cancelled"
    assert body["cancellation_reason"] == "Patient unwell"
    assert body["cancelled_at"] is not None
    appointment.refresh_from_db()
    assert appointment.status == AppointmentStatus.CANCELLED
    assert appointment.cancellation_reason == "Patient unwell"
    assert before <= appointment.cancelled_at <= timezone.now()


def test_cancelling_twice_is_idempotent(api, receptionist, make_appointment):
    appointment = make_appointment()
    client = api(receptionist)
    client.post(cancel_url(appointment), {"reason": "First call"}, format="json")
    first = snapshot(appointment)

    again = client.post(cancel_url(appointment), {"reason": "Second call"}, format="json")

    assert again.status_code == 200, again.content
    assert again.json()["status"] == "cancelled"
    assert again.json()["cancellation_reason"] == "First call"
    assert snapshot(appointment) == first


@pytest.mark.parametrize("current", [AppointmentStatus.COMPLETED, AppointmentStatus.NO_SHOW])
def test_a_finished_or_missed_visit_cannot_be_cancelled(api, doctor, make_appointment, current):
    appointment = make_appointment(current)
    before = snapshot(appointment)

    response = api(doctor).post(cancel_url(appointment), {"reason": "Oops"}, format="json")

    assert_error(response, 409, code="invalid_status_transition")
    assert snapshot(appointment) == before


@pytest.mark.parametrize(
    "body",
    [
        pytest.param({}, id="no-reason"),
        pytest.param({"reason": ""}, id="blank-reason"),
        pytest.param({"reason": "a" * 256}, id="reason-too-long"),
        pytest.param({"reason": "ok", "status": "scheduled"}, id="extra-field"),
    ],
)
def test_cancel_needs_a_reason_and_nothing_else(api, doctor, make_appointment, body):
    appointment = make_appointment()
    before = snapshot(appointment)

    response = api(doctor).post(cancel_url(appointment), body, format="json")

    assert_error(response, 400, code="validation_error")
    assert snapshot(appointment) == before


def test_cancelling_by_patch_takes_a_reason_too(api, doctor, make_appointment):
    appointment = make_appointment()

    response = patch(api(doctor), appointment, {"status": "cancelled", "cancellation_reason": "Rain"})

    assert response.status_code == 200, response.content
    appointment.refresh_from_db()
    assert (appointment.status, appointment.cancellation_reason) == ("cancelled", "Rain")
    assert appointment.cancelled_at is not None


def test_a_cancellation_reason_without_cancelling_is_a_400(api, doctor, make_appointment):
    appointment = make_appointment()
    before = snapshot(appointment)

    response = patch(api(doctor), appointment, {"status": "confirmed", "cancellation_reason": "Rain"})

    assert_error(response, 400, fields=("cancellation_reason",))
    assert snapshot(appointment) == before


# --- final appointments -----------------------------------------------------------------------


@pytest.mark.parametrize("final", FINAL)
@pytest.mark.parametrize(
    "changes",
    [
        pytest.param({"appointment_date": "2030-01-08T09:00:00"}, id="date"),
        pytest.param({"duration_minutes": 60}, id="duration"),
        pytest.param({"provider_id": None}, id="provider"),
        pytest.param({"reason": "Another reason"}, id="reason"),
    ],
)
def test_a_final_appointment_cannot_be_rescheduled(api, doctor, make_appointment, final, changes):
    appointment = make_appointment(final)
    before = snapshot(appointment)

    response = patch(api(doctor), appointment, changes)

    body = assert_error(response, 409, code="appointment_closed")
    assert body["current_status"] == final
    assert snapshot(appointment) == before


@pytest.mark.parametrize("final", FINAL)
def test_a_final_appointments_notes_can_still_change(api, nurse, make_appointment, final):
    # A nurse: visit notes are clinical text (a receptionist's write is 403, tests/test_field_rules.py).
    appointment = make_appointment(final)

    response = patch(api(nurse), appointment, {"notes": "Results sent by post."})

    assert response.status_code == 200, response.content
    appointment.refresh_from_db()
    assert appointment.notes == "Results sent by post."
    assert appointment.status == final


def test_a_completed_appointments_notes_stay_editable_next_to_a_later_booking(api, doctor, make_appointment):
    # Notes written after the visit must not trip over the provider's other appointments.
    completed = make_appointment(AppointmentStatus.COMPLETED)
    make_appointment(appointment_date=at(DAKAR, 2030, 1, 7, 9, 30))

    response = patch(api(doctor), completed, {"notes": "Seen."})

    assert response.status_code == 200, response.content
