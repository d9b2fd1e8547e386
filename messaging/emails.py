"""The urgent-message email (keneyapp/core/emails.py says what an email may carry)."""

from django.core.mail import EmailMessage

from keneyapp.core.clinic_time import clinic_zone
from keneyapp.core.emails import app_link, outgoing_email
from messaging.models import Message


def urgent_message_email(message: Message) -> EmailMessage:
    """To the receiver of an urgent message: who sent it, when (clinic time), and the link to
    the app. Neither its subject nor its body nor its patient: they are read in the app.
    `message` has its sender, receiver and clinic joined."""
    sender = message.sender.get_full_name() or message.sender.username
    zone = clinic_zone(message.tenant)
    sent_at = message.created_at.astimezone(zone)
    return outgoing_email(
        to=message.receiver.email,
        subject=f"[{message.tenant.name}] Urgent message from {sender}",
        body=(
            f"{sender} sent you an urgent message on {sent_at:%A %d %B %Y at %H:%M} ({zone.key}).\n\n"
            f"Sign in to KeneyApp to read it: {app_link()}\n"
        ),
    )
