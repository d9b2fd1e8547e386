"""Appointment reminders: each due appointment is reminded exactly once, in chunks.

Exactly once across concurrent runs: a chunk is read with SELECT ... FOR UPDATE SKIP LOCKED inside
one transaction that also marks what it sent, so a second worker running at the same moment skips
the rows the first holds, and once the first commits those rows no longer match "not yet
reminded". On SQLite (no row locks) the IMMEDIATE transaction serialises the two runs instead.
An email that fails to send is not marked and is tried again on the next run.

Clinic scope: selecting what is due spans clinics (one run serves them all), so it runs with
scopes disabled; each clinic's reminders are then sent inside that clinic's scope.
"""

import logging
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.core.mail import get_connection
from django.db import transaction
from django.utils import timezone
from django_scopes import scope, scopes_disabled

from appointments.emails import reminder_email
from appointments.models import REMINDABLE_STATUSES, Appointment
from keneyapp.core import audit

logger = logging.getLogger("keneyapp.reminders")
CHUNK_SIZE = 100


@dataclass(frozen=True, slots=True)
class ReminderRun:
    sent: int
    failed: int
    chunks: int


def due_reminder_ids(*, now: datetime, window: timedelta) -> dict[int, list[int]]:
    """Ids of appointments starting within the window, not yet reminded, whose patient has an
    email and is not deleted (served by the partial index idx_appointment_date), by clinic id,
    soonest first. Reads every clinic: the caller disables scopes."""
    due: dict[int, list[int]] = defaultdict(list)
    rows = (
        Appointment.objects.filter(
            appointment_date__gte=now,
            appointment_date__lt=now + window,
            reminder_sent_at__isnull=True,
            status__in=REMINDABLE_STATUSES,
            patient__is_deleted=False,
            tenant__is_active=True,  # a closed clinic sends nothing
        )
        .exclude(patient__email="")
        .order_by("appointment_date")
        .values_list("tenant_id", "id")
    )
    for tenant_id, appointment_id in rows:
        due[tenant_id].append(appointment_id)
    return due


@transaction.atomic
def send_reminder_chunk(ids: list[int], *, now: datetime) -> tuple[int, int]:
    """Remind the given appointments that are still due: one query to read them (patient and
    clinic joined), one to mark those sent. Returns (sent, failed). Runs inside the
    appointments' clinic scope."""
    due = list(
        Appointment.objects.select_for_update(skip_locked=True, of=("self",))
        .select_related("patient", "tenant")
        .filter(pk__in=ids, reminder_sent_at__isnull=True, status__in=REMINDABLE_STATUSES)
    )
    # The task door of the audit trail: each reminder is an export of the appointment's time to
    # the patient's address; recorded (one INSERT) before any email leaves, so none leaves unrecorded.
    if due:
        with audit.audited(audit.Door.TASK, route="appointments.send_appointment_reminders",
                           tenant_id=due[0].tenant_id):  # fmt: skip
            for appointment in due:
                audit.record(audit.Action.EXPORT, appointment, object_id=appointment.pk,
                             patient_id=appointment.patient_id, fields=["appointment_date"])  # fmt: skip
    sent_ids, failed = [], 0
    with get_connection() as connection:  # one SMTP session per chunk
        for appointment in due:
            message = reminder_email(appointment)
            message.connection = connection
            try:
                message.send()
            except Exception:  # one bad address or a dropped SMTP session must not stop the batch
                failed += 1
                logger.exception("reminder for appointment %s failed; it will be retried", appointment.pk)
            else:
                sent_ids.append(appointment.pk)
    if sent_ids:
        Appointment.objects.filter(pk__in=sent_ids).update(reminder_sent_at=now)
    return len(sent_ids), failed


def send_due_reminders(*, now: datetime | None = None) -> ReminderRun:
    now = now or timezone.now()
    with scopes_disabled():  # what is due, in every clinic: the one cross-clinic read of a run
        due = due_reminder_ids(now=now, window=timedelta(hours=settings.REMINDER_WINDOW_HOURS))
    sent = failed = chunks = 0
    for tenant_id, ids in due.items():
        with scope(tenant=tenant_id):
            for start in range(0, len(ids), CHUNK_SIZE):
                chunk_sent, chunk_failed = send_reminder_chunk(ids[start : start + CHUNK_SIZE], now=now)
                sent, failed, chunks = sent + chunk_sent, failed + chunk_failed, chunks + 1
    if due:
        logger.info("reminders: %s sent, %s failed, in %s chunk(s)", sent, failed, chunks)
    return ReminderRun(sent=sent, failed=failed, chunks=chunks)
