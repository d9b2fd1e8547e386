"""A run killed in the middle of a chunk (its worker SIGKILLed, the host lost) keeps the marks of
the reminders it sent: the next runs send only what it had not, each once. In-process, the kill
stands in as an exception no handler catches, raised inside the second email's send; the same
with a real worker process killed mid-send: tests/faults/test_killed_worker.py."""

from collections import Counter
from datetime import timedelta

import pytest
from django.core.mail import EmailMessage
from django.utils import timezone

from appointments.models import Appointment
from appointments.reminders import send_due_reminders
from keneyapp.core.scoping import scopes_disabled

from .conftest import NOW, recipients

pytestmark = pytest.mark.django_db


class Killed(BaseException):
    """What the process sees of a SIGKILL, as near as a test can: nothing after it runs."""


def test_a_run_killed_mid_chunk_sends_each_reminder_once_over_the_next_runs(
    clinic, book_due, mailoutbox, monkeypatch, settings
):
    first, second, third = book_due(clinic, 3)
    original_send = EmailMessage.send

    def killed_at_the_second(self, fail_silently=False):
        if self.to == [second.patient.email]:
            raise Killed
        return original_send(self, fail_silently=fail_silently)

    monkeypatch.setattr(EmailMessage, "send", killed_at_the_second)
    with pytest.raises(Killed):
        send_due_reminders(now=NOW)
    assert recipients(mailoutbox) == [first.patient.email]
    with scopes_disabled():
        state = {a.pk: (a.reminder_sent_at, a.reminder_claimed_at) for a in Appointment.objects.all()}
    assert state[first.pk][0] == NOW  # sent before the kill: marked, never sent again
    assert state[second.pk][0] is None and state[second.pk][1] is not None  # in flight: its claim stays
    assert state[third.pk] == (None, None)

    # The task is redelivered at once: it sends what nobody claimed, not the one claimed by the
    # dead worker (it may be in its SMTP server's hands already).
    monkeypatch.setattr(EmailMessage, "send", original_send)
    send_due_reminders(now=NOW)
    assert Counter(recipients(mailoutbox)) == Counter([first.patient.email, third.patient.email])

    # The dead claim expires: the next run sends that one too.
    with scopes_disabled():
        Appointment.objects.filter(pk=second.pk).update(
            reminder_claimed_at=timezone.now() - timedelta(seconds=settings.REMINDER_CLAIM_SECONDS + 1)
        )
    send_due_reminders(now=NOW)
    send_due_reminders(now=NOW)
    assert Counter(recipients(mailoutbox)) == Counter(a.patient.email for a in (first, second, third))
