"""Writes of messages: send, mark read, mark all read, mark delivered.

Each service is one transaction; the live events (keneyapp.core.events) and the urgent
notification go out only after it commits, so no screen ever hears of a message that is not in
the database. Read receipts are conditional UPDATEs (`... WHERE status != 'read'`): when two
requests mark the same message read at once, the database lets exactly one of them change the
row, and only that one sends the events, so a read is never announced twice and the unread count
(always counted from the database, never kept as a counter) cannot drift.
"""

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext

from keneyapp.accounts.models import User
from keneyapp.core.events import EventOrFactory, publish_many_on_commit, user_group
from keneyapp.core.services import retry_on_contention
from keneyapp.core.tasks import queue_task
from messaging import events, selectors
from messaging.models import UNREAD, Message, MessageStatus
from patients.selectors import patient_resolve

logger = logging.getLogger("keneyapp.messaging")


@dataclass(frozen=True, slots=True)
class SentMessage:
    message: Message
    item: dict  # as the API and the message.created event show it


def _unread_count_event(tenant_id: int, user_id: int):
    """The receiver's unread count, read once the change is committed (so it includes it)."""
    return lambda: events.unread_count(selectors.unread_count(tenant=tenant_id, user=user_id))


def _resolve_receiver(sender: User, receiver_id: int) -> User:
    receiver = selectors.receiver_resolve(tenant=sender.tenant_id, receiver_id=receiver_id)
    if receiver.pk == sender.pk:
        raise ValidationError({"receiver_id": [gettext("You cannot send a message to yourself.")]})
    return receiver


def _check_body(body: str) -> None:
    # The API's serializer refuses these first; the service holds the rule for every other caller.
    if not body.strip():
        raise ValidationError({"body": [gettext("A message needs a body.")]})
    if len(body) > settings.MESSAGE_BODY_MAX_CHARS:
        raise ValidationError(
            {"body": [gettext("At most %(limit)s characters.") % {"limit": settings.MESSAGE_BODY_MAX_CHARS}]}
        )


@transaction.atomic
def message_send(
    *,
    sender: User,
    receiver_id: int,
    body: str,
    subject: str = "",
    patient_id: int | None = None,
    parent_id: int | None = None,
    is_urgent: bool = False,
) -> SentMessage:
    """Store a message from `sender` to a staff member of their clinic; after commit, tell the
    receiver's screens (message.created, unread.count) and, if urgent, queue the email."""
    _check_body(body)
    receiver = _resolve_receiver(sender, receiver_id)
    tenant_id = sender.tenant_id
    parent = None
    if parent_id is not None:
        parent = selectors.message_resolve(tenant=tenant_id, user=sender, message_id=parent_id)
    patient = None if patient_id is None else patient_resolve(tenant=tenant_id, patient_id=patient_id)
    message = Message.objects.create(
        tenant_id=sender.tenant_id,
        sender_id=sender.pk,
        receiver=receiver,
        patient=patient,
        parent=parent,
        thread_id=parent.thread_id if parent is not None else None,
        subject=subject,
        body=body,
        is_urgent=is_urgent,
    )
    if parent is None:
        # A first message is its own thread; its id exists only now.
        message.thread_id = message.pk
        Message.objects.filter(pk=message.pk).update(thread_id=message.pk)
    item = selectors.message_as_api(message.pk)  # one read, for the answer and the event
    publish_many_on_commit(
        [
            (user_group(sender.tenant_id, receiver.pk), events.message_created(item)),
            (user_group(sender.tenant_id, receiver.pk), _unread_count_event(sender.tenant_id, receiver.pk)),
        ]
    )
    if is_urgent:
        queue_task("messaging.send_urgent_notification", clinic_id=sender.tenant_id, message_id=message.pk)
    return SentMessage(message, item)


def _announce_read(*, tenant_id: int, reader_id: int, read: list[tuple[int, int]], read_at) -> None:
    """message.read to each sender (their message ids), unread.count to the reader; after commit."""
    by_sender: dict[int, list[int]] = {}
    for message_id, sender_id in read:
        by_sender.setdefault(sender_id, []).append(message_id)
    deliveries: list[tuple[str, EventOrFactory]] = [
        (
            user_group(tenant_id, sender_id),
            events.message_read(message_ids=ids, reader_id=reader_id, read_at=read_at),
        )
        for sender_id, ids in by_sender.items()
    ]
    deliveries.append((user_group(tenant_id, reader_id), _unread_count_event(tenant_id, reader_id)))
    publish_many_on_commit(deliveries)


