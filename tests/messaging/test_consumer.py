"""/ws/notifications/ through Channels' communicator: authentication, the events, batching, the
per-user limit, and bad frames.

The scenarios are coroutines run with async_to_sync; database work from them goes through
sync_to_async, on the test's thread (and its connection), so the consumer sees the test's rows.
"""

import asyncio
import json
import time
from unittest import mock

import pytest
import redis.exceptions
from asgiref.sync import async_to_sync, sync_to_async
from channels.layers import get_channel_layer
from django.conf import settings
from django.test import TestCase

from keneyapp.accounts.roles import Role
from keneyapp.core.events import CLIENT_EVENT, staff_group, user_group
from tests.factories import AppointmentFactory, PatientFactory, UserFactory

from .conftest import MESSAGES_URL
from .websocket_helpers import (
    assert_nothing_received,
    communicator,
    flatten,
    frames_until,
    open_socket,
    token_for,
)

pytestmark = pytest.mark.django_db


def run(scenario):
    # Consumers close "old" database connections around each event; in a test that would close the
    # test's own connection (its transaction) whenever an event arrives during a request.
    with mock.patch("channels.db.close_old_connections", lambda: None):
        return async_to_sync(scenario)()


def committed(call):
    """`call` (an API request) from a scenario, its on-commit work run as if it had committed:
    the test's transaction stays open (and is rolled back), and the events really go out."""

    def call_and_commit(*args, **kwargs):
        with TestCase.captureOnCommitCallbacks(execute=True):
            return call(*args, **kwargs)

    return sync_to_async(call_and_commit)


# --- authentication -------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "subprotocols",
    [None, ["bearer"], ["bearer", ""], ["bearer", "not-a-token"], ["basic", "x"], ["token"]],
)
def test_a_missing_or_forged_token_is_refused(doctor, subprotocols):
    async def scenario():
        connected, code = await communicator(subprotocols).connect()
        assert (connected, code) == (False, 4401)

    run(scenario)


def test_an_expired_or_tampered_token_is_refused(doctor, settings):
    settings.ACCESS_TOKEN_TTL_SECONDS = -10
    expired = token_for(doctor)
    settings.ACCESS_TOKEN_TTL_SECONDS = 900
    header, payload, signature = token_for(doctor).split(".")
    tampered = f"{header}.{payload}.{signature[::-1]}"

    async def scenario():
        for token in (expired, tampered):
            assert await communicator(["bearer", token]).connect() == (False, 4401)

    run(scenario)


def test_a_token_in_the_url_is_not_accepted(doctor):
    async def scenario():
        socket = communicator(path=f"/ws/notifications/?token={token_for(doctor)}")
        assert await socket.connect() == (False, 4401)

    run(scenario)


def test_a_deactivated_user_or_clinic_is_refused(doctor, nurse, clinic):
    doctor.is_active = False
    doctor.save()

    async def scenario():
        assert await communicator(["bearer", token_for(doctor)]).connect() == (False, 4401)

    run(scenario)


def test_unknown_paths_are_refused(doctor):
    async def scenario():
        socket = communicator(["bearer", token_for(doctor)], path="/ws/elsewhere/")
        connected, _ = await socket.connect()
        assert not connected

    run(scenario)


def test_a_valid_token_is_accepted_with_the_bearer_subprotocol(doctor):
    async def scenario():
        socket = await open_socket(doctor)
        await socket.send_to(text_data=json.dumps({"type": "ping"}))
        assert json.loads(await socket.receive_from()) == {"type": "pong"}
        await socket.disconnect()

    run(scenario)


