"""The per-user socket slots: the limit, freeing, expiry of a crashed process's slots (Redis), and
the fallback to this process's count when Redis fails."""

import asyncio
import uuid

import pytest
from asgiref.sync import async_to_sync

from messaging import connection_slots


def ids(count: int) -> list[str]:
    return [uuid.uuid4().hex for _ in range(count)]


def run(coroutine_function):
    return async_to_sync(coroutine_function)()


def test_five_slots_per_user_then_refused_and_a_freed_slot_is_reusable(settings):
    user_id = 10_000 + uuid.uuid4().int % 1_000_000  # fresh in the shared Redis too

    async def scenario():
        connections = ids(6)
        taken = [await connection_slots.take_slot(user_id, c) for c in connections]
        assert taken == [True] * 5 + [False]
        assert await connection_slots.take_slot(user_id + 1, connections[5])  # another user: free
        await connection_slots.release_slot(user_id, connections[0])
        assert await connection_slots.take_slot(user_id, connections[5])
        for c in connections[1:]:
            await connection_slots.release_slot(user_id, c)
        await connection_slots.release_slot(user_id + 1, connections[5])

    run(scenario)


def test_slots_of_a_crashed_process_expire_after_missed_heartbeats(settings):
    if not settings.CHANNELS_REDIS_URL:
        pytest.skip("slots expire in Redis; in one process they die with it")
    settings.WS_HEARTBEAT_SECONDS = 0.1  # slots live 0.3 s unless refreshed
    user_id = 20_000 + uuid.uuid4().int % 1_000_000

    async def scenario():
        crashed = ids(5)  # taken, never refreshed, never released
        assert all([await connection_slots.take_slot(user_id, c) for c in crashed])
        assert not await connection_slots.take_slot(user_id, uuid.uuid4().hex)
        await asyncio.sleep(0.2)
        await connection_slots.refresh_slot(user_id, crashed[0])  # this one is still alive
        await asyncio.sleep(0.2)
        fresh = ids(5)
        taken = [await connection_slots.take_slot(user_id, c) for c in fresh]
        assert taken == [True] * 4 + [False]  # four expired slots are free again, one is alive

    run(scenario)


def test_a_redis_failure_falls_back_to_this_processs_count(settings, monkeypatch, caplog):
    class DownRedis:
        async def eval(self, *args):
            raise ConnectionError("Redis is down")

        async def zrem(self, *args):
            raise ConnectionError("Redis is down")

    settings.CHANNELS_REDIS_URL = "redis://127.0.0.1:1/0"
    monkeypatch.setattr(connection_slots, "_client", lambda: DownRedis())

    async def scenario():
        connections = ids(6)
        taken = [await connection_slots.take_slot(7, c) for c in connections]
        assert taken == [True] * 5 + [False]  # the limit still holds within the process
        for c in connections[:5]:
            await connection_slots.release_slot(7, c)
        assert connection_slots._local_slots == {}

    run(scenario)
    assert "counting in this process" in caplog.text
