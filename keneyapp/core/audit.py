"""The audit trail's recording mechanism (HIPAA 164.312(b)): who touched which patient's data,
through which door, and what came of it.

A door (an API request, an admin request, a websocket event, a task, a management command) opens a
trail (`open_trail`) that knows who is acting, from where; code below it records events into it
(`record`), which costs a list append; the door flushes the trail once, as ONE INSERT of all its
events (`AuditTrail.flush`), before its answer leaves. A flush that fails raises AuditUnavailable,
and the door answers without the data (the API: 503 `audit_unavailable`): nothing is shown that is
not recorded. A write's events are flushed inside the write's transaction (the API's and the
admin's), so a change never commits unrecorded, and a refused write's events are flushed after its
rollback, so a refusal is never lost with it.

The trail lives in a context variable, so a service deep below a door can add to it (the names of
fields a change changed: keneyapp.core.services.apply_changes) without being handed anything.
Nothing is recorded outside a door (a shell, a test body): there is no trail to add to.
`AUDIT_TRAIL = False` (the benchmark's "off") opens no trail at all.

What is never recorded: values. A change records the NAMES of the fields it changed, a list the
NAMES of its query parameters (never a search term), a download the document, not its content.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import DatabaseError, connection, models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from keneyapp.core.models import AuditEvent

logger = logging.getLogger("keneyapp.audit")

Door = AuditEvent.Door
Action = AuditEvent.Action
Outcome = AuditEvent.Outcome

PATIENT_MODEL = "patients.patient"

_current: ContextVar[AuditTrail | None] = ContextVar("keneyapp_audit_trail", default=None)


class AuditUnavailable(Exception):
    """The trail could not be stored: the door must not answer with the data."""

    def as_service_unavailable(self):
        """The door's 503: the database's own (`database_unavailable`) when an outage of it is why
        the trail could not be stored, so a client sees the same answer from every request of the
        outage; `audit_unavailable` otherwise."""
        from keneyapp.core.errors import ServiceUnavailable, as_service_unavailable

        return as_service_unavailable(self.__cause__) or ServiceUnavailable(
            str(AUDIT_UNAVAILABLE), code="audit_unavailable"
        )


AUDIT_UNAVAILABLE = _("The access could not be recorded; nothing was shown or changed. Try again.")


def enabled() -> bool:
    return bool(getattr(settings, "AUDIT_TRAIL", True))


def label_of(model: type[models.Model] | models.Model | str) -> str:
    return model if isinstance(model, str) else model._meta.label_lower


def actor_role(user) -> str:
    if user is None or not getattr(user, "is_authenticated", False):
        return ""
    return getattr(user, "role", "") or ("superuser" if getattr(user, "is_superuser", False) else "")


@dataclass
class AuditTrail:
    """One door's events, buffered until its single flush."""

    door: str
    tenant_id: int | None = None
    user_id: int | None = None
    role: str = ""
    address: str = ""
    route: str = ""
    # The request's HTTP method, when a request is the door: what an id refused in its body or query
    # string was to be used for (record_attempted_use).
    method: str = ""
    # A platform superuser acts across clinics: their events go to the clinic of the row concerned
    # (the `tenant_id` a recorder gives), whatever clinic their own account is attached to.
    platform: bool = False
    # (the columns every event of one record() call shares, object_id, patient_id): see SHARED.
    events: list[tuple[tuple, int | None, int | None]] = field(default_factory=list)
    # (model label, pk) -> names of the fields a change changed (apply_changes tells us).
    changed: dict[tuple[str, Any], list[str]] = field(default_factory=dict)

    def identify(self, user) -> None:
        """Who acts: the authenticated user, their role and clinic."""
        if user is None or not getattr(user, "is_authenticated", False):
            return
        self.user_id = user.pk
        self.role = actor_role(user)
        self.tenant_id = getattr(user, "tenant_id", None)
        self.platform = bool(getattr(user, "is_superuser", False))

    def record(
        self,
        action: str,
        model: type[models.Model] | models.Model | str,
        *,
        object_id: Any = None,
        patient_id: Any = None,
        patient_ids: Iterable[Any] | None = None,
        fields: Iterable[str] = (),
        params: Iterable[str] = (),
        outcome: str = Outcome.ALLOWED,
        tenant_id: int | None = None,
    ) -> None:
        """Add an event (`patient_ids`: one per distinct patient shown, or one without a patient
        when none was). A list append: nothing is written until `flush`."""
        if tenant_id is None or (self.tenant_id is not None and not self.platform):
            tenant_id = self.tenant_id  # the caller's clinic: an attempt on another's is in ours
        shared = (
            timezone.now(),
            tenant_id,
            self.user_id,
            self.role,
            self.door,
            action,
            outcome,
            label_of(model),
            tuple(sorted(set(fields))),
            tuple(sorted(set(params))),
            self.route[:100],
            self.address[:45],
        )
        if patient_ids is None:
            self.events.append((shared, _as_id(object_id), _as_id(patient_id)))
            return
        shown = list(dict.fromkeys(_as_id(pid) for pid in patient_ids if pid is not None))
        self.events.extend((shared, _as_id(object_id), pid) for pid in shown or [None])

    def changed_fields(self, model: str, pk: Any = None) -> list[str]:
        """The field names a change of `model` row `pk` changed (every noted change of the model
        if that row noted none: a create's follow-up writes, say)."""
        names = self.changed.get((model, pk))
        if names is not None:
            return names
        return sorted(
            {name for (label, _), found in self.changed.items() if label == model for name in found}
        )

    def flush(self) -> None:
        """Store every buffered event in ONE INSERT; AuditUnavailable if the database refuses."""
        if not self.events:
            return
        events, self.events = self.events, []
        try:
            insert_events(events)
        except DatabaseError as error:
            logger.exception("could not store %d audit events (%s, %s)", len(events), self.door, self.route)
            raise AuditUnavailable from error


