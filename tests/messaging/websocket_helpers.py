"""Helpers for websocket tests: a communicator with a user's token, and reading events."""

import asyncio
import json
import time
from unittest import mock
from urllib.parse import unquote, urlparse

from asgiref.testing import ApplicationCommunicator

from keneyapp.accounts.tokens import issue_access_token

WS_PATH = "/ws/notifications/"


class WebsocketCommunicator(ApplicationCommunicator):
    """Channels' WebsocketCommunicator, reduced to what these tests use.

    `channels.testing` cannot be imported here: its package imports the live-server test case,
    which needs daphne (not a dependency: uvicorn serves ASGI). Like Channels' own, it keeps
    the consumer from closing the test's database connection.
    """

    def __init__(self, application, path: str, subprotocols=None):
        parsed = urlparse(path)
        scope = {
            "type": "websocket",
            "path": unquote(parsed.path),
            "query_string": parsed.query.encode(),
            "headers": [],
            "subprotocols": subprotocols or [],
        }
        super().__init__(application, scope)

    async def send_input(self, message):
        with mock.patch("channels.db.close_old_connections", lambda: None):
            return await super().send_input(message)

    async def receive_output(self, timeout=1):
        with mock.patch("channels.db.close_old_connections", lambda: None):
            return await super().receive_output(timeout)

    async def connect(self, timeout=1):
        """(True, subprotocol) when accepted, (False, close code) when refused."""
        await self.send_input({"type": "websocket.connect"})
        response = await self.receive_output(timeout)
        if response["type"] == "websocket.close":
            return False, response.get("code", 1000)
        assert response["type"] == "websocket.accept", response
        return True, response.get("subprotocol")

    async def send_to(self, text_data=None, bytes_data=None):
        if text_data is not None:
            await self.send_input({"type": "websocket.receive", "text": text_data})
        else:
            await self.send_input({"type": "websocket.receive", "bytes": bytes_data})

    async def receive_from(self, timeout=1):
        response = await self.receive_output(timeout)
        assert response["type"] == "websocket.send", response
        return response.get("text") or response.get("bytes")

    async def disconnect(self, code=1000, timeout=1):
        await self.send_input({"type": "websocket.disconnect", "code": code})
        await self.wait(timeout)


def token_for(user) -> str:
    return issue_access_token(user_id=user.pk, tenant_id=user.tenant_id)


def communicator(subprotocols=None, path=WS_PATH) -> WebsocketCommunicator:
    from keneyapp.asgi import application

    return WebsocketCommunicator(application, path, subprotocols=subprotocols)


async def open_socket(user) -> WebsocketCommunicator:
    socket = communicator(["bearer", token_for(user)])
    connected, subprotocol = await socket.connect()
    assert connected and subprotocol == "bearer"
    return socket


async def frames_until(socket, done, timeout=3.0) -> list[dict]:
    """Frames (decoded) received until `done(events)` holds for the flattened events."""
    frames, deadline = [], time.monotonic() + timeout
    while not done(flatten(frames)):
        left = deadline - time.monotonic()
        if left <= 0:
            raise AssertionError(f"timed out; got {flatten(frames)}")
        frames.append(json.loads(await socket.receive_from(timeout=left)))
    return frames


def flatten(frames: list[dict]) -> list[dict]:
    events = []
    for frame in frames:
        events.extend(frame["events"] if frame["type"] == "batch" else [frame])
    return events


async def assert_nothing_received(socket, timeout=0.3) -> None:
    assert await socket.receive_nothing(timeout=timeout), await socket.receive_output()


async def settle() -> None:
    await asyncio.sleep(0)
