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
"""

from __future__ import annotations

import asyncio
import logging
import os
import threading
from collections.abc import Callable
from typing import Any

import orjson
from asgiref.sync import SyncToAsync, async_to_sync
from channels.layers import InMemoryChannelLayer, get_channel_layer
from django.db import transaction

from keneyapp.core.scoping import in_current_scope

logger = logging.getLogger("keneyapp.events")

# How long a request may wait for the channel layer before giving up on its events.
PUBLISH_TIMEOUT_SECONDS = 2.0
# The channel layer message type the websocket consumer handles (its `client_event` method).
CLIENT_EVENT = "client.event"

Event = dict[str, Any]
# An event, or a function computing it once the transaction has committed (e.g. an unread count,
# which must be read after the change is visible).
EventOrFactory = Event | Callable[[], Event | None]


def user_group(tenant_id: int, user_id: int) -> str:
    return f"clinic-{int(tenant_id)}-user-{int(user_id)}"


def staff_group(tenant_id: int) -> str:
    return f"clinic-{int(tenant_id)}-staff"


def publish_on_commit(*, group: str, event: EventOrFactory) -> None:
    """Send `event` to `group` after the current transaction commits (at once outside one)."""
    publish_many_on_commit([(group, event)])


def publish_many_on_commit(deliveries: list[tuple[str, EventOrFactory]]) -> None:
    """Several events, sent in order in one round of the channel layer after commit."""
    if deliveries:
        # Lazy events read the database: in the scope of the code that published them.
        transaction.on_commit(in_current_scope(lambda: publish_now(deliveries)))


def publish_now(deliveries: list[tuple[str, EventOrFactory]]) -> None:
    """Send now, from synchronous code (a view, a task). Never raises: the database is the record."""
    layer = get_channel_layer()
    if layer is None:
        return
    try:
        resolved = [(group, event() if callable(event) else event) for group, event in deliveries]
        messages = [
            (group, {"type": CLIENT_EVENT, "event": _plain(event)}) for group, event in resolved if event
        ]
        if messages:
            _run(_send_all, layer, messages)
    except Exception:
        logger.warning("could not publish %d live event(s); clients catch up from the API",
                       len(deliveries), exc_info=True)  # fmt: skip


def _plain(event: Event) -> Event:
    """JSON types only (dates as ISO strings): what channels-redis can serialise and the client reads."""
    return orjson.loads(orjson.dumps(event, default=str))


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
