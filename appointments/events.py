"""The live events of appointments, sent to every staff socket of the clinic (calendars), which
fetch the details from the API (declared shapes: keneyapp.core.events)."""

from typing import Literal, TypedDict

from appointments.models import Appointment
from keneyapp.core.events import event_shape

AppointmentEventType = Literal["appointment.created", "appointment.updated"]


class AppointmentSummary(TypedDict):
    id: int
    patient_id: int
    provider_id: int | None
    appointment_date: str
    ends_at: str
    status: str


@event_shape
class AppointmentChanged(TypedDict):
    type: Literal["appointment.created", "appointment.updated"]
    appointment: AppointmentSummary


def appointment_changed(appointment: Appointment, event_type: AppointmentEventType) -> AppointmentChanged:
    return AppointmentChanged(
        type=event_type,
        appointment=AppointmentSummary(
            id=appointment.pk,
            patient_id=appointment.patient_id,
            provider_id=appointment.provider_id,
            appointment_date=appointment.appointment_date.isoformat(),
            ends_at=appointment.ends_at.isoformat(),
            status=appointment.status,
        ),
    )