# --- events ---------------------------------------------------------------------------------------
def test_a_message_reaches_the_receiver_and_its_read_receipt_the_sender(api, doctor, nurse):
    async def scenario():
        nurse_socket, doctor_socket = await open_socket(nurse), await open_socket(doctor)
        response = await committed(api(doctor).post)(
            MESSAGES_URL, {"receiver_id": nurse.pk, "body": "Labs?"}, format="json"
        )
        message_id = response.json()["id"]
        events = flatten(await frames_until(nurse_socket, lambda e: len(e) >= 2))
        assert events[0]["type"] == "message.created"
        assert events[0]["message"]["id"] == message_id and events[0]["message"]["body"] == "Labs?"
        assert events[1] == {"type": "unread.count", "count": 1}
        await assert_nothing_received(doctor_socket, 0.15)  # nothing for the sender yet

        await committed(api(nurse).post)(f"{MESSAGES_URL}/{message_id}/read")
        read = flatten(await frames_until(doctor_socket, lambda e: len(e) >= 1))
        assert read[0]["type"] == "message.read" and read[0]["message_ids"] == [message_id]
        assert read[0]["reader_id"] == nurse.pk
        after = flatten(await frames_until(nurse_socket, lambda e: len(e) >= 1))
        assert after == [{"type": "unread.count", "count": 0}]
        # Reading it again changes nothing and announces nothing.
        await committed(api(nurse).post)(f"{MESSAGES_URL}/{message_id}/read")
        await assert_nothing_received(doctor_socket, 0.15)
        for socket in (nurse_socket, doctor_socket):
            await socket.disconnect()

    run(scenario)


def test_read_all_tells_each_sender_once(api, doctor, nurse, receptionist):
    async def scenario():
        for sender in (doctor, doctor, receptionist):
            await committed(api(sender).post)(
                MESSAGES_URL, {"receiver_id": nurse.pk, "body": "x"}, format="json"
            )
        doctor_socket = await open_socket(doctor)
        await committed(api(nurse).post)(f"{MESSAGES_URL}/read-all")
        events = flatten(await frames_until(doctor_socket, lambda e: len(e) >= 1))
        assert len(events[0]["message_ids"]) == 2
        await assert_nothing_received(doctor_socket, 0.15)
        await doctor_socket.disconnect()

    run(scenario)


def test_appointment_changes_reach_the_clinics_staff(api, doctor, receptionist):
    patient = PatientFactory(tenant=doctor.tenant)

    async def scenario():
        socket = await open_socket(receptionist)
        response = await committed(api(doctor).post)(
            "/api/v1/appointments",
            {"patient_id": patient.pk, "provider_id": doctor.pk, "appointment_date": "2030-01-07T10:00:00"},
            format="json",
        )
        assert response.status_code == 201, response.content
        appointment_id = response.json()["id"]
        created = flatten(await frames_until(socket, lambda e: len(e) >= 1))[0]
        assert created["type"] == "appointment.created"
        assert created["appointment"]["id"] == appointment_id
        assert created["appointment"]["patient_id"] == patient.pk
        assert created["appointment"]["provider_id"] == doctor.pk
        assert created["appointment"]["status"] == "scheduled"
        await committed(api(doctor).patch)(
            f"/api/v1/appointments/{appointment_id}", {"status": "confirmed"}, format="json"
        )
        updated = flatten(await frames_until(socket, lambda e: len(e) >= 1))[0]
        assert updated["type"] == "appointment.updated" and updated["appointment"]["status"] == "confirmed"
        await committed(api(doctor).post)(
            f"/api/v1/appointments/{appointment_id}/cancel", {"reason": "called"}, format="json"
        )
        cancelled = flatten(await frames_until(socket, lambda e: len(e) >= 1))[0]
        assert cancelled["appointment"]["status"] == "cancelled"
        await socket.disconnect()

    run(scenario)


def test_a_socket_of_one_clinic_never_hears_another_clinics_events(api, doctor, nurse, outsider):
    their_colleague = UserFactory(tenant=outsider.tenant, role=Role.NURSE)
    their_patient = PatientFactory(tenant=outsider.tenant)
    AppointmentFactory(tenant=outsider.tenant)

    async def scenario():
        ours = await open_socket(doctor)
        theirs = await open_socket(outsider)
        # Their message to a user whose id might collide with ours, their appointment, their read-all.
        await committed(api(their_colleague).post)(
            MESSAGES_URL, {"receiver_id": outsider.pk, "body": "secret"}, format="json"
        )
        await committed(api(outsider).post)(
            "/api/v1/appointments",
            {"patient_id": their_patient.pk, "appointment_date": "2030-01-07T10:00:00"},
            format="json",
        )
        await committed(api(outsider).post)(f"{MESSAGES_URL}/read-all")
        heard = flatten(await frames_until(theirs, lambda e: len(e) >= 4))  # control: they hear theirs
        assert {event["type"] for event in heard} >= {
            "message.created",
            "appointment.created",
            "unread.count",
        }
        await assert_nothing_received(ours, 0.3)
        # Control: our own clinic's event does reach us.
        await committed(api(nurse).post)(
            MESSAGES_URL, {"receiver_id": doctor.pk, "body": "ours"}, format="json"
        )
        assert flatten(await frames_until(ours, lambda e: len(e) >= 1))[0]["type"] == "message.created"
        await ours.disconnect()
        await theirs.disconnect()

    run(scenario)


