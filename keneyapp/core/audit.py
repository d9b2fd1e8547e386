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

import logging
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import DatabaseError, connection, models
from django.utils import timezone

from keneyapp.core.models import AuditEvent

logger = logging.getLogger("keneyapp.audit")

Door = AuditEvent.Door
Action = AuditEvent.Action
Outcome = AuditEvent.Outcome

PATIENT_MODEL = "patients.patient"

_current: ContextVar[AuditTrail | None] = ContextVar("keneyapp_audit_trail", default=None)


class AuditUnavailable(Exception):
    """The trail could not be stored: the door must not answer with the data."""


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
    events: list[AuditEvent] = field(default_factory=list)
    # (model label, pk) -> names of the fields a change changed (apply_changes tells us).
    changed: dict[tuple[str, Any], list[str]] = field(default_factory=dict)

    def identify(self, user) -> None:
        """Who acts: the authenticated user, their role and clinic."""
        if user is None or not getattr(user, "is_authenticated", False):
            return
        self.user_id = user.pk
        self.role = actor_role(user)
        self.tenant_id = getattr(user, "tenant_id", None)

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
        if patient_ids is not None:
            shown = list(dict.fromkeys(pid for pid in patient_ids if pid is not None))
            for pid in shown or [None]:
                self.record(
                    action, model, object_id=object_id, patient_id=pid, fields=fields, params=params,
                    outcome=outcome, tenant_id=tenant_id,
                )  # fmt: skip
            return
        self.events.append(
            AuditEvent(
                at=timezone.now(),
                tenant_id=self.tenant_id if self.tenant_id is not None else tenant_id,
                user_id=self.user_id,
                role=self.role,
                door=self.door,
                action=action,
                outcome=outcome,
                model=label_of(model),
                object_id=_as_id(object_id),
                patient_id=_as_id(patient_id),
                fields=sorted(set(fields)),
                params=sorted(set(params)),
                route=self.route[:100],
                address=self.address[:45],
            )
        )

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


# PostgreSQL's limit is 65,535 parameters a statement (SQLite's, as built here, far more).
MAX_PARAMETERS = 60_000


def insert_events(events: list[AuditEvent]) -> None:
    """One multi-row INSERT of `events`, whatever their number.

    Not bulk_create: on SQLite Django splits it into batches of 999 parameters (a list of 100
    patients would be two statements), and on PostgreSQL it asks for the new ids back, which
    nobody reads. The values go through each field's own conversion (JSON, dates), as in a save.
    No scope is needed: the rows name their clinic (a superuser's request, a task across clinics).
    """
    fields = [field for field in AuditEvent._meta.concrete_fields if not field.primary_key]
    per_statement = MAX_PARAMETERS // len(fields)
    if len(events) > per_statement:  # thousands of rows (an admin action on a whole clinic): rare
        for start in range(0, len(events), per_statement):
            insert_events(events[start : start + per_statement])
        return
    quote = connection.ops.quote_name
    table = quote(AuditEvent._meta.db_table)
    columns = ", ".join(quote(field.column) for field in fields)
    rows = ", ".join([f"({', '.join(['%s'] * len(fields))})"] * len(events))
    # Identifiers from the model's own metadata, values as parameters.
    sql = f"INSERT INTO {table} ({columns}) VALUES {rows}"  # noqa: S608
    params = [
        field.get_db_prep_save(getattr(event, field.attname), connection)
        for event in events
        for field in fields
    ]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


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


def note_changed(instance: models.Model, names: Iterable[str]) -> None:
    """A service changed these fields of `instance`: the door's change event names them."""
    trail = _current.get()
    if trail is not None:
        key = (label_of(instance), instance.pk)
        trail.changed[key] = sorted({*trail.changed.get(key, ()), *names})
