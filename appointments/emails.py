"""The appointment reminder email (keneyapp/core/emails.py says what an email may carry)."""

from django.core.mail import EmailMessage
from django.utils import translation
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from appointments.models import Appointment
from keneyapp.core.clinic_time import clinic_zone
from keneyapp.core.emails import app_link, outgoing_email
from keneyapp.core.language import language_for


def reminder_language(appointment: Appointment) -> str:
    """The patient's language (language_for): a patient has no setting of their own, so their
    clinic's default (the one its front desk speaks to them), else English."""
    return language_for(appointment.patient, clinic=appointment.tenant)


def reminder_email(appointment: Appointment) -> EmailMessage:
    """To the patient: the clinic and the time (clinic time) of their appointment, and the link.

    Not the reason or the notes, not the patient's name (a mailbox is not always its owner's
    alone), not the provider's name (it can tell a specialty, and so a condition).
    `appointment` has its patient and clinic joined. Written in reminder_language(appointment),
    day and month names included (Django's date formats, not strftime's C locale)."""
    zone = clinic_zone(appointment.tenant)
    starts = appointment.appointment_date.astimezone(zone)
    clinic = appointment.tenant.name
    with translation.override(reminder_language(appointment)):
        time = date_format(starts, "H:i")
        subject = _("Reminder: your appointment at %(clinic)s on %(day)s at %(time)s") % {
            "clinic": clinic,
            "day": date_format(starts, "j F"),
            "time": time,
        }
        body = (
            _("Hello,")
            + "\n\n"
            + _("This is a reminder of your appointment at %(clinic)s on %(day)s at %(time)s (%(zone)s).")
            % {"clinic": clinic, "day": date_format(starts, "l j F Y"), "time": time, "zone": zone.key}
            + "\n\n"
            + _("If you cannot come, please call the clinic so that someone else can have the slot.")
            + "\n\n"
            + f"KeneyApp: {app_link()}\n"
        )
    return outgoing_email(to=appointment.patient.email, subject=subject, body=body)
