"""Two reminder runs at the same moment (two workers, or beat firing while a run is slow) never
remind an appointment twice: each reminder is claimed by one conditional UPDATE before it is sent,
and the database lets one run's claim win. Only PostgreSQL runs real parallel connections here
(SQLite serialises writers)."""

import time
from collections import Counter
from datetime import timedelta
from functools import partial

import pytest
from django.core.mail import EmailMessage
from django.db import connection
from django.utils import timezone

from appointments.models import Appointment
from appointments.reminders import send_due_reminders
from keneyapp.core.scoping import scopes_disabled
from tests.concurrency import run_at_once
from tests.factories import AppointmentFactory, PatientFactory

from .conftest import recipients

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL (parallel connections)"),
]

ROUNDS = 3
PER_ROUND = 250


def run_together(count: int, now) -> list:
    """Start `count` send_due_reminders runs released at once, each in its own thread and database
    connection; return their ReminderRun results (selecting due reminders spans clinics)."""
    return run_at_once([partial(send_due_reminders, now=now)] * count, timeout=120, barrier_timeout=10)


@pytest.fixture
def slow_smtp(monkeypatch):
    """Each email takes a millisecond, as over a real SMTP session: a run holds its chunk for a
    while, so the two runs really do overlap."""
    original_send = EmailMessage.send

    def send(self, fail_silently=False):
        time.sleep(0.001)
        return original_send(self, fail_silently=fail_silently)

    monkeypatch.setattr(EmailMessage, "send", send)


def test_two_simultaneous_runs_remind_each_appointment_exactly_once(clinic, mailoutbox, slow_smtp):
    now = timezone.now()
    patients = PatientFactory.create_batch(PER_ROUND, tenant=clinic)
    due_ids = []
    for round_number in range(ROUNDS):
        # Fresh due appointments for this round; earlier rounds' are already reminded.
        first = timedelta(hours=1 + round_number * 6)
        due_ids += [
            AppointmentFactory(
                tenant=clinic, patient=patient, appointment_date=now + first + timedelta(minutes=n)
            ).pk
            for n, patient in enumerate(patients)
        ]
        mailoutbox.clear()

        results = run_together(2, now)

        assert sum(r.sent for r in results) == PER_ROUND, results
        assert sum(r.failed for r in results) == 0
        assert len(mailoutbox) == PER_ROUND
        assert set(Counter(recipients(mailoutbox)).values()) == {1}
        assert Counter(recipients(mailoutbox)) == Counter(p.email for p in patients)

    with scopes_disabled():
        assert Appointment.objects.filter(pk__in=due_ids, reminder_sent_at__isnull=True).count() == 0
        assert Appointment.objects.filter(pk__in=due_ids).count() == ROUNDS * PER_ROUND


def test_many_simultaneous_runs_still_send_each_reminder_once(clinic, mailoutbox, slow_smtp):
    now = timezone.now()
    due = [
        AppointmentFactory(tenant=clinic, appointment_date=now + timedelta(minutes=10 + n))
        for n in range(PER_ROUND)
    ]

    results = run_together(4, now)

    assert sum(r.sent for r in results) == PER_ROUND
    assert Counter(recipients(mailoutbox)) == Counter(a.patient.email for a in due)
    with scopes_disabled():
        assert not Appointment.objects.filter(reminder_sent_at__isnull=True).exists()