# --- batching -------------------------------------------------------------------------------------
def _burst(user, count, *, tenant_id=None):
    layer = get_channel_layer()
    group = user_group(tenant_id or user.tenant_id, user.pk)

    async def send():
        for index in range(count):
            await layer.group_send(group, {"type": CLIENT_EVENT, "event": {"type": "test.event", "n": index}})

    return send


def test_a_lone_event_goes_out_at_once_and_as_itself(doctor):
    async def scenario():
        socket = await open_socket(doctor)
        started = time.monotonic()
        await _burst(doctor, 1)()
        frame = json.loads(await socket.receive_from(timeout=1))
        assert frame == {"type": "test.event", "n": 0}
        assert time.monotonic() - started < 0.1
        await socket.disconnect()

    run(scenario)


def test_a_burst_goes_out_in_batches_of_at_most_10_every_100_ms(doctor):
    async def scenario():
        socket = await open_socket(doctor)
        started = time.monotonic()
        await _burst(doctor, 35)()
        frames = await frames_until(socket, lambda e: len(e) >= 35, timeout=2)
        elapsed = time.monotonic() - started
        events = flatten(frames)
        assert [event["n"] for event in events] == list(range(35))  # all, in order, once
        sizes = [len(frame["events"]) if frame["type"] == "batch" else 1 for frame in frames]
        assert max(sizes) == 10 and len(frames) <= 5, sizes  # 1 at once, then 10, 10, 10, 4
        assert elapsed < 0.35, elapsed  # the remainder waited at most one interval
        await assert_nothing_received(socket, 0.15)
        await socket.disconnect()

    run(scenario)


def test_a_small_burst_is_flushed_within_the_interval(doctor):
    async def scenario():
        socket = await open_socket(doctor)
        await _burst(doctor, 1)()
        json.loads(await socket.receive_from(timeout=1))
        started = time.monotonic()
        await _burst(doctor, 3)()  # right after a frame: these wait for the interval, together
        frame = json.loads(await socket.receive_from(timeout=1))
        assert frame["type"] == "batch" and [event["n"] for event in frame["events"]] == [0, 1, 2]
        assert time.monotonic() - started < 0.2
        await socket.disconnect()

    run(scenario)


# --- the per-user limit ---------------------------------------------------------------------------
def test_the_sixth_socket_of_a_user_is_closed_with_1008(doctor, nurse):
    async def scenario():
        sockets = [await open_socket(doctor) for _ in range(5)]
        sixth = communicator(["bearer", token_for(doctor)])
        connected, _ = await sixth.connect()
        assert connected
        closing = await sixth.receive_output(timeout=1)
        assert closing == {"type": "websocket.close", "code": 1008, "reason": "Too many connections"}
        await sixth.disconnect(code=1008)
        # Another user is not affected; a closed socket frees its slot.
        other = await open_socket(nurse)
        await sockets[0].disconnect()
        again = await open_socket(doctor)
        for socket in [*sockets[1:], other, again]:
            await socket.disconnect()

    run(scenario)


# --- the channel layer (Redis) unavailable ---------------------------------------------------------
UNAVAILABLE = {"type": "websocket.close", "code": 1013, "reason": "Live events unavailable"}


def test_a_socket_is_refused_with_1013_when_the_channel_layer_is_down_and_its_slot_is_freed(doctor):
    layer = get_channel_layer()

    async def scenario():
        with mock.patch.object(layer, "group_add", side_effect=redis.exceptions.ConnectionError("refused")):
            for _ in range(settings.MAX_WS_CONNECTIONS_PER_USER + 1):  # each gives its slot back
                socket = communicator(["bearer", token_for(doctor)])
                connected, _ = await socket.connect()
                assert connected
                assert await socket.receive_output(timeout=1) == UNAVAILABLE
                await socket.disconnect(code=1013)
        again = await open_socket(doctor)
        await again.disconnect()

    run(scenario)


