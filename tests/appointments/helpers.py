"""Helpers for the appointments API tests: the URLs, bodies, the error shape, and snapshots."""

from datetime import datetime
from zoneinfo import ZoneInfo

from appointments.models import Appointment
from keneyapp.core.scoping import scopes_disabled
from tests.error_shape import assert_error as assert_error  # re-exported for this folder's tests

LIST_URL = "/api/v1/appointments"
AVAILABILITY_URL = "/api/v1/appointments/availability"
DAKAR = ZoneInfo("Africa/Dakar")
PARIS = ZoneInfo("Europe/Paris")

# The performance guide's load-test body (its patient id replaced by one of ours).
GUIDE_DATE = "2025-12-15T10:00:00"


def detail_url(appointment_or_id) -> str:
    return f"{LIST_URL}/{getattr(appointment_or_id, 'pk', appointment_or_id)}"


def cancel_url(appointment_or_id) -> str:
    return f"{detail_url(appointment_or_id)}/cancel"


def patient_appointments_url(patient_or_id) -> str:
    return f"/api/v1/patients/{getattr(patient_or_id, 'pk', patient_or_id)}/appointments"


def guide_body(patient, **overrides) -> dict:
    body = {"patient_id": patient.pk, "appointment_date": GUIDE_DATE, "reason": "Check-up"}
    body.update(overrides)
    return body


def book(client, patient, when: str, *, provider=None, duration: int | None = None, **extra):
    """POST an appointment at `when` (ISO, naive = clinic time)."""
    body = {"patient_id": patient.pk, "appointment_date": when, **extra}
    if provider is not None:
        body["provider_id"] = provider.pk
    if duration is not None:
        body["duration_minutes"] = duration
    return client.post(LIST_URL, body, format="json")


def at(zone: ZoneInfo, *args) -> datetime:
    """An aware datetime: at(DAKAR, 2030, 1, 7, 9) is 09:00 clinic time on 7 January 2030."""
    return datetime(*args, tzinfo=zone)


def field_codes(body: dict, field: str) -> set[str]:
    return {problem["code"] for problem in body["fields"][field]}


def snapshot(appointment: Appointment) -> dict:
    """Every column of the appointment's row as stored, to prove a refused request changed nothing."""
    with scopes_disabled():
        return Appointment.objects.filter(pk=appointment.pk).values().get()


# Keys of an appointment in a list or detail answer; bookings add "outside_working_hours".
ITEM_KEYS = {
    "id", "patient", "provider", "appointment_date", "ends_at", "duration_minutes", "status", "reason",
    "notes", "created_by", "cancelled_at", "cancellation_reason", "reminder_sent_at", "created_at",
    "updated_at",
}  # fmt: skip
