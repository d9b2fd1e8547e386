"""The front desk's today: the clinic's day in time order, per provider or all, with the actions
the user's role may take (offered and enforced), through the booking services, audited."""

import re
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from appointments import calendar_selectors
from appointments.models import Appointment
from keneyapp.accounts.roles import Role
from keneyapp.core.models import AuditEvent
from keneyapp.core.scoping import scopes_disabled
from tests.factories import AppointmentFactory, PatientFactory, TenantFactory, UserFactory
from tests.live_events import staff_events

from .conftest import MONDAY_9

TODAY = "/admin/appointments/appointment/today/"


def action_url(appointment, action: str) -> str:
    return f"/admin/appointments/appointment/{appointment.pk}/desk/{action}/"


def stored(appointment) -> Appointment:
    with scopes_disabled():
        return Appointment.objects.get(pk=appointment.pk)


def offered(response, appointment) -> set[str]:
    row = next(row for row in response.context["rows"] if row["id"] == appointment.pk)
    return {name for name, _ in row["actions"]}


@pytest.fixture
def day(clinic, doctor, nurse):
    """Monday 7 January 2030 (Dakar = UTC): Awa Sy with the doctor at 10:00, Moussa Diop with the
    nurse at 09:00, a visit of the day before and one of another clinic."""
    awa = PatientFactory(tenant=clinic, first_name="Awa", last_name="Sy", phone_number="+221 77 000 00 01")
    moussa = PatientFactory(tenant=clinic, first_name="Moussa", last_name="Diop")
    other = TenantFactory(slug="gamma")
    return {
        "awa": AppointmentFactory(
            tenant=clinic, patient=awa, provider=doctor, appointment_date=MONDAY_9.replace(hour=10)
        ),
        "moussa": AppointmentFactory(
            tenant=clinic, patient=moussa, provider=nurse, appointment_date=MONDAY_9
        ),
        "yesterday": AppointmentFactory(
            tenant=clinic, provider=doctor, appointment_date=MONDAY_9 - timedelta(days=1)
        ),
        "theirs": AppointmentFactory(tenant=other, appointment_date=MONDAY_9),
    }


def test_the_day_in_time_order_with_phone_and_provider_name(browser, receptionist, doctor, day):
    response = browser(receptionist).get(TODAY, {"date": "2030-01-07"})

    assert response.status_code == 200
    assert [row["id"] for row in response.context["rows"]] == [day["moussa"].pk, day["awa"].pk]
    html = response.content.decode()
    assert "+221 77 000 00 01" in html and f"Dr {doctor.first_name} {doctor.last_name}" in html
    assert "kn-status-scheduled" in html


def test_per_provider(browser, receptionist, doctor, day):
    response = browser(receptionist).get(TODAY, {"date": "2030-01-07", "provider": doctor.pk})

    assert [row["id"] for row in response.context["rows"]] == [day["awa"].pk]


def test_the_default_day_is_the_clinics_date_in_its_time_zone(db, browser, monkeypatch):
    tokyo = TenantFactory(slug="tokyo", timezone="Asia/Tokyo")
    desk = UserFactory(tenant=tokyo, role=Role.RECEPTIONIST)
    # 23:30 UTC on 7 January is 08:30 on 8 January in Tokyo.
    monkeypatch.setattr(calendar_selectors.timezone, "now", lambda: datetime(2030, 1, 7, 23, 30, tzinfo=UTC))
    visit = AppointmentFactory(tenant=tokyo, appointment_date=datetime(2030, 1, 8, 0, 0, tzinfo=UTC))

    response = browser(desk).get(TODAY)

    assert response.context["day"].isoformat() == "2030-01-08"
    assert [row["id"] for row in response.context["rows"]] == [visit.pk]


@pytest.mark.parametrize(
    ("role", "actions"),
    [
        (Role.RECEPTIONIST, {"check_in", "no_show", "cancel"}),
        (Role.ADMIN, {"check_in", "no_show", "cancel"}),
        (Role.DOCTOR, {"check_in", "no_show", "cancel", "complete"}),
        (Role.NURSE, {"check_in", "no_show", "cancel", "complete"}),
    ],
)
def test_only_the_actions_the_role_may_take_are_offered(browser, staff_of, day, role, actions):
    response = browser(staff_of(role)).get(TODAY, {"date": "2030-01-07"})

    assert offered(response, day["awa"]) == actions


def test_a_checked_in_visit_offers_only_what_its_status_allows(browser, doctor, day):
    client = browser(doctor)
    client.post(action_url(day["awa"], "check_in"), {"date": "2030-01-07"})

    assert offered(client.get(TODAY, {"date": "2030-01-07"}), day["awa"]) == {"no_show", "complete"}


