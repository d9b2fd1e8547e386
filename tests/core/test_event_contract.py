"""Live events have a contract (keneyapp/core/events.py): every event type a domain publishes has a
declared shape; in the tests an event is checked and serialised when it is published, so a wrong
or unserialisable payload fails the change that published it; the wire payloads are as before."""

import re
from typing import Literal, TypedDict
from unittest import mock

import orjson
import pytest
from django.db import transaction
from django.utils import timezone
from django_scopes import scope, scopes_disabled

import appointments.events
import messaging.events
from appointments.models import Appointment
from keneyapp.core.events import (
    EVENT_SHAPES,
    EventContractError,
    check_event,
    event_shape,
    publish_on_commit,
    staff_group,
    user_group,
)
from messaging import selectors as messaging_selectors
from messaging.services import message_mark_read, message_send
from tests.factories import PatientFactory

GROUP = "clinic-1-staff"


class RecordingLayer:
    def __init__(self):
        self.sent: list[tuple[str, dict]] = []

    async def group_send(self, group, message):
        self.sent.append((group, message["event"]))


@pytest.fixture
def layer():
    recording = RecordingLayer()
    with mock.patch("keneyapp.core.events.get_channel_layer", return_value=recording):
        yield recording


def appointment_event(**changes) -> dict:
    event = {
        "type": "appointment.updated",
        "appointment": {
            "id": 1,
            "patient_id": 2,
            "provider_id": None,
            "appointment_date": "2030-01-07T10:00:00+00:00",
            "ends_at": "2030-01-07T10:30:00+00:00",
            "status": "confirmed",
        },
    }
    event["appointment"].update(changes)
    return event


def test_every_event_type_the_domains_publish_has_a_declared_shape():
    assert {
        "message.created": messaging.events.MessageCreated,
        "message.read": messaging.events.MessageRead,
        "unread.count": messaging.events.UnreadCount,
        "appointment.created": appointments.events.AppointmentChanged,
        "appointment.updated": appointments.events.AppointmentChanged,
    }.items() <= EVENT_SHAPES.items()


def test_a_well_formed_event_passes():
    check_event(appointment_event())
    check_event(appointment_event(provider_id=5))


@pytest.mark.parametrize(
    ("event", "problem"),
    [
        ({"type": "appointment.moved", "appointment": {}}, "no declared shape"),
        (
            appointment_event(appointment_date=timezone.now()),
            "appointment.appointment_date: datetime, not str",
        ),
        (appointment_event(provider_id="5"), "provider_id: str matches none of"),
        (appointment_event(patient_id=True), "patient_id: bool, not int"),
        (appointment_event(colour="red"), "appointment.colour: not declared"),
        ({"type": "appointment.updated"}, "appointment.updated.appointment: missing"),
        ({"type": "message.read", "message_ids": [1, "2"], "reader_id": 3, "read_at": "x"}, "message_ids[1]"),
        ({"type": "unread.count", "count": 2**64}, "unread.count: Integer exceeds 64-bit range"),
    ],
)
def test_an_event_off_its_shape_or_not_json_is_refused(event, problem):
    with pytest.raises(EventContractError, match=re.escape(problem)):
        check_event(event)


def test_a_type_cannot_be_declared_twice():
    with pytest.raises(TypeError, match="declared twice"):

        @event_shape
        class Again(TypedDict):
            type: Literal["unread.count"]
            count: int


@pytest.mark.django_db
def test_a_wrong_event_fails_when_it_is_published_not_when_it_is_sent(layer):
    with pytest.raises(EventContractError), transaction.atomic():
        publish_on_commit(group=GROUP, event=appointment_event(ends_at=timezone.now()))
    assert layer.sent == []


@pytest.mark.django_db
def test_a_wrong_event_computed_after_commit_fails_too(layer, django_capture_on_commit_callbacks):
    with pytest.raises(EventContractError), django_capture_on_commit_callbacks(execute=True):
        publish_on_commit(group=GROUP, event=lambda: {"type": "unread.count", "count": "3"})
    assert layer.sent == []


