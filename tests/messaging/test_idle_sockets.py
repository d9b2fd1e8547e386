"""Idle websockets stay open on the production topology (uvicorn + channels-redis).

redis-py 8 made `socket_timeout` default to 5 s, and channels-redis waits for a socket's next event
with a blocking BZPOPMIN of 5 s on such a connection: without an explicit, longer socket timeout
every idle socket's consumer died after about 5 s with `redis.exceptions.TimeoutError` (channels_redis
issue 422). The tests elsewhere never keep a socket quiet that long; this one keeps them quiet for
WS_IDLE_TEST_SECONDS (60 by default), then delivers an event to each.
"""

import asyncio
import json
import os

import pytest
from websockets.asyncio.client import connect

from keneyapp.accounts.roles import Role
from tests.factories import TenantFactory, UserFactory
from tests.live_servers import server_env, start_servers

from .websocket_helpers import token_for

pytestmark = [pytest.mark.live_server_process, pytest.mark.postgres]

IDLE_SECONDS = float(os.environ.get("WS_IDLE_TEST_SECONDS", "60"))
RECEIVERS = 4
SOCKETS_PER_RECEIVER = 3


@pytest.fixture
def staff(transactional_db, settings):
    from django.db import connection

    if connection.vendor != "postgresql" or not settings.CHANNELS_REDIS_URL:
        pytest.skip("the production topology: uvicorn processes on PostgreSQL and channels-redis")
    clinic = TenantFactory(slug="idle-alpha")
    sender = UserFactory(tenant=clinic, role=Role.DOCTOR, username="idle-sender")
    receivers = [
        UserFactory(tenant=clinic, role=Role.NURSE, username=f"idle-receiver-{n}") for n in range(RECEIVERS)
    ]
    return sender, receivers


@pytest.fixture
def asgi_server(staff, tmp_path):
    (server,) = start_servers(["asgi-idle"], tmp_path, server_env(DB_POOL_SIZE="0"), kind="asgi")
    yield server
    server.stop()


def test_idle_sockets_stay_open_and_get_their_events(asgi_server, staff):
    sender, receivers = staff
    server = asgi_server

    async def scenario():
        sockets = {
            receiver.pk: [
                # No client pings either: the sockets are idle at every level the server sees.
                await connect(
                    f"{server.ws_url}/ws/notifications/",
                    subprotocols=["bearer", token_for(receiver)],
                    ping_interval=None,
                )
                for _ in range(SOCKETS_PER_RECEIVER)
            ]
            for receiver in receivers
        }
        try:
            await asyncio.sleep(IDLE_SECONDS)
            for receiver in receivers:
                answer = await asyncio.to_thread(
                    server.request, "POST", "/api/v1/messages", token=token_for(sender),
                    body={"receiver_id": receiver.pk, "body": f"for {receiver.username}"},
                )  # fmt: skip
                assert answer.status == 201, answer.body
                for ws in sockets[receiver.pk]:
                    event = await next_message_created(ws)
                    assert event["message"]["body"] == f"for {receiver.username}"
        finally:
            for group in sockets.values():
                for ws in group:
                    await ws.close()

    asyncio.run(scenario())
    log = server.log()
    assert "TimeoutError" not in log, log[-3000:]
    assert "Traceback" not in log, log[-3000:]


async def next_message_created(ws, timeout=10.0) -> dict:
    while True:
        frame = json.loads(await asyncio.wait_for(ws.recv(), timeout))
        for event in frame["events"] if frame["type"] == "batch" else [frame]:
            if event["type"] == "message.created":
                return event
