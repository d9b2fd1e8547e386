"""Reads of messages. Every function takes the clinic and the caller: a message is visible only to
its sender and its receiver, so nothing here can return anyone else's message."""

from django.db.models import Q, QuerySet
from django.utils.translation import gettext

from keneyapp.accounts.models import Tenant, User
from keneyapp.accounts.roles import ALL_STAFF
from keneyapp.core.resolvers import resolved
from messaging.models import UNREAD, URGENT_DUE, Message

BOXES = ("inbox", "sent")
# Columns a list or detail loads, the sender's, receiver's and patient's names joined in the same
# query (`.values()`: no model instances for a list).
MESSAGE_COLUMNS = (
    "id",
    "thread_id",
    "parent_id",
    "sender_id",
    "sender__first_name",
    "sender__last_name",
    "sender__username",
    "receiver_id",
    "receiver__first_name",
    "receiver__last_name",
    "receiver__username",
    "patient_id",
    "patient__first_name",
    "patient__last_name",
    "patient__mrn",
    "subject",
    "body",
    "status",
    "is_urgent",
    "delivered_at",
    "read_at",
    "created_at",
)
_PLAIN_COLUMNS = ("subject", "body", "status", "is_urgent", "delivered_at", "read_at", "created_at")


def message_queryset(*, tenant: Tenant | int, user: User) -> QuerySet[Message]:
    """The clinic's messages the user sent or received: the start of every read."""
    return Message.objects.filter(Q(receiver=user) | Q(sender=user), tenant=tenant)


def message_list_queryset(
    *,
    tenant: Tenant,
    user: User,
    box: str | None,
    unread: bool = False,
    thread_id: int | None = None,
    after_id: int | None = None,
) -> QuerySet[Message]:
    """The inbox (received), the sent box, or, for a thread with no box, both directions.

    Each box is one index range: (tenant, receiver, id) or (tenant, sender, id); unread inbox rows
    come from the partial unread index.
    """
    queryset: QuerySet[Message]
    if box == "sent":
        queryset = Message.objects.filter(tenant=tenant, sender=user)
    elif box == "inbox" or thread_id is None:
        queryset = Message.objects.filter(tenant=tenant, receiver=user)
    else:
        queryset = message_queryset(tenant=tenant, user=user)
    if unread:
        queryset = queryset.filter(UNREAD)
    if thread_id is not None:
        queryset = queryset.filter(thread_id=thread_id)
    if after_id is not None:
        queryset = queryset.filter(id__gt=after_id)
    return queryset


def message_page(
    *, queryset: QuerySet[Message], oldest_first: bool, skip: int, limit: int
) -> tuple[list[dict], int]:
    """A page of messages with their people and patient: two queries (count, page) whatever the size."""
    total = queryset.count()
    if skip >= total:
        return [], total
    order = "id" if oldest_first else "-id"
    rows = queryset.order_by(order).values(*MESSAGE_COLUMNS)[skip : skip + limit]
    return [message_row_as_api(row) for row in rows], total


def message_detail(*, tenant: Tenant, user: User, message_id: int) -> dict | None:
    row = message_queryset(tenant=tenant, user=user).filter(pk=message_id).values(*MESSAGE_COLUMNS).first()
    return None if row is None else message_row_as_api(row)


def message_get(*, tenant: Tenant | int, user: User, message_id: int) -> Message | None:
    return message_queryset(tenant=tenant, user=user).filter(pk=message_id).first()


def message_resolve(
    *, tenant: Tenant | int, user: User, message_id: int, field: str = "parent_id"
) -> Message:
    """A message `user` sent or received that an id in a request names (the only such id is a
    reply's parent), or the 400 naming `field` (keneyapp/core/resolvers.py)."""
    message = message_get(tenant=tenant, user=user, message_id=message_id)
    return resolved(
        message,
        field=field,
        unknown=gettext("No such message of yours to reply to."),
        model="messaging.message",
        object_id=message_id,
    )


def message_as_api(message_id: int) -> dict:
    """One message as the API and the live events show it (by id: read after the write)."""
    return message_row_as_api(Message.objects.filter(pk=message_id).values(*MESSAGE_COLUMNS).get())


def unread_count(*, tenant: Tenant | int, user: User | int) -> int:
    """The user's unread messages, counted from the database (the partial unread index), so it is
    right by construction: no counter to drift when two requests race."""
    return Message.objects.filter(UNREAD, tenant=tenant, receiver=user).count()


def messaging_staff_get(*, tenant: Tenant | int, user_id: int) -> User | None:
    """An active staff member of the clinic who can receive messages."""
    return User.objects.filter(tenant=tenant, pk=user_id, is_active=True, role__in=ALL_STAFF).first()


def receiver_resolve(*, tenant: Tenant | int, receiver_id: int, field: str = "receiver_id") -> User:
    """The clinic's active staff member an id in a request names, or the 400 naming `field`
    (keneyapp/core/resolvers.py)."""
    receiver = messaging_staff_get(tenant=tenant, user_id=receiver_id)
    return resolved(
        receiver,
        field=field,
        unknown=gettext("No such staff member in this clinic."),
        model="accounts.user",
        object_id=receiver_id,
    )


def _person(row: dict, prefix: str) -> dict | None:
    person_id = row[f"{prefix}_id"]
    if person_id is None:
        return None
    first, last = row[f"{prefix}__first_name"], row[f"{prefix}__last_name"]
    name = f"{first} {last}".strip() or row[f"{prefix}__username"]
    return {"id": person_id, "name": name}


def message_row_as_api(row: dict) -> dict:
    patient = None
    if row["patient_id"] is not None:
        patient = {
            "id": row["patient_id"],
            "name": f"{row['patient__first_name']} {row['patient__last_name']}".strip(),
            "mrn": row["patient__mrn"],
        }
    item = {
        "id": row["id"],
        "thread_id": row["thread_id"],
        "parent_id": row["parent_id"],
        "sender": _person(row, "sender"),
        "receiver": _person(row, "receiver"),
        "patient": patient,
    }
    for column in _PLAIN_COLUMNS:
        item[column] = row[column]
    return item


def urgent_notifications_due(*, written_before, written_after, claimed_before) -> list[tuple[int, int]]:
    """(clinic id, message id) of the urgent messages whose email is still owed (unread, not
    notified), written between the two bounds, whose claim is free or older than `claimed_before`
    (expired): across clinics, for the sweep (the caller disables scopes). Served by the partial
    index idx_message_urgent_due, which holds only the messages still owed."""
    return list(
        Message.objects.filter(URGENT_DUE, created_at__lt=written_before, created_at__gte=written_after)
        .filter(Q(urgent_claimed_at__isnull=True) | Q(urgent_claimed_at__lte=claimed_before))
        .order_by("created_at")
        .values_list("tenant_id", "id")[:1000]
    )
