"""The guide's `send_urgent_notification`, on the high-priority queue (CELERY_TASK_ROUTES).

Never twice: the task first claims the message with one conditional UPDATE (`urgent_notified_at`
still empty and the message still unread), so of two deliveries of the same task (a retry, a
redelivery after a worker loss, a duplicate enqueue) only one sends. A send that fails releases
the claim and retries; a worker killed between the claim and the send loses that one email
(at most once, by choice: a duplicate urgent email is worse than the in-app notification alone).

Queued by messaging.services.message_send with the message's clinic (`clinic_id`), whose scope
the task runs in (keneyapp.core.tasks.ClinicTask).
"""

import logging

from celery import shared_task
from django.utils import timezone

from keneyapp.core.tasks import ClinicTask
from messaging.emails import urgent_message_email
from messaging.models import UNREAD, Message

logger = logging.getLogger("keneyapp.messaging")


@shared_task(
    base=ClinicTask,
    name="messaging.send_urgent_notification",
    bind=True,
    max_retries=3,
    default_retry_delay=30,
)
def send_urgent_notification(self, *, clinic_id: int, message_id: int) -> str:
    """Email the receiver of an urgent message unless they read it first. Returns what happened."""
    claimed_at = timezone.now()
    claimed = Message.objects.filter(
        UNREAD, pk=message_id, tenant_id=clinic_id, is_urgent=True, urgent_notified_at__isnull=True
    ).update(urgent_notified_at=claimed_at)
    if not claimed:
        return "skipped"  # read already, notified already, or no such urgent message
    message = Message.objects.select_related("sender", "receiver", "tenant").get(pk=message_id)
    if not message.receiver.email:
        return "no_email"
    try:
        urgent_message_email(message).send()
    except Exception as exc:
        # Release our claim (only ours: the timestamp matches) so the retry can send.
        Message.objects.filter(pk=message_id, urgent_notified_at=claimed_at).update(urgent_notified_at=None)
        logger.warning("urgent notification of message %s failed; retrying", message_id, exc_info=True)
        raise self.retry(exc=exc) from None
    return "sent"
