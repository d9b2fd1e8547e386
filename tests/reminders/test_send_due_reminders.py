"""send_due_reminders: each appointment starting within the window is reminded once, by email, in
chunks of 100 read with one query each."""

from collections import Counter
from datetime import timedelta

import pytest
from django.core.mail import EmailMessage
from django.db import connection
from django.test.utils import CaptureQueriesContext

from appointments.models import Appointment, AppointmentStatus
from appointments.reminders import CHUNK_SIZE, ReminderRun, send_due_reminders, send_reminder_chunk
from keneyapp.accounts.roles import Role
from keneyapp.core.scoping import scopes_disabled
from tests.factories import PatientFactory, TenantFactory, UserFactory

from .conftest import NOW, recipients

pytestmark = pytest.mark.django_db


def test_250_due_appointments_are_sent_in_3_chunks_each_once(clinic, book_due, mailoutbox):
    due = book_due(clinic, 250)

    run = send_due_reminders(now=NOW)

    assert CHUNK_SIZE == 100
    assert run == ReminderRun(sent=250, failed=0, chunks=3)
    assert len(mailoutbox) == 250
    sent_to = Counter(recipients(mailoutbox))
    assert sent_to == Counter(a.patient.email for a in due)
    assert set(sent_to.values()) == {1}
    with scopes_disabled():
        assert not Appointment.objects.filter(reminder_sent_at__isnull=True).exists()
        assert set(Appointment.objects.values_list("reminder_sent_at", flat=True)) == {NOW}


def test_a_second_run_sends_nothing(clinic, book_due, mailoutbox):
    book_due(clinic, 120)
    first = send_due_reminders(now=NOW)
    assert first.sent == 120

    second = send_due_reminders(now=NOW + timedelta(minutes=10))

    assert second == ReminderRun(sent=0, failed=0, chunks=0)
    assert len(mailoutbox) == 120


def test_nothing_due_means_no_chunk_and_no_email(clinic, book, mailoutbox):
    book(clinic, NOW + timedelta(days=3))

    assert send_due_reminders(now=NOW) == ReminderRun(sent=0, failed=0, chunks=0)
    assert mailoutbox == []


@pytest.mark.parametrize(
    "status", [AppointmentStatus.CANCELLED, AppointmentStatus.NO_SHOW, AppointmentStatus.COMPLETED]
)
def test_closed_appointments_are_not_reminded(clinic, book, mailoutbox, status):
    closed = book(clinic, NOW + timedelta(hours=2), status=status)
    kept = book(clinic, NOW + timedelta(hours=3))

    run = send_due_reminders(now=NOW)

    assert run.sent == 1
    assert recipients(mailoutbox) == [kept.patient.email]
    closed.refresh_from_db()
    assert closed.reminder_sent_at is None


@pytest.mark.parametrize("status", [AppointmentStatus.SCHEDULED, AppointmentStatus.CONFIRMED])
def test_scheduled_and_confirmed_appointments_are_reminded(clinic, book, mailoutbox, status):
    appointment = book(clinic, NOW + timedelta(hours=2), status=status)

    send_due_reminders(now=NOW)

    assert recipients(mailoutbox) == [appointment.patient.email]


def test_checked_in_appointment_is_not_reminded(clinic, book, mailoutbox):
    book(clinic, NOW + timedelta(minutes=20), status=AppointmentStatus.CHECKED_IN)

    assert send_due_reminders(now=NOW).sent == 0
    assert mailoutbox == []


def test_only_appointments_starting_within_the_window_are_reminded(clinic, book, mailoutbox):
    past = book(clinic, NOW - timedelta(minutes=1))
    starting_now = book(clinic, NOW)
    last_inside = book(clinic, NOW + timedelta(hours=24) - timedelta(seconds=1))
    at_window_end = book(clinic, NOW + timedelta(hours=24))
    tomorrow_evening = book(clinic, NOW + timedelta(hours=30))

    send_due_reminders(now=NOW)

    assert sorted(recipients(mailoutbox)) == sorted([starting_now.patient.email, last_inside.patient.email])
    for untouched in (past, at_window_end, tomorrow_evening):
        untouched.refresh_from_db()
        assert untouched.reminder_sent_at is None


