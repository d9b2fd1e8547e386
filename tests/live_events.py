"""Hearing the live events a clinic's staff sockets would get, from a synchronous test."""

import asyncio
from contextlib import contextmanager

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer

from keneyapp.core.events import staff_group


@contextmanager
def staff_events(tenant_id: int):
    """Collects, in the list it yields, the events sent to the clinic's staff group inside the
    block (run the block's on-commit callbacks, e.g. with django_capture_on_commit_callbacks)."""
    layer = get_channel_layer()
    channel = async_to_sync(layer.new_channel)()
    async_to_sync(layer.group_add)(staff_group(tenant_id), channel)
    heard: list[dict] = []
    try:
        yield heard
    finally:

        async def drain():
            # One loop for every receive: the in-memory layer's queue binds to the loop it waits on.
            while True:
                try:
                    message = await asyncio.wait_for(layer.receive(channel), 0.2)
                except TimeoutError:
                    return
                heard.append(message["event"])

        async_to_sync(drain)()
        async_to_sync(layer.group_discard)(staff_group(tenant_id), channel)
