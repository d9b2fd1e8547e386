"""The guide's `send_urgent_notification`, on the high-priority queue (CELERY_TASK_ROUTES), and the
sweep that queues it again when its first queueing or its worker was lost.

Once, even when delivered twice (a redelivery after a worker loss, a sweep's copy, two workers at
the same moment): the task first claims the message with one conditional UPDATE, a lease of
URGENT_NOTIFY_CLAIM_SECONDS (`urgent_claimed_at`), taken only while the message is urgent, unread,
not notified (`urgent_notified_at` empty) and not claimed by a live lease. It sends, then sets
`urgent_notified_at`, after which every delivery skips it.

- A delivery that finds a live claim of someone else's does not skip: that worker may be sending
  right now, or may have been killed in the middle of it (SIGKILL, OOM, a lost host), so it retries
  when the lease expires, and then either finds the email sent or claims it itself.
- A send that fails releases the claim (only ours: the timestamp matches) and retries.
- A worker killed between the claim and the send: its task is redelivered (late acks, reject on
  worker lost; or after the broker's visibility timeout) and retries past the lease, and the sweep
  queues the email again in any case.
- The residual window: a worker killed after the SMTP server took the email but before the UPDATE
  of `urgent_notified_at` committed (one statement's time). That email is sent again once the lease
  expires: at least once, at most one duplicate per such kill. Before this, the choice was at most
  once, and a kill lost the email; the issue asked for the email.
- The lease must outlast a send (EMAIL_TIMEOUT and the connection): a live lease taken over would
  be two sends.

The sweep (`sweep_urgent_notifications`, beat every minute) queues again the email of every urgent
message still due URGENT_NOTIFY_SWEEP_DELAY_SECONDS after it was written and not older than
URGENT_NOTIFY_MAX_AGE_SECONDS, whose claim is free or expired (messaging.services.
urgent_notifications_requeue): so an urgent message written while the broker was down is emailed
once the broker is back. A copy it queues next to one still waiting in the queue is harmless: the
claim lets one send.

Queued by messaging.services.message_send with the message's clinic (`clinic_id`), whose scope
the task runs in (keneyapp.core.tasks.ClinicTask).
"""

import logging
from datetime import timedelta

from celery import shared_task
from django.conf import settings
from django.db.models import Q
from django.utils import timezone
from django_scopes import scopes_disabled

from keneyapp.core.tasks import ClinicTask
from messaging import services
from messaging.emails import urgent_message_email
from messaging.models import URGENT_DUE, Message

logger = logging.getLogger("keneyapp.messaging")


@shared_task(
    base=ClinicTask,
    name="messaging.send_urgent_notification",
    bind=True,
    max_retries=5,
    default_retry_delay=30,
)
def send_urgent_notification(self, *, clinic_id: int, message_id: int) -> str:
    """Email the receiver of an urgent message unless they read it first. Returns what happened."""
    now = timezone.now()
    lease = timedelta(seconds=settings.URGENT_NOTIFY_CLAIM_SECONDS)
    due = Message.objects.filter(URGENT_DUE, pk=message_id, tenant_id=clinic_id)
    claimed = due.filter(Q(urgent_claimed_at__isnull=True) | Q(urgent_claimed_at__lte=now - lease)).update(
        urgent_claimed_at=now
    )
    if not claimed:
        held_since = due.values_list("urgent_claimed_at", flat=True).first()
        if held_since is None:
            return "skipped"  # read already, notified already, or no such urgent message
        if self.request.is_eager:
            # In-process (the embedded defaults) a retry would run again at once, not later.
            return "claimed"
        # Another delivery holds the claim: it is sending, or died doing so. Come back when the
        # lease has expired; by then it is sent (we skip) or free (we send).
        countdown = max((held_since + lease - now).total_seconds(), 0) + 1
        raise self.retry(countdown=countdown)
    message = Message.objects.select_related("sender", "receiver", "tenant").get(pk=message_id)
    if not message.receiver.email:
        Message.objects.filter(pk=message_id).update(urgent_notified_at=timezone.now())  # nothing to send
        return "no_email"
    try:
        urgent_message_email(message).send()
    except Exception as exc:
        # Release our claim (only ours: the timestamp matches) so the retry can send.
        Message.objects.filter(pk=message_id, urgent_claimed_at=now).update(urgent_claimed_at=None)
        logger.warning("urgent notification of message %s failed; retrying", message_id, exc_info=True)
        raise self.retry(exc=exc) from None
    # Sent: no delivery sends it again. (Killed before this commits: the residual window above.)
    Message.objects.filter(pk=message_id).update(urgent_notified_at=timezone.now())
    return "sent"


@shared_task(name="messaging.sweep_urgent_notifications")
def sweep_urgent_notifications() -> int:
    """Run by beat every minute (high queue, with the notifications it queues): queue again the
    email of every urgent message still owed (see the module's docstring). Returns how many."""
    with scopes_disabled():  # urgent messages of every clinic; each is queued with its clinic
        return services.urgent_notifications_requeue()