@pytest.mark.django_db
def test_without_strict_checks_a_wrong_event_is_logged_and_the_change_stands(
    layer, settings, django_capture_on_commit_callbacks, caplog
):
    settings.LIVE_EVENTS_STRICT = False  # production
    with django_capture_on_commit_callbacks(execute=True):
        publish_on_commit(group=GROUP, event={"type": "unread.count", "count": {1, 2}})
    assert layer.sent == []
    assert "could not publish 1 live event(s)" in caplog.text


# --- the wire payloads stay as they were -------------------------------------------------------
def as_before(value):
    """What the publisher sent before events had shapes: orjson with default=str."""
    return orjson.loads(orjson.dumps(value, default=str))


@pytest.mark.django_db
def test_message_events_on_the_wire(layer, doctor, nurse, django_capture_on_commit_callbacks):
    with scope(tenant=doctor.tenant_id), django_capture_on_commit_callbacks(execute=True):
        sent = message_send(sender=doctor, receiver_id=nurse.pk, body="Labs?", subject="Room 3")
    with scope(tenant=doctor.tenant_id):
        item = messaging_selectors.message_as_api(sent.message.pk)
    assert layer.sent == [
        (user_group(doctor.tenant_id, nurse.pk), {"type": "message.created", "message": as_before(item)}),
        (user_group(doctor.tenant_id, nurse.pk), {"type": "unread.count", "count": 1}),
    ]
    assert isinstance(layer.sent[0][1]["message"]["created_at"], str)

    layer.sent.clear()
    with scope(tenant=doctor.tenant_id), django_capture_on_commit_callbacks(execute=True):
        read = message_mark_read(message=sent.message, reader=nurse)
    assert layer.sent == [
        (
            user_group(doctor.tenant_id, doctor.pk),
            {
                "type": "message.read",
                "message_ids": [sent.message.pk],
                "reader_id": nurse.pk,
                "read_at": as_before(read.read_at),
            },
        ),
        (user_group(doctor.tenant_id, nurse.pk), {"type": "unread.count", "count": 0}),
    ]


@pytest.mark.django_db
def test_appointment_events_on_the_wire(layer, api, doctor, clinic, django_capture_on_commit_callbacks):
    patient = PatientFactory(tenant=clinic)
    with django_capture_on_commit_callbacks(execute=True):
        response = api(doctor).post(
            "/api/v1/appointments",
            {"patient_id": patient.pk, "provider_id": doctor.pk, "appointment_date": "2030-01-07T10:00:00"},
            format="json",
        )
    assert response.status_code == 201, response.content
    with scopes_disabled():
        appointment = Appointment.objects.get(pk=response.json()["id"])
    assert layer.sent == [
        (
            staff_group(clinic.pk),
            {
                "type": "appointment.created",
                "appointment": {
                    "id": appointment.pk,
                    "patient_id": patient.pk,
                    "provider_id": doctor.pk,
                    "appointment_date": as_before(appointment.appointment_date),
                    "ends_at": as_before(appointment.ends_at),
                    "status": "scheduled",
                },
            },
        )
    ]


# --- the channel layer down ----------------------------------------------------------------------
class DownLayer:
    def __init__(self):
        self.attempts = 0

    async def group_send(self, group, message):
        self.attempts += 1
        raise TimeoutError("Timeout reading from socket")  # a frozen Redis


def test_after_the_layer_failed_events_are_dropped_without_trying_it_for_a_while(monkeypatch, caplog):
    # During an outage each write would otherwise wait PUBLISH_TIMEOUT_SECONDS for nothing.
    from keneyapp.core import events

    down, now = DownLayer(), [1000.0]
    monkeypatch.setattr(events.time, "monotonic", lambda: now[0])
    event = {"type": "unread.count", "count": 1}
    with mock.patch("keneyapp.core.events.get_channel_layer", return_value=down):
        events.publish_now([(GROUP, event)])
        events.publish_now([(GROUP, event)])
        events._send_to_consumers([(GROUP, {"type": "session.recheck"})])
        assert down.attempts == 1
        now[0] += events.LAYER_RETRY_SECONDS
        events.publish_now([(GROUP, event)])
        assert down.attempts == 2  # tried again: it may be back
    assert caplog.text.count("the channel layer is down") == 2
