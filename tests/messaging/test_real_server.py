"""A real websocket client (the `websockets` package) against real uvicorn processes.

One process: the handshake, the subprotocol, a refused token, a message's event. On Redis, two
processes: a message posted to A reaches a socket held by B, and the per-user limit holds across
both. They need PostgreSQL (the servers share the test database) and skip on SQLite.
"""

import asyncio
import json

import pytest
from django.db import connection
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from keneyapp.accounts.roles import Role
from tests.factories import UserFactory
from tests.live_servers import server_env, start_servers

from .websocket_helpers import token_for

pytestmark = [pytest.mark.live_server_process, pytest.mark.postgres]


@pytest.fixture
def people(transactional_db):
    if connection.vendor != "postgresql":
        pytest.skip("server processes share the test database: needs PostgreSQL")
    from tests.factories import TenantFactory

    clinic = TenantFactory(slug="live-alpha")
    doctor = UserFactory(tenant=clinic, role=Role.DOCTOR, username="live-doctor")
    nurse = UserFactory(tenant=clinic, role=Role.NURSE, username="live-nurse")
    return doctor, nurse


@pytest.fixture
def one_server(people, tmp_path):
    (server,) = start_servers(["asgi"], tmp_path, server_env(DB_POOL_SIZE="0"), kind="asgi")
    yield server
    server.stop()


@pytest.fixture
def two_servers(people, tmp_path, settings):
    if not settings.CHANNELS_REDIS_URL:
        pytest.skip("events between processes need Redis (REDIS_URL)")
    servers = start_servers(["asgi-a", "asgi-b"], tmp_path, server_env(DB_POOL_SIZE="0"), kind="asgi")
    yield servers
    for server in servers:
        server.stop()


async def next_event(socket, timeout=5.0) -> dict:
    frame = json.loads(await asyncio.wait_for(socket.recv(), timeout))
    return frame["events"][0] if frame["type"] == "batch" else frame


async def next_message_created(socket, timeout=5.0) -> dict:
    """The next message.created event, past the unread.count events that follow each message."""
    while True:
        frame = json.loads(await asyncio.wait_for(socket.recv(), timeout))
        for event in frame["events"] if frame["type"] == "batch" else [frame]:
            if event["type"] == "message.created":
                return event


def test_a_real_client_gets_its_message_and_a_bad_token_is_a_403(one_server, people):
    doctor, nurse = people
    server = one_server

    async def scenario():
        async with connect(
            f"{server.ws_url}/ws/notifications/", subprotocols=["bearer", token_for(nurse)]
        ) as ws:
            assert ws.subprotocol == "bearer"
            await ws.send('{"type": "ping"}')
            assert json.loads(await ws.recv()) == {"type": "pong"}
            await ws.send("{oops")
            assert json.loads(await ws.recv())["code"] == "malformed_json"
            answer = await asyncio.to_thread(
                server.request, "POST", "/api/v1/messages", token=token_for(doctor),
                body={"receiver_id": nurse.pk, "body": "Room 4, please"},
            )  # fmt: skip
            assert answer.status == 201, answer.body
            event = await next_event(ws)
            assert event["type"] == "message.created" and event["message"]["id"] == answer.json()["id"]
        for subprotocols in (["bearer", "forged"], None):  # refused at the handshake
            with pytest.raises(InvalidStatus) as refused:
                async with connect(f"{server.ws_url}/ws/notifications/", subprotocols=subprotocols):
                    pass
            assert refused.value.response.status_code == 403

    asyncio.run(scenario())


@pytest.fixture
def api_server(people, tmp_path, settings):
    """A gunicorn process, as production serves the API (the sockets are on uvicorn)."""
    if not settings.CHANNELS_REDIS_URL:
        pytest.skip("events between processes need Redis (REDIS_URL)")
    (server,) = start_servers(["wsgi"], tmp_path, server_env())
    yield server
    server.stop()


def test_a_message_posted_to_one_process_reaches_a_socket_on_another(two_servers, api_server, people):
    doctor, nurse = people
    a, b = two_servers

    async def scenario():
        async with connect(f"{b.ws_url}/ws/notifications/", subprotocols=["bearer", token_for(nurse)]) as ws:
            for poster, text in ((a, "From uvicorn A"), (api_server, "From gunicorn")):
                answer = await asyncio.to_thread(
                    poster.request, "POST", "/api/v1/messages", token=token_for(doctor),
                    body={"receiver_id": nurse.pk, "body": text},
                )  # fmt: skip
                assert answer.status == 201, answer.body
                event = await next_message_created(ws)
                assert event["message"]["body"] == text

    asyncio.run(scenario())


def test_the_per_user_limit_holds_across_processes(two_servers, people):
    doctor, _ = people
    a, b = two_servers
    url_of = [f"{server.ws_url}/ws/notifications/" for server in (a, b, a, b, a)]

    async def scenario():
        sockets = [await connect(url, subprotocols=["bearer", token_for(doctor)]) for url in url_of]
        try:
            for server in (a, b):
                sixth = await connect(
                    f"{server.ws_url}/ws/notifications/", subprotocols=["bearer", token_for(doctor)]
                )
                with pytest.raises(ConnectionClosed):
                    await asyncio.wait_for(sixth.recv(), 5)
                assert sixth.close_code == 1008 and sixth.close_reason == "Too many connections"
            await sockets[0].close()
            await asyncio.sleep(0.2)  # the slot is freed when the server sees the close
            again = await connect(f"{b.ws_url}/ws/notifications/", subprotocols=["bearer", token_for(doctor)])
            await again.send('{"type": "ping"}')
            assert json.loads(await asyncio.wait_for(again.recv(), 5)) == {"type": "pong"}
            await again.close()
        finally:
            for socket in sockets:
                await socket.close()

    asyncio.run(scenario())
