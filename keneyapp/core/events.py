"""Live events: a domain tells open screens that something changed, after its transaction commits.

A service calls `publish_on_commit(group=..., event=...)`; once the transaction commits, the event
goes to the channel layer group, and every websocket in that group (messaging/consumers.py)
forwards it to its client. The database stays the record: an event is a notification that may be
lost (Redis down, a socket closing), never the only copy of anything, so a failure to publish is
logged and never fails the request that made the change.

Groups are named by clinic and user, so a socket that joins only its own user's and clinic's
groups can never see another clinic's events:

    clinic-<tenant_id>-user-<user_id>   one staff member's sockets (their messages, unread count)
    clinic-<tenant_id>-staff            every staff socket of the clinic (appointments)

The contract: every event type has a declared shape, a TypedDict registered with `@event_shape`
in its domain's events.py (messaging/events.py, appointments/events.py), whose `type` key is a
Literal of the type names it covers. Events hold JSON types only: a datetime is converted to an
ISO string by the code building the event. With LIVE_EVENTS_STRICT (on in the tests) an event is
checked against its shape and serialised when it is published, so a wrong or unserialisable
payload fails the change that published it; in production the same mistake is a log line.
"""

from __future__ import annotations

import asyncio
import logging
import os
import threading
import time
import types
from collections.abc import Callable, Mapping
from typing import Any, Literal, TypeVar, Union, get_args, get_origin, get_type_hints, is_typeddict

import orjson
import redis.exceptions
from asgiref.sync import SyncToAsync, async_to_sync
from channels.layers import InMemoryChannelLayer, get_channel_layer
from django.conf import settings
from django.db import transaction

from keneyapp.core.scoping import in_current_scope

logger = logging.getLogger("keneyapp.events")

# How long a request may wait for the channel layer before giving up on its events.
PUBLISH_TIMEOUT_SECONDS = 2.0
# After the channel layer failed or timed out, events are dropped (logged) without trying it for
# this long: during an outage each write would otherwise wait PUBLISH_TIMEOUT_SECONDS for nothing.
LAYER_RETRY_SECONDS = 2.0
# What a channel layer whose Redis is down or frozen raises (a publish that timed out included).
LAYER_DOWN_ERRORS = (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError, OSError, TimeoutError)
# The channel layer message type the websocket consumer handles (its `client_event` method).
CLIENT_EVENT = "client.event"

Event = Mapping[str, Any]  # a Mapping, so that the declared TypedDicts are Events
# An event, or a function computing it once the transaction has committed (e.g. an unread count,
# which must be read after the change is visible).
EventOrFactory = Event | Callable[[], Event | None]

# Event type name -> its declared shape (filled by @event_shape in the domains' events modules).
EVENT_SHAPES: dict[str, type] = {}

Shape = TypeVar("Shape", bound=type)


class EventContractError(TypeError):
    """An event that does not match its declared shape or is not plain JSON: a bug in its builder."""


def event_shape(shape: Shape) -> Shape:
    """Register a TypedDict as the shape of the event types its `type: Literal[...]` names."""
    event_types = get_args(get_type_hints(shape)["type"])
    if not is_typeddict(shape) or not event_types:
        raise TypeError(f"{shape.__name__}: an event shape is a TypedDict with type: Literal[...]")
    for event_type in event_types:
        if EVENT_SHAPES.setdefault(event_type, shape) is not shape:
            raise TypeError(f"event type {event_type!r} is declared twice")
    return shape


def check_event(event: Event) -> None:
    """Raise EventContractError unless `event` matches the shape declared for its type and
    serialises to JSON as it is (no fallback for other types)."""
    event_type = event.get("type")
    shape = EVENT_SHAPES.get(event_type) if isinstance(event_type, str) else None
    if shape is None:
        raise EventContractError(f"event type {event_type!r} has no declared shape (@event_shape)")
    problems = _mismatches(event, shape, path=str(event_type))
    if problems:
        raise EventContractError("; ".join(problems))
    try:
        orjson.dumps(event)
    except TypeError as exc:
        raise EventContractError(f"{event_type}: {exc}") from None


def _mismatches(value: Any, annotation: Any, *, path: str) -> list[str]:
    if is_typeddict(annotation):
        if not isinstance(value, dict):
            return [f"{path}: {type(value).__name__}, not an object"]
        hints = get_type_hints(annotation)
        problems = [f"{path}.{key}: missing" for key in annotation.__required_keys__ - value.keys()]
        problems += [f"{path}.{key}: not declared" for key in value.keys() - hints.keys()]
        for key in value.keys() & hints.keys():
            problems += _mismatches(value[key], hints[key], path=f"{path}.{key}")
        return problems
    origin = get_origin(annotation)
    if origin is Literal:
        if value in get_args(annotation):
            return []
        return [f"{path}: {value!r} is not one of {get_args(annotation)}"]
    if origin in (Union, types.UnionType):
        options = get_args(annotation)
        if any(not _mismatches(value, option, path=path) for option in options):
            return []
        return [f"{path}: {type(value).__name__} matches none of {options}"]
    if origin is list:
        if not isinstance(value, list):
            return [f"{path}: {type(value).__name__}, not a list"]
        (item,) = get_args(annotation)
        return [
            problem
            for index, element in enumerate(value)
            for problem in _mismatches(element, item, path=f"{path}[{index}]")
        ]
    if annotation is type(None):
        return [] if value is None else [f"{path}: {type(value).__name__}, not null"]
    # bool is an int in Python, not in JSON: an int field holding True is a mistake.
    if isinstance(value, annotation) and not (isinstance(value, bool) and annotation is not bool):
        return []
    return [f"{path}: {type(value).__name__}, not {annotation.__name__}"]