def test_window_follows_the_reminder_window_setting(settings, clinic, book, mailoutbox):
    settings.REMINDER_WINDOW_HOURS = 2
    soon = book(clinic, NOW + timedelta(minutes=90))
    book(clinic, NOW + timedelta(hours=3))

    send_due_reminders(now=NOW)

    assert recipients(mailoutbox) == [soon.patient.email]


def test_patient_without_email_is_not_reminded_nor_counted_as_failure(clinic, book, mailoutbox):
    silent = book(clinic, NOW + timedelta(hours=1), patient_fields={"email": ""})
    reachable = book(clinic, NOW + timedelta(hours=2))

    run = send_due_reminders(now=NOW)

    assert run == ReminderRun(sent=1, failed=0, chunks=1)
    assert recipients(mailoutbox) == [reachable.patient.email]
    silent.refresh_from_db()
    assert silent.reminder_sent_at is None


def test_soft_deleted_patient_is_not_reminded(clinic, book, mailoutbox):
    gone = book(clinic, NOW + timedelta(hours=1), patient_fields={"is_deleted": True})
    book(clinic, NOW + timedelta(hours=2))

    send_due_reminders(now=NOW)

    assert gone.patient.email not in recipients(mailoutbox)
    assert len(mailoutbox) == 1


def test_appointments_of_every_clinic_are_reminded_in_one_run(clinic, other_clinic, book, mailoutbox):
    ours = book(clinic, NOW + timedelta(hours=1))
    theirs = book(other_clinic, NOW + timedelta(hours=1))

    send_due_reminders(now=NOW)

    assert sorted(recipients(mailoutbox)) == sorted([ours.patient.email, theirs.patient.email])
    by_address = {m.to[0]: m for m in mailoutbox}
    assert "Clinique Alpha" in by_address[ours.patient.email].body
    assert "Clinique Beta" in by_address[theirs.patient.email].body
    assert "Clinique Alpha" not in by_address[theirs.patient.email].body


def test_email_names_clinic_and_local_time_and_goes_to_patient_only(settings, book, mailoutbox):
    settings.DEFAULT_FROM_EMAIL = "Clinique Lumière <rappels@lumiere.example>"
    paris = TenantFactory(name="Clinique Lumière", slug="lumiere", timezone="Europe/Paris")
    provider = UserFactory(tenant=paris, role=Role.DOCTOR, first_name="Awa", last_name="Ndiaye")
    patient = PatientFactory(
        tenant=paris, first_name="Éloïse", last_name="Lefèvre", email="eloise@example.org"
    )
    # 07:30 UTC is 08:30 in Paris in January.
    book(paris, NOW.replace(day=15, hour=7, minute=30), patient=patient, provider=provider)

    send_due_reminders(now=NOW)

    assert len(mailoutbox) == 1
    message = mailoutbox[0]
    assert message.to == ["eloise@example.org"]
    assert message.cc == []
    assert message.bcc == []
    assert message.from_email == "Clinique Lumière <rappels@lumiere.example>"
    assert "08:30" in message.subject
    assert "Clinique Lumière" in message.body
    assert "Tuesday 15 January 2030 at 08:30" in message.body
    assert "Europe/Paris" in message.body
    assert "07:30" not in message.body
    # Neither the patient's name nor the provider's (tests/reminders/test_reminder_email.py).
    assert "Lefèvre" not in message.subject + message.body
    assert "Ndiaye" not in message.subject + message.body
    # No other person's address leaks into the message.
    assert "@" not in message.body


def test_unassigned_appointment_email_names_no_provider(clinic, book, mailoutbox):
    book(clinic, NOW + timedelta(hours=1))

    send_due_reminders(now=NOW)

    assert " with " not in mailoutbox[0].body
    assert "Clinique Alpha" in mailoutbox[0].body