# The columns of one record() call's events, in this order, then object_id and patient_id.
SHARED = ("at", "tenant", "user_id", "role", "door", "action", "outcome", "model", "fields", "params",
          "route", "address")  # fmt: skip
JSON_COLUMNS = ("fields", "params")
# SQLite: rows per statement, within its parameter limit as Python's sqlite3 is built (250,000).
SQLITE_MAX_PARAMETERS = 30_000
# PostgreSQL: up to this many rows, a plain VALUES list is cheaper than unnest (measured: one row
# 0.45 ms against 0.7; fifty rows 2.7 ms against 1.1).
VALUES_MAX_ROWS = 3


def insert_events(events: list[tuple[tuple, int | None, int | None]]) -> None:
    """Store `events` in ONE INSERT statement, however many.

    PostgreSQL: one `SELECT <the shared values>, o, p FROM unnest(<object ids>, <patient ids>)` per
    record() call (a list of 100 patients is one of them), joined by UNION ALL: about 14
    parameters a call, whatever the rows, so the cost is the rows' own, not Python's (a 50-row
    VALUES list cost more than twice as much here). A few rows, and SQLite: a multi-row VALUES.
    Not bulk_create: SQLite batches it by 999 parameters (two statements for 100 patients), and
    it builds a model instance per row and asks PostgreSQL for ids nobody reads.
    No scope is needed: the rows name their clinic (a superuser's request, a task across clinics).
    """
    if not events:
        return
    meta = AuditEvent._meta
    shared_fields = [field for name in SHARED if isinstance(field := meta.get_field(name), models.Field)]
    columns = [str(field.column) for field in shared_fields] + ["object_id", "patient_id"]
    quote = connection.ops.quote_name
    head = f"INSERT INTO {quote(meta.db_table)} ({', '.join(quote(c) for c in columns)}) "
    if connection.vendor == "postgresql" and len(events) > VALUES_MAX_ROWS:
        groups: dict[tuple, tuple[list, list]] = {}
        for shared, object_id, patient_id in events:
            objects, patients = groups.setdefault(shared, ([], []))
            objects.append(object_id)
            patients.append(patient_id)
        casts = [field.db_type(connection) for field in shared_fields]
        placeholders = ", ".join(f"%s::{cast}" for cast in casts)
        select = f"SELECT {placeholders}, u.o, u.p FROM unnest(%s::bigint[], %s::bigint[]) AS u(o, p)"  # noqa: S608
        params: list[Any] = []
        for shared, (objects, patients) in groups.items():
            params += [*_prepared(shared), objects, patients]
        sql = head + " UNION ALL ".join([select] * len(groups))
        with connection.cursor() as cursor:
            cursor.execute(sql, params)  # identifiers from the model's metadata, values as parameters
        return
    per_statement = SQLITE_MAX_PARAMETERS // len(columns)
    for start in range(0, len(events), per_statement):
        chunk = events[start : start + per_statement]
        rows = ", ".join([f"({', '.join(['%s'] * len(columns))})"] * len(chunk))
        values = [value for shared, o, p in chunk for value in (*_prepared(shared), o, p)]
        with connection.cursor() as cursor:
            cursor.execute(head + f"VALUES {rows}", values)


