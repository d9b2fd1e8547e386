"""What every email the app sends has in common: it leaves the clinic's systems.

Mail crosses servers the clinic does not run and sits in inboxes it does not control, so an email
says who it is from, when, and where to look, and nothing else: no subject or body of a message,
no reason or notes of an appointment, no diagnosis, no patient's name. The reader follows the
link and signs in to see the rest. Each kind of email is built by one function (messaging/emails.py,
appointments/emails.py), each tested for what it must and must not carry.
"""

from django.conf import settings
from django.core.mail import EmailMessage


def app_link(path: str = "") -> str:
    """The app's public address (APP_BASE_URL), with `path` appended."""
    return settings.APP_BASE_URL.rstrip("/") + "/" + path.lstrip("/")


def outgoing_email(*, to: str, subject: str, body: str) -> EmailMessage:
    """One email to one address, from DEFAULT_FROM_EMAIL: no copies, nobody else's address."""
    return EmailMessage(subject=subject, body=body, from_email=settings.DEFAULT_FROM_EMAIL, to=[to])