def test_failed_send_leaves_that_appointment_for_the_next_run(clinic, book_due, mailoutbox, monkeypatch):
    due = book_due(clinic, 5, first=timedelta(hours=1))
    unlucky = due[2]
    original_send = EmailMessage.send

    def send_failing_for_one(self, fail_silently=False):
        if unlucky.patient.email in self.to:
            raise ConnectionError("SMTP server hung up")
        return original_send(self, fail_silently=fail_silently)

    monkeypatch.setattr(EmailMessage, "send", send_failing_for_one)

    run = send_due_reminders(now=NOW)

    assert run == ReminderRun(sent=4, failed=1, chunks=1)
    assert unlucky.patient.email not in recipients(mailoutbox)
    with scopes_disabled():
        marked = set(Appointment.objects.filter(reminder_sent_at=NOW).values_list("pk", flat=True))
    assert marked == {a.pk for a in due} - {unlucky.pk}

    # The server is back: the next run sends only the one that failed.
    monkeypatch.setattr(EmailMessage, "send", original_send)
    retry = send_due_reminders(now=NOW + timedelta(minutes=10))

    assert retry == ReminderRun(sent=1, failed=0, chunks=1)
    assert recipients(mailoutbox[4:]) == [unlucky.patient.email]
    assert Counter(recipients(mailoutbox)) == Counter(a.patient.email for a in due)


def test_chunk_skips_appointments_reminded_or_cancelled_since_ids_were_read(clinic, book_due, mailoutbox):
    first, second, third = book_due(clinic, 3)
    with scopes_disabled():
        Appointment.objects.filter(pk=first.pk).update(reminder_sent_at=NOW)
        Appointment.objects.filter(pk=second.pk).update(status=AppointmentStatus.CANCELLED)

    with scopes_disabled():
        sent, failed = send_reminder_chunk([first.pk, second.pk, third.pk], now=NOW)

    assert (sent, failed) == (1, 0)
    assert recipients(mailoutbox) == [third.patient.email]


def _chunk_queries(ids: list[int]) -> list[str]:
    with CaptureQueriesContext(connection) as captured, scopes_disabled():
        sent, _ = send_reminder_chunk(ids, now=NOW)
    assert sent == len(ids)
    return [q["sql"] for q in captured.captured_queries]


def _reads_and_writes(queries: list[str]) -> tuple[list[str], list[str]]:
    reads = [q for q in queries if q.lstrip().upper().startswith("SELECT")]
    writes = [q for q in queries if q.lstrip().upper().startswith("UPDATE")]
    return reads, writes


def test_a_chunk_reads_its_rows_in_one_query_then_claims_and_marks_each_by_primary_key(
    clinic, book, book_due, mailoutbox
):
    provider = UserFactory(tenant=clinic, role=Role.NURSE)
    with_provider = [book(clinic, NOW + timedelta(hours=5 + n), provider=provider) for n in range(5)]
    small = [a.pk for a in book_due(clinic, 5)] + [a.pk for a in with_provider]
    large = [a.pk for a in book_due(clinic, 100, first=timedelta(hours=12))]
    assert len(small) == 10

    small_queries = _chunk_queries(small)
    large_queries = _chunk_queries(large)

    # One read per chunk, whatever its size; two single-row writes per reminder (its claim, then
    # its mark once sent), so that a worker killed mid-chunk keeps the marks of what it sent.
    for ids, queries in ((small, small_queries), (large, large_queries)):
        reads, writes = _reads_and_writes(queries)
        assert len(reads) == 1
        assert len(writes) == 2 * len(ids)
    reads, writes = _reads_and_writes(large_queries)
    read = reads[0]
    for table in ("patients_patient", "accounts_tenant"):  # not the provider: the email omits them
        assert table in read, f"{table} not joined in {read}"
    claims, marks = writes[0::2], writes[1::2]
    assert all('SET "reminder_claimed_at"' in claim for claim in claims)
    assert all('SET "reminder_sent_at"' in mark and "reminder_claimed_at" in mark for mark in marks)
    assert len(mailoutbox) == 110


def test_a_full_run_reads_once_per_chunk_plus_the_id_lookup(clinic, book_due, mailoutbox):
    book_due(clinic, 250)

    with CaptureQueriesContext(connection) as captured, scopes_disabled():
        run = send_due_reminders(now=NOW)

    assert run.chunks == 3
    reads, writes = _reads_and_writes([q["sql"] for q in captured.captured_queries])
    assert len(reads) == 1 + 3
    assert len(writes) == 2 * 250  # a claim and a mark per reminder