def test_a_handshake_never_hangs_on_a_channel_layer_that_stopped_answering(doctor, monkeypatch):
    monkeypatch.setattr("messaging.consumers.GROUP_CHANGE_TIMEOUT_SECONDS", 0.2)
    layer = get_channel_layer()

    async def hang(*args, **kwargs):
        await asyncio.sleep(60)

    async def scenario():
        with mock.patch.object(layer, "group_add", hang):
            socket = communicator(["bearer", token_for(doctor)])
            started = time.monotonic()
            connected, _ = await socket.connect(timeout=5)
            assert connected
            assert await socket.receive_output(timeout=5) == UNAVAILABLE
            assert time.monotonic() - started < 3
            await socket.disconnect(code=1013)

    run(scenario)


def test_an_open_socket_is_closed_with_1013_when_the_channel_layer_fails_under_it(doctor):
    layer = get_channel_layer()
    receive = layer.receive
    redis_gone = asyncio.Event()

    async def receive_until_redis_goes(channel):
        waiting = asyncio.ensure_future(receive(channel))
        gone = asyncio.ensure_future(redis_gone.wait())
        done, _ = await asyncio.wait({waiting, gone}, return_when=asyncio.FIRST_COMPLETED)
        if waiting in done:
            gone.cancel()
            return waiting.result()
        waiting.cancel()
        raise redis.exceptions.ConnectionError("Connection closed by server.")

    async def scenario():
        with mock.patch.object(layer, "receive", receive_until_redis_goes):
            socket = await open_socket(doctor)
            await socket.send_to(text_data='{"type": "ping"}')
            assert json.loads(await socket.receive_from(timeout=1)) == {"type": "pong"}
            redis_gone.set()
            assert await socket.receive_output(timeout=1) == UNAVAILABLE
            await socket.wait(timeout=1)  # the consumer ended without an error
        again = await open_socket(doctor)  # its slot was given back
        await again.disconnect()

    run(scenario)


# --- bad frames -----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("frame", "code"),
    [
        ({"text_data": "{not json"}, "malformed_json"),
        ({"text_data": "[1, 2]"}, "invalid_event"),
        ({"text_data": '{"kind": "ping"}'}, "invalid_event"),
        ({"text_data": '{"type": "message.send", "body": "hi"}'}, "unknown_type"),
        ({"bytes_data": b"\x00\x01"}, "binary_not_supported"),
        ({"text_data": json.dumps({"type": "ping", "pad": "x" * 5000})}, "frame_too_large"),
    ],
)
def test_a_bad_frame_gets_an_error_event_and_the_socket_stays_open(doctor, frame, code):
    async def scenario():
        socket = await open_socket(doctor)
        await socket.send_to(**frame)
        error = json.loads(await socket.receive_from())
        assert error["type"] == "error" and error["code"] == code and error["detail"]
        await socket.send_to(text_data='{"type": "ping"}')
        assert json.loads(await socket.receive_from()) == {"type": "pong"}
        await socket.disconnect()

    run(scenario)


def test_a_flood_of_frames_is_refused_then_closed(doctor, settings):
    settings.WS_CLIENT_FRAME_BURST = 5
    settings.WS_CLIENT_FRAMES_PER_SECOND = 1

    async def scenario():
        socket = await open_socket(doctor)
        for _ in range(8):
            await socket.send_to(text_data='{"type": "ping"}')
        replies = [await socket.receive_output(timeout=1) for _ in range(7)]
        texts = [json.loads(reply["text"]) for reply in replies if reply["type"] == "websocket.send"]
        assert texts[:5] == [{"type": "pong"}] * 5
        assert texts[5]["type"] == "error" and texts[5]["code"] == "rate_limited"
        assert replies[6] == {"type": "websocket.close", "code": 1008, "reason": "Too many frames"}
        await socket.wait()

    run(scenario)


def test_the_socket_closes_with_4401_when_its_token_expires(doctor, settings):
    settings.ACCESS_TOKEN_TTL_SECONDS = 1

    async def scenario():
        socket = await open_socket(doctor)
        closing = await socket.receive_output(timeout=3)
        assert closing["type"] == "websocket.close" and closing["code"] == 4401

    run(scenario)


def test_the_staff_group_name_is_per_clinic():
    assert staff_group(1) != staff_group(11) and user_group(1, 11) != user_group(11, 1)
    asyncio.get_event_loop_policy()  # (the module imports asyncio for the scenarios)
