"""Nothing lost: the database is the record, a socket is a notification. A receiver whose socket
closes and reopens in the middle of 500 messages ends with all 500, none twice, and the right
unread count; a message sent while the channel layer is down is stored and caught up."""

from unittest import mock

import pytest
from asgiref.sync import async_to_sync, sync_to_async
from django.test import TestCase

from keneyapp.core.scoping import scopes_disabled
from messaging.services import message_send

from .conftest import MESSAGES_URL
from .websocket_helpers import flatten, frames_until, open_socket

pytestmark = pytest.mark.django_db

TOTAL = 500


def created_ids(events: list[dict]) -> list[int]:
    return [event["message"]["id"] for event in events if event["type"] == "message.created"]


def all_created_and_counted(count: int):
    """Done when `count` messages arrived and the unread count that follows the last one too (each
    message sends `message.created`, then `unread.count`; they may come in different frames)."""

    def done(events: list[dict]) -> bool:
        kinds = [event["type"] for event in events]
        return len(created_ids(events)) >= count and kinds[-1] == "unread.count"

    return done


def catch_up(client, after_id: int) -> tuple[list[int], int]:
    """What a reconnecting client does: page through ?after_id= until nothing is left."""
    ids, first_total = [], None
    while True:
        body = client.get(MESSAGES_URL, {"after_id": after_id, "limit": 100}).json()
        first_total = body["total"] if first_total is None else first_total
        if not body["items"]:
            return ids, first_total
        ids += [item["id"] for item in body["items"]]
        after_id = ids[-1]


def test_500_messages_across_a_reconnect_arrive_all_once_with_the_right_unread_count(api, doctor, nurse):
    def send_batch(count: int) -> list[int]:
        ids = []
        for index in range(count):
            # the events go out on commit
            with TestCase.captureOnCommitCallbacks(execute=True), scopes_disabled():
                ids.append(message_send(sender=doctor, receiver_id=nurse.pk, body=f"m{index}").message.pk)
        return ids

    async def scenario():
        socket = await open_socket(nurse)
        live_before = await sync_to_async(send_batch)(200)
        events = flatten(await frames_until(socket, lambda e: len(created_ids(e)) >= 200, timeout=20))
        seen_live = created_ids(events)
        assert seen_live == live_before
        await socket.disconnect()  # the screen goes away...

        while_closed = await sync_to_async(send_batch)(150)  # ...these are only in the database...

        socket = await open_socket(nurse)  # ...and it comes back
        live_after = await sync_to_async(send_batch)(150)
        events = flatten(await frames_until(socket, all_created_and_counted(150), timeout=20))
        assert created_ids(events) == live_after
        last_count = [event["count"] for event in events if event["type"] == "unread.count"][-1]
        await socket.disconnect()

        caught_up, total = await sync_to_async(catch_up)(api(nurse), seen_live[-1])
        return seen_live, while_closed, live_after, caught_up, total, last_count

    with mock.patch("channels.db.close_old_connections", lambda: None):
        seen_live, while_closed, live_after, caught_up, total, last_count = async_to_sync(scenario)()

    assert len(caught_up) == len(set(caught_up)) == total == 300  # every page once, no duplicate
    assert caught_up == while_closed + live_after  # in order, none missing
    everything = set(seen_live) | set(caught_up)
    assert len(everything) == TOTAL
    assert last_count == TOTAL
    assert api(nurse).get(f"{MESSAGES_URL}/unread-count").json() == {"unread": TOTAL}


def test_a_message_sent_while_the_channel_layer_is_down_is_stored_and_caught_up(
    api, doctor, nurse, django_capture_on_commit_callbacks, caplog
):
    class BrokenLayer:
        async def group_send(self, group, message):
            raise ConnectionError("Redis is down")

    with (
        mock.patch("keneyapp.core.events.get_channel_layer", return_value=BrokenLayer()),
        django_capture_on_commit_callbacks(execute=True),
    ):
        response = api(doctor).post(
            MESSAGES_URL, {"receiver_id": nurse.pk, "body": "Still here"}, format="json"
        )

    assert response.status_code == 201
    assert "could not publish" in caplog.text
    items = api(nurse).get(MESSAGES_URL, {"after_id": 0}).json()["items"]
    assert [item["body"] for item in items] == ["Still here"]
