"""The urgent-message email (keneyapp/core/emails.py says what an email may carry)."""

from django.core.mail import EmailMessage
from django.utils import formats, translation
from django.utils.translation import gettext

from keneyapp.core.clinic_time import clinic_zone
from keneyapp.core.emails import app_link, outgoing_email
from keneyapp.core.language import language_for
from messaging.models import Message


def urgent_message_email(message: Message) -> EmailMessage:
    """To the receiver of an urgent message, in their language (their setting, else their clinic's
    default): who sent it, when (clinic time), and the link to the app. Neither its subject nor its
    body nor its patient: they are read in the app. `message` has its sender, receiver and clinic
    joined."""
    receiver = message.receiver
    with translation.override(language_for(receiver, clinic=message.tenant)):
        sender = message.sender.get_full_name() or message.sender.username
        zone = clinic_zone(message.tenant)
        sent_at = message.created_at.astimezone(zone)
        values = {
            "clinic": message.tenant.name,
            "sender": sender,
            # The language's names of days and months (formats.date_format), not the C locale's.
            "date": formats.date_format(sent_at, "l j F Y"),
            "time": formats.time_format(sent_at, "H:i"),
            "zone": zone.key,
            "link": app_link(),
        }
        return outgoing_email(
            to=receiver.email,
            subject=gettext("[%(clinic)s] Urgent message from %(sender)s") % values,
            body=gettext(
                "%(sender)s sent you an urgent message on %(date)s at %(time)s (%(zone)s).\n\n"
                "Sign in to KeneyApp to read it: %(link)s\n"
            )
            % values,
        )
