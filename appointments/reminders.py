"""Appointment reminders: each due appointment is reminded once, in chunks, one claim at a time.

Each reminder is claimed, sent, then marked, each step its own short commit:
1. claim: one conditional UPDATE sets `reminder_claimed_at` only while the appointment is still due
   (not reminded, remindable) and unclaimed or its claim expired (REMINDER_CLAIM_SECONDS). Of two
   runs at the same moment (two workers, a redelivered task next to beat's next one) exactly one
   claims each appointment, on PostgreSQL and SQLite alike: the database serialises the UPDATEs.
2. send it, on the chunk's one SMTP connection;
3. mark: `reminder_sent_at`, only while our claim is still there (a reschedule meanwhile cleared
   it: the new time is due a reminder of its own).

A worker killed in the middle of a chunk therefore loses nothing that was sent: every reminder
sent before it is marked. The residual window is the one email in flight: killed after the SMTP
server took it and before its mark committed, it is sent again once its claim expires (the next
run after REMINDER_CLAIM_SECONDS). A reminder claimed but not sent when the worker died waits for
its claim to expire, then the next run sends it. (The chunk used to be one transaction holding
FOR UPDATE SKIP LOCKED over the rows and marking them at its end: a kill rolled every mark back
and the next run sent the whole chunk's emails again.) A send that fails releases its claim and
is tried again on the next run.

Clinic scope: selecting what is due spans clinics (one run serves them all), so it runs with
scopes disabled; each clinic's reminders are then sent inside that clinic's scope.
"""

import logging
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.core.mail import get_connection
from django.db.models import Q
from django.utils import timezone, translation
from django_scopes import scope, scopes_disabled

from appointments.emails import reminder_email
from appointments.models import REMINDABLE_STATUSES, Appointment
from keneyapp.core import audit
from keneyapp.core.language import language_for

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
            patient_deleted=False,
            tenant__is_active=True,  # a closed clinic sends nothing
        )
        .exclude(patient__email="")
        .order_by("appointment_date")
        .values_list("tenant_id", "id")
    )
    for tenant_id, appointment_id in rows:
        due[tenant_id].append(appointment_id)
    return due


def _claim_free(at: datetime) -> Q:
    """Not claimed, or claimed longer than REMINDER_CLAIM_SECONDS before `at` (its run died)."""
    expired = at - timedelta(seconds=settings.REMINDER_CLAIM_SECONDS)
    return Q(reminder_claimed_at__isnull=True) | Q(reminder_claimed_at__lte=expired)


def send_reminder_chunk(ids: list[int], *, now: datetime) -> tuple[int, int]:
    """Remind the given appointments that are still due and not claimed by a live run: one query
    to read them (patient and clinic joined), then for each a claim, the send and its mark (see
    the module's docstring). Returns (sent, failed). Runs inside the appointments' clinic scope."""
    due = Appointment.objects.filter(reminder_sent_at__isnull=True, status__in=REMINDABLE_STATUSES)
    candidates = list(due.filter(_claim_free(timezone.now()), pk__in=ids).select_related("patient", "tenant"))
    sent = failed = 0
    # The task door of the audit trail: each reminder is an export of the appointment's time to
    # the patient's address; the run's candidates are recorded (one INSERT) before any email
    # leaves, so none leaves unrecorded (a candidate another run claims first is recorded by both).
    if candidates:
        with audit.audited(audit.Door.TASK, route="appointments.send_appointment_reminders",
                           tenant_id=candidates[0].tenant_id):  # fmt: skip
            for appointment in candidates:
                audit.record(audit.Action.EXPORT, appointment, object_id=appointment.pk,
                             patient_id=appointment.patient_id, fields=["appointment_date"])  # fmt: skip
    with get_connection() as connection:  # one SMTP session per chunk
        for appointment in candidates:
            # Claims are on the real clock (`now` is the run's view of the schedule, which tests
            # move), each its own time, so the mark below matches our claim only.
            claimed_at = timezone.now()
            if not due.filter(_claim_free(claimed_at), pk=appointment.pk).update(
                reminder_claimed_at=claimed_at
            ):
                continue  # another run claimed or sent it since the read, or it changed
            with translation.override(language_for(appointment.patient, clinic=appointment.tenant)):
                message = reminder_email(appointment)
            message.connection = connection
            try:
                message.send()
            except Exception:  # one bad address or a dropped SMTP session must not stop the batch
                failed += 1
                Appointment.objects.filter(pk=appointment.pk, reminder_claimed_at=claimed_at).update(
                    reminder_claimed_at=None
                )
                logger.exception("reminder for appointment %s failed; it will be retried", appointment.pk)
                continue
            # Killed before this commits: the one email sent twice (the module's docstring).
            Appointment.objects.filter(pk=appointment.pk, reminder_claimed_at=claimed_at).update(
                reminder_sent_at=now
            )
            sent += 1
    return sent, failed


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