def user_group(tenant_id: int, user_id: int) -> str:
    return f"clinic-{int(tenant_id)}-user-{int(user_id)}"


def staff_group(tenant_id: int) -> str:
    return f"clinic-{int(tenant_id)}-staff"


def publish_on_commit(*, group: str, event: EventOrFactory) -> None:
    """Send `event` to `group` after the current transaction commits (at once outside one)."""
    publish_many_on_commit([(group, event)])


def publish_many_on_commit(deliveries: list[tuple[str, EventOrFactory]]) -> None:
    """Several events, sent in order in one round of the channel layer after commit."""
    if settings.LIVE_EVENTS_STRICT:
        for _, event in deliveries:
            if not callable(event):  # a factory's event is checked when it is computed
                check_event(event)
    if deliveries:
        # Lazy events read the database: in the scope of the code that published them.
        transaction.on_commit(in_current_scope(lambda: publish_now(deliveries)))


def notify_consumers_on_commit(*, group: str, message: dict) -> None:
    """After commit, send `message` (a channel-layer message: its "type" names the consumer method
    that handles it) to every consumer in `group`, for the consumers themselves rather than their
    clients (e.g. "check your session again"). Never raises, like publish_now."""
    transaction.on_commit(lambda: _send_to_consumers([(group, message)]))


def _send_to_consumers(messages: list[tuple[str, dict]]) -> None:
    layer = get_channel_layer()
    if layer is None:
        return
    if _layer_resting():
        logger.warning("could not notify %d consumer group(s): the channel layer is down", len(messages))
        return
    try:
        _run(_send_all, layer, messages)
    except Exception as exc:
        _note_failure(exc)
        logger.warning("could not notify %d consumer group(s)", len(messages), exc_info=True)


def publish_now(deliveries: list[tuple[str, EventOrFactory]]) -> None:
    """Send now, from synchronous code (a view, a task). Never raises: the database is the record."""
    layer = get_channel_layer()
    if layer is None:
        return
    try:
        resolved = [(group, event() if callable(event) else event) for group, event in deliveries]
        if settings.LIVE_EVENTS_STRICT:
            for _, event in resolved:
                if event:
                    check_event(event)
        messages = [
            (group, {"type": CLIENT_EVENT, "event": _plain(event)}) for group, event in resolved if event
        ]
        if messages and _layer_resting():
            logger.warning("could not publish %d live event(s): the channel layer is down; "
                           "clients catch up from the API", len(messages))  # fmt: skip
        elif messages:
            _run(_send_all, layer, messages)
    except EventContractError:
        raise  # only with LIVE_EVENTS_STRICT: a test fails rather than logging it
    except Exception as exc:
        _note_failure(exc)
        logger.warning("could not publish %d live event(s); clients catch up from the API",
                       len(deliveries), exc_info=True)  # fmt: skip


class _LayerHealth:
    """When this process last found the channel layer down (monotonic seconds; 0: never)."""

    failed_at = 0.0


def _note_failure(exc: BaseException) -> None:
    if isinstance(exc, LAYER_DOWN_ERRORS):
        _LayerHealth.failed_at = time.monotonic()


def _layer_resting() -> bool:
    failed_at = _LayerHealth.failed_at
    return bool(failed_at) and time.monotonic() - failed_at < LAYER_RETRY_SECONDS


def _plain(event: Event) -> Event:
    """The event as JSON types (tuples as lists, str subclasses as str): what channels-redis can
    serialise and the client reads. Anything else is the builder's mistake, and raises."""
    return orjson.loads(orjson.dumps(event))


def _running_main_loop() -> asyncio.AbstractEventLoop | None:
    """The server's event loop when this sync code runs under it (a sync view of the ASGI server,
    called through sync_to_async), else None (a WSGI worker, a task, a shell)."""
    if getattr(SyncToAsync.threadlocal, "main_event_loop_pid", None) != os.getpid():
        return None
    loop = getattr(SyncToAsync.threadlocal, "main_event_loop", None)
    return loop if loop is not None and loop.is_running() else None


class _PublisherLoop:
    """One event loop thread per process for publishing from sync code that has no loop (gunicorn
    threads, Celery). async_to_sync would start a new loop for every call, and channels-redis
    connects afresh for each new loop: ~20 ms a message instead of ~1 ms."""

    def __init__(self):
        self.lock = threading.Lock()
        self.loop: asyncio.AbstractEventLoop | None = None
        self.pid = None

    def get(self) -> asyncio.AbstractEventLoop:
        with self.lock:
            if self.loop is None or self.pid != os.getpid():  # a fork does not inherit the thread
                self.loop, self.pid = asyncio.new_event_loop(), os.getpid()
                threading.Thread(target=self.loop.run_forever, name="keneyapp-events", daemon=True).start()
            return self.loop


_publisher = _PublisherLoop()


def _run(function, *args) -> None:
    layer = args[0]
    if _running_main_loop() is not None or isinstance(layer, InMemoryChannelLayer):
        # Under the ASGI server this runs on its loop; the in-memory layer (one process, whose
        # sockets live on that loop) must never be driven from another loop's thread.
        async_to_sync(function)(*args)
        return
    future = asyncio.run_coroutine_threadsafe(function(*args), _publisher.get())
    future.result(timeout=PUBLISH_TIMEOUT_SECONDS)


async def _send_all(layer, messages: list[tuple[str, dict]]) -> None:
    for group, message in messages:
        await layer.group_send(group, message)
