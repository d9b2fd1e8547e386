"""The front desk's live updates: the today page's socket ticket opens /ws/notifications/ and the
socket hears a colleague's change of an appointment of the day (what today.js reloads on).

In process (both backends): Channels' communicator. Against a real uvicorn process with a real
websocket client (`websockets`): needs PostgreSQL (the server shares the test database)."""

import asyncio
import json
import re

import pytest
from django.db import connection
from django.test import Client, TestCase
from websockets.asyncio.client import connect

from appointments.models import Appointment
from keneyapp.accounts.roles import Role
from keneyapp.core.scoping import scopes_disabled
from tests.factories import AppointmentFactory, PatientFactory, TenantFactory, UserFactory
from tests.live_servers import server_env, start_servers
from tests.messaging.test_consumer import run
from tests.messaging.websocket_helpers import communicator, token_for

from .conftest import MONDAY_9

TODAY = "/admin/appointments/appointment/today/"


def ticket_of(client: Client) -> str:
    html = client.get(TODAY, {"date": "2030-01-07"}).content.decode()
    return re.search(r'data-ticket="([^"]+)"', html).group(1)


def appointment_events(frame: dict) -> list[dict]:
    events = frame["events"] if frame["type"] == "batch" else [frame]
    return [event for event in events if event["type"].startswith("appointment.")]


@pytest.mark.django_db
def test_the_pages_ticket_hears_a_colleagues_desk_action(browser, receptionist, doctor, clinic):
    visit = AppointmentFactory(tenant=clinic, provider=doctor, appointment_date=MONDAY_9)
    ticket = ticket_of(browser(receptionist))
    colleague = browser(doctor)

    def check_in():
        with TestCase.captureOnCommitCallbacks(execute=True):
            return colleague.post(f"/admin/appointments/appointment/{visit.pk}/desk/check_in/")

    async def scenario():
        from asgiref.sync import sync_to_async

        socket = communicator(["bearer", ticket])
        connected, subprotocol = await socket.connect()
        assert connected and subprotocol == "bearer"
        response = await sync_to_async(check_in)()
        assert response.status_code == 302
        events = appointment_events(json.loads(await socket.receive_from(timeout=5)))
        assert [(e["type"], e["appointment"]["id"], e["appointment"]["status"]) for e in events] == [
            ("appointment.updated", visit.pk, "checked_in")
        ]
        await socket.disconnect()

    run(scenario)


@pytest.fixture
def live(transactional_db, tmp_path):
    if connection.vendor != "postgresql":
        pytest.skip("server processes share the test database: needs PostgreSQL")
    clinic = TenantFactory(slug="live-desk")
    desk = UserFactory(tenant=clinic, role=Role.RECEPTIONIST, username="live-desk")
    doctor = UserFactory(tenant=clinic, role=Role.DOCTOR, username="live-desk-doctor")
    visit = AppointmentFactory(
        tenant=clinic, provider=doctor, patient=PatientFactory(tenant=clinic), appointment_date=MONDAY_9
    )
    (server,) = start_servers(["asgi"], tmp_path, server_env(DB_POOL_SIZE="0"), kind="asgi")
    yield server, desk, doctor, visit
    server.stop()


@pytest.mark.live_server_process
@pytest.mark.postgres
def test_a_real_client_on_the_pages_ticket_hears_a_colleagues_change(live):
    server, desk, doctor, visit = live
    page = Client()
    page.force_login(desk)
    ticket = ticket_of(page)

    async def scenario():
        async with connect(f"{server.ws_url}/ws/notifications/", subprotocols=["bearer", ticket]) as ws:
            assert ws.subprotocol == "bearer"
            answer = await asyncio.to_thread(
                server.request, "PATCH", f"/api/v1/appointments/{visit.pk}", token=token_for(doctor),
                body={"status": "checked_in"},
            )  # fmt: skip
            assert answer.status == 200, answer.body
            while True:
                events = appointment_events(json.loads(await asyncio.wait_for(ws.recv(), 5)))
                if events:
                    break
            assert events[0]["type"] == "appointment.updated"
            assert (events[0]["appointment"]["id"], events[0]["appointment"]["status"]) == (
                visit.pk,
                "checked_in",
            )
        # The same ticket is no bearer token for the API.
        refused = await asyncio.to_thread(server.request, "GET", "/api/v1/auth/me", token=ticket)
        assert refused.status == 401

    asyncio.run(scenario())
    with scopes_disabled():
        assert Appointment.objects.get(pk=visit.pk).arrived_at is not None