def test_check_in_records_the_arrival_time_through_the_service(
    browser, receptionist, day, clinic, django_capture_on_commit_callbacks
):
    with staff_events(clinic.pk) as heard, django_capture_on_commit_callbacks(execute=True):
        response = browser(receptionist).post(
            action_url(day["awa"], "check_in"), {"date": "2030-01-07", "provider": ""}
        )

    assert response.status_code == 302 and response["Location"] == f"{TODAY}?date=2030-01-07"
    awa = stored(day["awa"])
    assert awa.status == "checked_in" and awa.arrived_at is not None
    assert [(e["type"], e["appointment"]["id"], e["appointment"]["status"]) for e in heard] == [
        ("appointment.updated", awa.pk, "checked_in")
    ]
    with scopes_disabled():
        event = AuditEvent.objects.get(route="appointments_appointment_desk_action")
    assert (event.action, event.outcome, event.patient_id) == ("change", "allowed", awa.patient_id)
    page = browser(receptionist).get(TODAY, {"date": "2030-01-07"})
    assert f"{awa.arrived_at:%H:%M}" in page.content.decode()


@pytest.mark.parametrize(("action", "status"), [("no_show", "no_show"), ("cancel", "cancelled")])
def test_no_show_and_cancel(browser, receptionist, day, action, status):
    assert browser(receptionist).post(action_url(day["awa"], action)).status_code == 302

    assert stored(day["awa"]).status == status


def test_complete_by_the_doctor(browser, doctor, day):
    assert browser(doctor).post(action_url(day["awa"], "complete")).status_code == 302

    assert stored(day["awa"]).status == "completed"


def test_a_forced_post_the_role_may_not_take_is_403_and_audited_denied(browser, receptionist, day):
    response = browser(receptionist).post(action_url(day["awa"], "complete"))

    assert response.status_code == 403
    assert stored(day["awa"]).status == "scheduled"
    with scopes_disabled():
        event = AuditEvent.objects.get(route="appointments_appointment_desk_action")
    assert (event.action, event.outcome, event.object_id) == ("change", "denied", day["awa"].pk)


def test_a_transition_the_status_table_refuses_is_a_message_not_a_500(browser, receptionist, day):
    client = browser(receptionist)
    client.post(action_url(day["awa"], "cancel"))

    response = client.post(action_url(day["awa"], "check_in"), follow=True)

    assert response.status_code == 200
    assert "cannot become" in response.content.decode()
    assert stored(day["awa"]).status == "cancelled"


def test_another_clinics_appointment_or_an_unknown_action_is_404(browser, receptionist, day):
    client = browser(receptionist)

    assert client.post(action_url(day["theirs"], "check_in")).status_code == 404
    assert client.post(action_url(day["awa"], "delete")).status_code == 404
    assert stored(day["theirs"]).status == "scheduled"
    with scopes_disabled():
        outcomes = set(AuditEvent.objects.filter(action="change").values_list("outcome", flat=True))
    assert outcomes == {"attempted"}


def test_actions_are_posts_with_csrf(doctor, day):
    client = Client(enforce_csrf_checks=True)
    client.force_login(doctor)

    assert client.get(action_url(day["awa"], "check_in")).status_code == 405
    assert client.post(action_url(day["awa"], "check_in")).status_code == 403
    assert stored(day["awa"]).status == "scheduled"


def test_a_date_that_does_not_parse_is_a_400_naming_the_format(browser, receptionist):
    response = browser(receptionist).get(TODAY, {"date": "2030-13-45"})

    assert response.status_code == 400
    assert "YYYY-MM-DD" in response.content.decode()


def test_another_clinics_provider_is_404(browser, receptionist, outsider):
    assert browser(receptionist).get(TODAY, {"provider": outsider.pk}).status_code == 404


def test_the_page_embeds_a_socket_ticket_that_opens_no_api_door(browser, api, receptionist):
    html = browser(receptionist).get(TODAY).content.decode()
    ticket = re.search(r'data-ticket="([^"]+)"', html).group(1)

    answer = api().get("/api/v1/auth/me", HTTP_AUTHORIZATION=f"Bearer {ticket}")

    assert answer.status_code == 401


def _count(client, params) -> int:
    assert client.get(TODAY, params).status_code == 200
    with CaptureQueriesContext(connection) as captured:
        assert client.get(TODAY, params).status_code == 200
    return len(captured)


@pytest.mark.parametrize("provider", [False, True])
def test_today_queries_do_not_grow_with_appointments(browser, receptionist, clinic, doctor, day, provider):
    client = browser(receptionist)
    params = {"date": "2030-01-07", **({"provider": doctor.pk} if provider else {})}
    few = _count(client, params)
    for n in range(15):
        AppointmentFactory(
            tenant=clinic,
            patient=PatientFactory(tenant=clinic),
            provider=doctor,
            appointment_date=MONDAY_9.replace(hour=12) + timedelta(minutes=20 * n),
            duration_minutes=20,
            status="confirmed" if n % 2 else "checked_in",
        )

    assert _count(client, params) == few
