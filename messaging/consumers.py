"""`/ws/notifications/`: one staff member's live events (messages, read receipts, unread count,
the clinic's appointments).

Protocol (README "Live events"):
- Authentication: the access token as the subprotocol pair `bearer, <token>` (a browser's
  `new WebSocket(url, ["bearer", token])`), never in the URL (URLs end up in logs). The server
  accepts with the subprotocol `bearer`. A missing, forged or expired token, or a user without a
  clinic, is refused before the handshake completes (HTTP 403; close code 4401 to ASGI). When the
  token expires while the socket is open, the socket is closed with 4401: reconnect with a fresh one.
- At most MAX_WS_CONNECTIONS_PER_USER open sockets per user, across all processes
  (messaging/connection_slots.py); the next is accepted, then closed with 1008 "Too many connections".
- Server -> client: JSON objects with a `type`. A burst is sent in frames of up to WS_BATCH_SIZE
  events, `{"type": "batch", "events": [...]}`, at most one frame per WS_BATCH_INTERVAL_MS; a
  lone event (none sent in the last interval) is sent at once, as itself.
- Client -> server: `{"type": "ping"}` -> `{"type": "pong"}`. Anything else (malformed JSON, an
  unknown type, a binary or oversized frame) -> `{"type": "error", "code", "detail"}`, and the socket
  stays open. More frames than the token bucket allows -> an error event, then close 1008.

A socket joins only its own user's group and its own clinic's staff group (keneyapp/core/events.py),
so it can never receive another clinic's events. Events are notifications: the database is the
record, and a client that reconnects catches up with GET /api/v1/messages?after_id=<last seen>.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
import uuid

import redis.exceptions
from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer
from django.conf import settings

from keneyapp.accounts import tokens
from keneyapp.accounts.authentication import authenticate_access_claims
from keneyapp.accounts.roles import role_can
from keneyapp.core import audit
from keneyapp.core.events import staff_group, user_group
from keneyapp.core.network import scope_client_address
from keneyapp.core.scoping import UnscopedQuery, log_unscoped_query, scope
from messaging import connection_slots

logger = logging.getLogger("keneyapp.messaging")

SUBPROTOCOL = "bearer"
CLOSE_UNAUTHORIZED = 4401
CLOSE_POLICY_VIOLATION = 1008
TOO_MANY_CONNECTIONS = "Too many connections"
# The channel layer (Redis) is unreachable: "Try Again Later" (RFC 6455), the client reconnects
# with a backoff and meanwhile reads from the API. Never 1011 (a server bug) for a dependency down.
CLOSE_TRY_AGAIN_LATER = 1013
LIVE_EVENTS_UNAVAILABLE = "Live events unavailable"
# What the channel layer raises when its Redis is down or hangs.
CHANNEL_LAYER_ERRORS = (
    redis.exceptions.ConnectionError,
    redis.exceptions.TimeoutError,
    OSError,
    TimeoutError,
)
# Longest wait for the channel layer while a socket joins its groups or leaves them: its reads may
# wait CHANNEL_LAYER_SOCKET_TIMEOUT_SECONDS (30 s, beyond its 5 s blocking read), far too long for
# a handshake to hang on a Redis that stopped answering.
GROUP_CHANGE_TIMEOUT_SECONDS = 2.0


class TokenBucket:
    """`rate` frames per second on average, bursts of up to `burst`."""

    def __init__(self, *, rate: float, burst: int):
        self.rate, self.capacity = rate, float(burst)
        self.tokens, self.updated = float(burst), time.monotonic()

    def allow(self) -> bool:
        now = time.monotonic()
        self.tokens = min(self.capacity, self.tokens + (now - self.updated) * self.rate)
        self.updated = now
        if self.tokens < 1:
            return False
        self.tokens -= 1
        return True


def _token_from_subprotocols(subprotocols: list[str]) -> str | None:
    if len(subprotocols) == 2 and subprotocols[0].lower() == SUBPROTOCOL and subprotocols[1]:
        return subprotocols[1]
    return None


def _in_clinic_scope(tenant_id: int, func, args):
    try:
        with scope(tenant=tenant_id):
            return func(*args)
    except UnscopedQuery as error:
        log_unscoped_query(error, door="websocket /ws/notifications/")
        raise


def _authenticate(token: str):
    """(user, claims) for a valid access token of active clinic staff; None otherwise."""
    try:
        # An access token, or an admin page's socket ticket (keneyapp/accounts/tokens.py).
        claims = tokens.read_access_token(token, types=tokens.WEBSOCKET_TYPES)
    except tokens.InvalidToken:
        return None
    user = _user_for(claims)
    return None if user is None else (user, claims)


def _user_for(claims: tokens.AccessClaims):
    """The user while the token still holds (not revoked, credentials unchanged, clinic open)."""
    user = authenticate_access_claims(claims)
    if user is None or user.tenant_id is None or not role_can(user.role or "", "messages.view"):
        return None
    return user


class NotificationConsumer(AsyncWebsocketConsumer):
    groups = []  # joined by hand once authenticated, never from the class

    async def connect(self):
        self.user = None
        self.connection_id = uuid.uuid4().hex
        self.joined: list[str] = []
        self.has_slot = False
        self.buffer: list[dict] = []
        self.flush_task: asyncio.Task | None = None
        self.heartbeat_task: asyncio.Task | None = None
        self.last_frame_at = 0.0
        # One frame of events at a time, in order (the flush timer and a full batch may race).
        self.send_lock = asyncio.Lock()
        self.batch_size = max(1, settings.WS_BATCH_SIZE)
        self.batch_interval = settings.WS_BATCH_INTERVAL_MS / 1000
        self.bucket = TokenBucket(
            rate=settings.WS_CLIENT_FRAMES_PER_SECOND, burst=settings.WS_CLIENT_FRAME_BURST
        )

        token = _token_from_subprotocols(self.scope.get("subprotocols") or [])
        found = await database_sync_to_async(_authenticate)(token) if token else None
        if found is None:
            await self.close(code=CLOSE_UNAUTHORIZED)
            return
        user, self.claims = found
        self.expires_at = self.claims.expires_at
        if not await connection_slots.take_slot(user.pk, self.connection_id):
            # Accepted first so the client sees the code and the reason (a refused handshake is
            # only an HTTP 403, indistinguishable from a bad token).
            await self.accept(subprotocol=SUBPROTOCOL)
            await self.close(code=CLOSE_POLICY_VIOLATION, reason=TOO_MANY_CONNECTIONS)
            return
        self.user, self.has_slot = user, True
        self.joined = [user_group(user.tenant_id, user.pk)]
        if role_can(user.role, "appointments.view"):
            self.joined.append(staff_group(user.tenant_id))
        try:
            await self._join_groups()
        except Exception:
            # The channel layer is unusable (unreachable, or no answer within the bound): a socket
            # that can hear nothing is refused, with a code that says "later" (its slot is given
            # back when it disconnects). Accepted first so the client sees the code.
            logger.warning("websocket refused: the channel layer is unavailable", exc_info=True)
            await self.accept(subprotocol=SUBPROTOCOL)
            await self._close_unavailable()
            return
        await self.accept(subprotocol=SUBPROTOCOL)
        self.heartbeat_task = asyncio.create_task(self._heartbeat())

    async def __call__(self, scope, receive, send):
        """Channels' loop, which also reads this socket's channel in the channel layer: when that
        read fails (Redis went away under an open socket) the socket is closed with 1013 and its
        slot given back, instead of the consumer dying with a traceback and a 1011."""
        try:
            await super().__call__(scope, receive, send)
        except CHANNEL_LAYER_ERRORS:
            logger.warning("websocket closed: the channel layer is unavailable")
            if getattr(self, "connection_id", None) is not None:  # connect() ran
                await self._close_unavailable()
                await self.disconnect(CLOSE_TRY_AGAIN_LATER)

    async def _close_unavailable(self):
        # Memberships cannot be dropped without Redis; they expire (CHANNEL_LAYER_GROUP_EXPIRY_SECONDS).
        self.joined = []
        try:
            await self.close(code=CLOSE_TRY_AGAIN_LATER, reason=LIVE_EVENTS_UNAVAILABLE)
        except Exception:  # the client went at the same moment
            logger.debug("websocket: close after the channel layer failed", exc_info=True)

    async def in_clinic_scope(self, func, *args):
        """The socket's door into its clinic scope: run `func(*args)` (database work) in a worker
        thread inside the scope of the clinic named by the token's claims at connect.

        The scope is entered in the thread that runs the queries, at each call: contextvars do not
        flow between asyncio tasks (a heartbeat or flush task would not see a scope entered in
        connect), and a scope held across awaits could leak into another socket's work.
        """
        return await database_sync_to_async(_in_clinic_scope)(self.user.tenant_id, func, args)

    async def disconnect(self, code):
        for task in (self.flush_task, self.heartbeat_task):
            if task is not None and task is not asyncio.current_task():
                task.cancel()
        joined, self.joined = self.joined, []
        try:
            async with asyncio.timeout(GROUP_CHANGE_TIMEOUT_SECONDS):
                for group in joined:
                    await self.channel_layer.group_discard(group, self.channel_name)
        except CHANNEL_LAYER_ERRORS:
            logger.warning("websocket: could not leave its groups (they expire by themselves)")
        if self.has_slot:
            self.has_slot = False
            await connection_slots.release_slot(self.user.pk, self.connection_id)

    async def _join_groups(self):
        async with asyncio.timeout(GROUP_CHANGE_TIMEOUT_SECONDS):
            for group in self.joined:
                await self.channel_layer.group_add(group, self.channel_name)

    async def _heartbeat(self):
        """Keep the slot and the group memberships alive; close when the token expires, or when
        it no longer holds (a revocation whose notice this socket missed)."""
        while True:
            delay = min(settings.WS_HEARTBEAT_SECONDS, max(0.0, self.expires_at - time.time()))
            await asyncio.sleep(delay)
            if time.time() >= self.expires_at:
                await self.close(code=CLOSE_UNAUTHORIZED, reason="Access token expired")
                return
            if not await self._session_holds():
                return
            await connection_slots.refresh_slot(self.user.pk, self.connection_id)
            try:
                await self._join_groups()
            except CHANNEL_LAYER_ERRORS:
                logger.warning("websocket closed: the channel layer is unavailable")
                await self._close_unavailable()
                return

    async def session_recheck(self, message):
        """A `session.recheck` from keneyapp/accounts/revocation.py: the user's password, role,
        clinic or activity changed, or one of their logins ended (perhaps another than this one's:
        the check tells)."""
        if self.user is not None:
            await self._session_holds()

    async def _session_holds(self) -> bool:
        """Check the token against the user as they are now; close with 4401 when it fails."""
        if await database_sync_to_async(_user_for)(self.claims) is not None:
            return True
        await self.close(code=CLOSE_UNAUTHORIZED, reason="Session revoked")
        return False

    # --- client -> server ---------------------------------------------------------------------
    async def receive(self, text_data=None, bytes_data=None):
        if self.user is None:
            return
        if not self.bucket.allow():
            await self._send_now({"type": "error", "code": "rate_limited", "detail": "Too many frames."})
            await self.close(code=CLOSE_POLICY_VIOLATION, reason="Too many frames")
            return
        if text_data is None:
            await self._error("binary_not_supported", "Send JSON text frames.")
            return
        if len(text_data) > settings.WS_CLIENT_FRAME_MAX_BYTES:
            await self._error(
                "frame_too_large", f"Frames are at most {settings.WS_CLIENT_FRAME_MAX_BYTES} bytes."
            )
            return
        try:
            frame = json.loads(text_data)
        except ValueError:
            await self._error("malformed_json", "The frame is not valid JSON.")
            return
        if not isinstance(frame, dict) or not isinstance(frame.get("type"), str):
            await self._error("invalid_event", 'A frame is a JSON object with a "type".')
            return
        if frame["type"] == "ping":
            await self._send_now({"type": "pong"})
            return
        await self._error(
            "unknown_type", f"Unknown event type {frame['type'][:50]!r}; the client may send: ping."
        )

    async def _error(self, code: str, detail: str):
        await self._send_now({"type": "error", "code": code, "detail": detail})

    async def _send_now(self, event: dict):
        await self.send(text_data=json.dumps(event))  # plain JSON already (keneyapp.core.events)

    # --- server -> client: events from the channel layer, batched --------------------------------
    async def client_event(self, message):
        """A `client.event` from keneyapp.core.events.publish_*: queue it for this socket."""
        if self.user is None:
            return
        self.buffer.append(message["event"])
        if len(self.buffer) >= self.batch_size:
            await self._flush()
        elif self.flush_task is None:
            wait = self.last_frame_at + self.batch_interval - time.monotonic()
            if wait <= 0:
                await self._flush()  # a lone event: nothing went out within the interval
            else:
                self.flush_task = asyncio.create_task(self._flush_later(wait))

    async def _flush_later(self, wait: float):
        await asyncio.sleep(wait)
        self.flush_task = None
        try:
            await self._flush()
        except OSError:
            # The client went away while the frame waited (uvicorn's ClientDisconnected is an
            # OSError): nobody is left to receive it, and the client catches up from the API.
            # Raised from this background task it was "Task exception was never retrieved".
            logger.debug("socket closed before a delayed frame could be sent")

    async def _flush(self):
        if self.flush_task is not None and self.flush_task is not asyncio.current_task():
            self.flush_task.cancel()
            self.flush_task = None
        async with self.send_lock:
            await self._send_buffered()

    async def _send_buffered(self):
        while self.buffer:
            events, self.buffer = self.buffer[: self.batch_size], self.buffer[self.batch_size :]
            events = await self._audited(events)
            if not events:
                continue
            frame = events[0] if len(events) == 1 else {"type": "batch", "events": events}
            self.last_frame_at = time.monotonic()
            await self._send_now(frame)
            if len(self.buffer) < self.batch_size:
                break
        if self.buffer and self.flush_task is None:
            # What is left waits for the next interval (or for the batch to fill up).
            self.flush_task = asyncio.create_task(self._flush_later(self.batch_interval))

    async def _audited(self, events: list[dict]) -> list[dict]:
        """The websocket door of the audit trail: the events of a frame that carry patient data
        are recorded (one INSERT) before the frame leaves; if that fails they are dropped (logged;
        the client catches up from the API, which records its reads), the others still go."""
        accesses = patient_accesses(events)
        if not accesses or not audit.enabled():
            return events
        address = scope_client_address(self.scope)
        if await database_sync_to_async(_record_deliveries)(self.user, address, accesses):
            return events
        return [event for event in events if not patient_accesses([event])]


def patient_accesses(events: list[dict]) -> list[tuple[str, int, int]]:
    """(model, object id, patient id) of each event that names a patient: a message about a
    patient, an appointment."""
    accesses = []
    for event in events:
        kind = event.get("type")
        if kind == "message.created":
            message = event["message"]
            patient = message.get("patient") or {}
            if patient.get("id") is not None:
                accesses.append(("messaging.message", message["id"], patient["id"]))
        elif kind in ("appointment.created", "appointment.updated"):
            appointment = event["appointment"]
            accesses.append(("appointments.appointment", appointment["id"], appointment["patient_id"]))
    return accesses


def _record_deliveries(user, address: str, accesses: list[tuple[str, int, int]]) -> bool:
    door = audit.Door.WEBSOCKET
    with audit.open_trail(door, user=user, address=address, route="ws-notifications") as trail:
        if trail is None:
            return True
        for model, object_id, patient_id in accesses:
            trail.record(audit.Action.VIEW, model, object_id=object_id, patient_id=patient_id)
        try:
            trail.flush()
        except audit.AuditUnavailable:
            return False
    return True


class UnknownRouteConsumer(AsyncWebsocketConsumer):
    """Any other path under /ws/: refused at the handshake (403), never an unhandled error."""

    async def connect(self):
        await self.close(code=4404)