@retry_on_contention  # one transaction; a deadlock or serialization failure: once more, then 409
def message_mark_read(*, message: Message, reader: User) -> Message:
    """Mark a received message read (idempotent: an already read message is left as it was)."""
    if message.receiver_id != reader.pk:
        raise PermissionDenied(gettext("Only the receiver can mark a message as read."))
    now = timezone.now()
    changed = Message.objects.filter(
        UNREAD, pk=message.pk, tenant_id=reader.tenant_id, receiver_id=reader.pk
    ).update(
        status=MessageStatus.READ, read_at=now, delivered_at=Coalesce("delivered_at", now), updated_at=now
    )
    if changed:
        _announce_read(
            tenant_id=reader.tenant_id,
            reader_id=reader.pk,
            read=[(message.pk, message.sender_id)],
            read_at=now,
        )
    message.refresh_from_db()
    return message


@retry_on_contention  # one transaction; a deadlock or serialization failure: once more, then 409
def messages_mark_all_read(*, reader: User) -> int:
    """Mark every unread message of the reader read; returns how many changed.

    The unread rows are locked first, in id order (on PostgreSQL a concurrent read-all waits, then
    finds them read and changes nothing; two lockers taking the same rows in one order cannot
    deadlock; SQLite's IMMEDIATE transactions serialise writers anyway), so each message is
    announced read exactly once.
    """
    unread = list(
        Message.objects.filter(UNREAD, tenant_id=reader.tenant_id, receiver_id=reader.pk)
        .order_by("id")
        .select_for_update()
        .values_list("id", "sender_id")
    )
    if not unread:
        return 0
    now = timezone.now()
    changed = Message.objects.filter(UNREAD, pk__in=[message_id for message_id, _ in unread]).update(
        status=MessageStatus.READ, read_at=now, delivered_at=Coalesce("delivered_at", now), updated_at=now
    )
    _announce_read(tenant_id=reader.tenant_id, reader_id=reader.pk, read=unread, read_at=now)
    return changed


def messages_mark_delivered(*, receiver: User, items: list[dict]) -> None:
    """The receiver's client fetched these messages (API representations): the ones still `sent`
    become `delivered`, in one UPDATE, and the answer being built shows it."""
    ids = [
        item["id"]
        for item in items
        if item["status"] == MessageStatus.SENT and item["receiver"]["id"] == receiver.pk
    ]
    if not ids:
        return
    now = timezone.now()
    Message.objects.filter(
        pk__in=ids, tenant_id=receiver.tenant_id, receiver_id=receiver.pk, status=MessageStatus.SENT
    ).update(status=MessageStatus.DELIVERED, delivered_at=now, updated_at=now)
    for item in items:
        if item["id"] in ids:
            item["status"], item["delivered_at"] = MessageStatus.DELIVERED, now


def urgent_notifications_requeue(*, now: datetime | None = None) -> int:
    """Queue send_urgent_notification again for every urgent message whose email is still owed a
    short while after it was written (its queueing or its worker was lost), up to a day old; the
    task's claim keeps a copy queued twice from sending twice. The caller disables scopes (every
    clinic's messages; each is queued with its clinic). Returns how many were queued."""
    now = now or timezone.now()
    due = selectors.urgent_notifications_due(
        written_before=now - timedelta(seconds=settings.URGENT_NOTIFY_SWEEP_DELAY_SECONDS),
        written_after=now - timedelta(seconds=settings.URGENT_NOTIFY_MAX_AGE_SECONDS),
        claimed_before=now - timedelta(seconds=settings.URGENT_NOTIFY_CLAIM_SECONDS),
    )
    for tenant_id, message_id in due:
        queue_task("messaging.send_urgent_notification", clinic_id=tenant_id, message_id=message_id)
    if due:
        logger.warning("urgent notifications still owed: %s queued again", len(due))
    return len(due)