def _prepared(shared: tuple) -> list[Any]:
    values = list(shared)
    values[0] = (
        connection.ops.adapt_datetimefield_value(values[0])
        if connection.vendor != "postgresql"
        else values[0]
    )
    for name in JSON_COLUMNS:
        index = SHARED.index(name)
        values[index] = json.dumps(list(values[index]))
    return values


def _as_id(value: Any) -> int | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def current() -> AuditTrail | None:
    return _current.get()


@contextmanager
def open_trail(door: str, *, user=None, address: str = "", route: str = "", **identity) -> Iterator:
    """The door's trail for the block (None when AUDIT_TRAIL is off); the door flushes it.

    A trail opened inside another (a task run eagerly inside a request) is its own: it flushes on
    its own, and the outer one resumes after.
    """
    if not enabled():
        token = _current.set(None)
        try:
            yield None
        finally:
            _current.reset(token)
        return
    trail = AuditTrail(door=door, address=address, route=route, **identity)
    trail.identify(user)
    token = _current.set(trail)
    try:
        yield trail
    finally:
        _current.reset(token)


@contextmanager
def audited(door: str, **identity) -> Iterator:
    """A trail for a block of work that answers nobody (a task, a command): flushed at its end,
    also when the block failed, so what it read before failing is recorded; a flush that fails
    raises AuditUnavailable (the task fails, and is retried or logged as any failure)."""
    with open_trail(door, **identity) as trail:
        try:
            yield trail
        finally:
            if trail is not None:
                trail.flush()


def record(action: str, model, **kwargs) -> None:
    """Add an event to the current door's trail (nothing outside a door, or with AUDIT_TRAIL off)."""
    trail = _current.get()
    if trail is not None:
        trail.record(action, model, **kwargs)


# What a request of each method would have done with a row its body or query string named.
USE_ACTIONS = {"GET": Action.LIST, "HEAD": Action.LIST, "POST": Action.CREATE, "PUT": Action.CHANGE,
               "PATCH": Action.CHANGE, "DELETE": Action.DELETE}  # fmt: skip


def record_attempted_use(model, *, object_id: Any, field: str) -> None:
    """An id in a request's body or query string that names no row the caller may use (missing,
    deleted, another clinic's): the client gets the resolver's 400, the trail an `attempted` event
    of that row (its patient, for a patient id) naming the field, in the caller's clinic's trail.
    Nothing outside a signed-in door."""
    trail = _current.get()
    if trail is None or trail.user_id is None:
        return
    trail.record(
        USE_ACTIONS.get(trail.method, Action.VIEW),
        model,
        object_id=object_id,
        patient_id=object_id if label_of(model) == PATIENT_MODEL else None,
        fields=[field],
        outcome=Outcome.ATTEMPTED,
    )


def note_changed(instance: models.Model, names: Iterable[str]) -> None:
    """A service changed these fields of `instance`: the door's change event names them."""
    trail = _current.get()
    if trail is not None:
        key = (label_of(instance), instance.pk)
        trail.changed[key] = sorted({*trail.changed.get(key, ()), *names})
