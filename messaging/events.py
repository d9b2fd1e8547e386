"""The live events of messaging, as the receiver's and the sender's screens get them (their
declared shapes: keneyapp.core.events). Built here, published by messaging.services."""

from datetime import datetime
from typing import Literal, TypedDict, cast

from keneyapp.core.events import event_shape


class Person(TypedDict):
    id: int
    name: str


class PatientMention(TypedDict):
    id: int
    name: str
    mrn: str


class MessageItem(TypedDict):
    """A message as the API lists it (messaging.selectors.message_row_as_api), dates as ISO text."""

    id: int
    thread_id: int
    parent_id: int | None
    sender: Person | None
    receiver: Person | None
    patient: PatientMention | None
    subject: str
    body: str
    status: str
    is_urgent: bool
    delivered_at: str | None
    read_at: str | None
    created_at: str


@event_shape
class MessageCreated(TypedDict):
    """To the receiver: a message for them."""

    type: Literal["message.created"]
    message: MessageItem


@event_shape
class MessageRead(TypedDict):
    """To a sender: the receiver read these messages of theirs."""

    type: Literal["message.read"]
    message_ids: list[int]
    reader_id: int
    read_at: str


@event_shape
class UnreadCount(TypedDict):
    """To a user: how many of their messages are unread now."""

    type: Literal["unread.count"]
    count: int


MESSAGE_DATES = ("delivered_at", "read_at", "created_at")


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat()


def message_created(item: dict) -> MessageCreated:
    """The event of a new message, from its API representation (which keeps its datetimes)."""
    message = cast(MessageItem, {**item, **{field: _iso(item[field]) for field in MESSAGE_DATES}})
    return MessageCreated(type="message.created", message=message)


def message_read(*, message_ids: list[int], reader_id: int, read_at: datetime) -> MessageRead:
    return MessageRead(
        type="message.read", message_ids=message_ids, reader_id=reader_id, read_at=read_at.isoformat()
    )


def unread_count(count: int) -> UnreadCount:
    return UnreadCount(type="unread.count", count=count)
