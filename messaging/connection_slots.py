"""The guide's per-user websocket limit, counted across every server process.

With Redis (CHANNELS_REDIS_URL), each user has a sorted set of their open sockets' ids scored by
when each slot expires. Taking a slot is one Lua script (drop expired slots, count, add if under
the limit: atomic, so two processes cannot both take the last slot). A socket refreshes its slot
on every heartbeat and frees it on disconnect; a process that crashes frees nothing, but its slots
expire after three missed heartbeats, so a crash cannot lock a user out for long.

Without Redis (the single embedded process) the count is kept in this process. If Redis fails
while a slot is being taken, this process's own count is used instead (logged): a Redis outage
must not lock everyone out, and the limit still holds within each process.
"""

from __future__ import annotations

import asyncio
import logging
import time
import weakref

from django.conf import settings

logger = logging.getLogger("keneyapp.messaging")

KEY_PREFIX = "keneyapp:ws:slots:"
MISSED_HEARTBEATS_BEFORE_EXPIRY = 3

# KEYS[1] = the user's set; ARGV = now, slot expiry, limit, connection id, key ttl (seconds).
_TAKE_SLOT = """
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[3]) then
  return 0
end
redis.call('ZADD', KEYS[1], ARGV[2], ARGV[4])
redis.call('EXPIRE', KEYS[1], ARGV[5])
return 1
"""

# This process's sockets per user (the embedded mode, and the fallback when Redis fails).
_local_slots: dict[int, set[str]] = {}
# One Redis client per event loop: a client's connections belong to the loop that made them.
_clients: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _slot_ttl() -> float:
    return settings.WS_HEARTBEAT_SECONDS * MISSED_HEARTBEATS_BEFORE_EXPIRY


def _client():
    if not settings.CHANNELS_REDIS_URL:
        return None
    loop = asyncio.get_running_loop()
    client = _clients.get(loop)
    if client is None:
        import redis.asyncio as aioredis

        client = aioredis.Redis.from_url(
            settings.CHANNELS_REDIS_URL, socket_connect_timeout=1, socket_timeout=1
        )
        _clients[loop] = client
    return client


def _take_local(user_id: int, connection_id: str) -> bool:
    slots = _local_slots.setdefault(user_id, set())
    if len(slots) >= settings.MAX_WS_CONNECTIONS_PER_USER:
        return False
    slots.add(connection_id)
    return True


def _release_local(user_id: int, connection_id: str) -> None:
    slots = _local_slots.get(user_id)
    if slots is not None:
        slots.discard(connection_id)
        if not slots:
            del _local_slots[user_id]


async def take_slot(user_id: int, connection_id: str) -> bool:
    """Reserve one of the user's socket slots; False when all are taken."""
    client = _client()
    if client is None:
        return _take_local(user_id, connection_id)
    now = time.time()
    ttl = _slot_ttl()
    try:
        taken = await client.eval(
            _TAKE_SLOT,
            1,
            KEY_PREFIX + str(user_id),
            now,
            now + ttl,
            settings.MAX_WS_CONNECTIONS_PER_USER,
            connection_id,
            int(ttl) + 1,
        )
        return bool(taken)
    except Exception:
        logger.warning("websocket slots: Redis unavailable, counting in this process", exc_info=True)
        return _take_local(user_id, connection_id)


async def refresh_slot(user_id: int, connection_id: str) -> None:
    client = _client()
    if client is None or (user_id in _local_slots and connection_id in _local_slots[user_id]):
        return
    ttl = _slot_ttl()
    key = KEY_PREFIX + str(user_id)
    try:
        async with client.pipeline(transaction=True) as pipe:
            pipe.zadd(key, {connection_id: time.time() + ttl})
            pipe.expire(key, int(ttl) + 1)
            await pipe.execute()
    except Exception:
        logger.warning("websocket slots: could not refresh a slot", exc_info=True)


async def release_slot(user_id: int, connection_id: str) -> None:
    if user_id in _local_slots and connection_id in _local_slots[user_id]:
        _release_local(user_id, connection_id)
        return
    client = _client()
    if client is None:
        return
    try:
        await client.zrem(KEY_PREFIX + str(user_id), connection_id)
    except Exception:
        logger.warning("websocket slots: could not free a slot (it expires by itself)", exc_info=True)
