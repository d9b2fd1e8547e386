"""Helpers for websocket tests: a communicator with a user's token, and reading events."""

import asyncio
import json
import time

from channels.testing import WebsocketCommunicator

from keneyapp.accounts.tokens import issue_access_token

WS_PATH = "/ws/notifications/"


def token_for(user) -> str:
    return issue_access_token(user=user)


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
