"""The appointment reminder email (keneyapp/core/emails.py says what an email may carry)."""

from django.core.mail import EmailMessage

from appointments.models import Appointment
from keneyapp.core.clinic_time import clinic_zone
from keneyapp.core.emails import app_link, outgoing_email


def reminder_email(appointment: Appointment) -> EmailMessage:
    """To the patient: the clinic and the time (clinic time) of their appointment, and the link.

    Not the reason or the notes, not the patient's name (a mailbox is not always its owner's
    alone), not the provider's name (it can tell a specialty, and so a condition).
    `appointment` has its patient and clinic joined."""
    zone = clinic_zone(appointment.tenant)
    starts = appointment.appointment_date.astimezone(zone)
    clinic = appointment.tenant.name
    return outgoing_email(
        to=appointment.patient.email,
        subject=f"Reminder: your appointment at {clinic} on {starts:%d %B at %H:%M}",
        body=(
            "Hello,\n\n"
            f"This is a reminder of your appointment at {clinic} "
            f"on {starts:%A %d %B %Y at %H:%M} ({zone.key}).\n\n"
            "If you cannot come, please call the clinic so that someone else can have the slot.\n\n"
            f"KeneyApp: {app_link()}\n"
        ),
    )
