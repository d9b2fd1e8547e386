"""The admin's calendar: a provider's day and week, whose free slots are the availability API's,
each one click from the booking form pre-filled with the provider, the start and the duration."""

from datetime import UTC, datetime, time, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from appointments.models import Appointment, TimeOff, WorkingHours
from keneyapp.core.models import AuditEvent
from keneyapp.core.scoping import scopes_disabled
from tests.factories import AppointmentFactory, PatientFactory

from .conftest import ADD, MONDAY_9, form_errors

CALENDAR = "/admin/appointments/appointment/calendar/"


@pytest.fixture
def schedule(clinic, doctor):
    """The doctor works Monday to Friday 08:00-12:00 (Dakar = UTC), is away Monday 10:00-11:00,
    and sees Awa Sy on Monday 7 January 2030 at 09:00."""
    for weekday in range(5):
        WorkingHours.objects.create(
            tenant=clinic, provider=doctor, weekday=weekday, starts_at=time(8), ends_at=time(12)
        )
    TimeOff.objects.create(
        tenant=clinic, provider=doctor, starts_at=MONDAY_9.replace(hour=10), ends_at=MONDAY_9.replace(hour=11)
    )
    awa = PatientFactory(tenant=clinic, first_name="Awa", last_name="Sy", mrn="A0000101")
    return AppointmentFactory(tenant=clinic, patient=awa, provider=doctor, appointment_date=MONDAY_9)


def slots_of(response) -> list[tuple[datetime, str]]:
    return [slot for _, cells in response.context["grid"] for cell in cells for slot in cell.slots]


def page_slots(response) -> list[str]:
    return [
        start.astimezone(UTC).isoformat()
        for _, cells in response.context["grid"]
        for c in cells
        for start, _ in c.slots
    ]


@pytest.mark.parametrize("view", ["day", "week"])
def test_free_slots_are_the_availability_apis(browser, api, receptionist, doctor, schedule, view):
    response = browser(receptionist).get(
        CALENDAR, {"provider": doctor.pk, "date": "2030-01-07", "view": view}
    )
    assert response.status_code == 200
    date_to = "2030-01-07" if view == "day" else "2030-01-13"

    answer = api(receptionist).get(
        "/api/v1/appointments/availability",
        {"provider_id": doctor.pk, "date_from": "2030-01-07", "date_to": date_to, "duration": 30},
    )

    assert answer.status_code == 200
    expected = [
        datetime.fromisoformat(s["start"]).astimezone(UTC).isoformat() for s in answer.json()["slots"]
    ]
    assert sorted(page_slots(response)) == sorted(expected)
    assert expected  # the comparison is not of two empty lists


def test_day_shows_working_hours_time_off_and_booked_patient(browser, receptionist, doctor, schedule):
    response = browser(receptionist).get(CALENDAR, {"provider": doctor.pk, "date": "2030-01-07"})

    html = response.content.decode()
    assert "Awa Sy" in html and "A0000101" in html and "Scheduled" in html
    assert "kn-working" in html and "kn-off" in html
    free = page_slots(response)
    assert "2030-01-07T09:00:00+00:00" not in free  # booked
    assert "2030-01-07T10:00:00+00:00" not in free  # time off
    assert "2030-01-07T08:00:00+00:00" in free and "2030-01-07T11:30:00+00:00" in free
    assert doctor.display_name in html


def test_the_page_is_audited_as_a_list_of_its_patients(browser, receptionist, doctor, schedule):
    browser(receptionist).get(CALENDAR, {"provider": doctor.pk, "date": "2030-01-07"})

    with scopes_disabled():
        event = AuditEvent.objects.get(route="appointments_appointment_calendar")
    assert (
        event.action == "list"
        and event.patient_id == schedule.patient_id
        and event.user_id == receptionist.pk
    )


def test_one_click_opens_the_booking_form_prefilled_and_saving_books(browser, receptionist, doctor, schedule):
    client = browser(receptionist)
    response = client.get(CALENDAR, {"provider": doctor.pk, "date": "2030-01-07"})
    url = next(
        url
        for _, cells in response.context["grid"]
        for c in cells
        for start, url in c.slots
        if start.hour == 8
    )

    form_page = client.get(url)

    assert form_page.status_code == 200
    form = form_page.context["adminform"].form
    assert str(form.initial["provider"]) == str(doctor.pk)
    assert form.initial["appointment_date"] == MONDAY_9.replace(hour=8)
    assert int(form.initial["duration_minutes"]) == 30
    patient = PatientFactory(tenant=receptionist.tenant, first_name="Moussa", last_name="Diop")
    saved = client.post(
        ADD,
        {
            "patient": patient.pk,
            "provider": doctor.pk,
            "appointment_date_0": "2030-01-07",
            "appointment_date_1": "08:00:00",
            "duration_minutes": 30,
            "status": "scheduled",
            "reason": "",
            "notes": "",
            "cancellation_reason": "",
            "_save": "Save",
        },
    )
    assert saved.status_code == 302, form_errors(saved)
    with scopes_disabled():
        booked = Appointment.objects.get(patient=patient)
    assert booked.created_by == receptionist  # the booking service's write
    assert booked.ends_at == MONDAY_9.replace(hour=8, minute=30)


def test_a_date_that_does_not_parse_is_a_400_naming_the_format(browser, receptionist, doctor):
    response = browser(receptionist).get(CALENDAR, {"provider": doctor.pk, "date": "07/01/2030"})

    assert response.status_code == 400
    assert "YYYY-MM-DD" in response.content.decode()


@pytest.mark.parametrize("value", ["99999999999999999999", "abc", "0"])
def test_a_provider_id_that_does_not_parse_is_a_400(browser, receptionist, value):
    assert browser(receptionist).get(CALENDAR, {"provider": value}).status_code == 400


def test_another_clinics_provider_is_404(browser, receptionist, outsider, nurse):
    assert browser(receptionist).get(CALENDAR, {"provider": outsider.pk}).status_code == 404
    assert browser(receptionist).get(CALENDAR, {"provider": receptionist.pk}).status_code == 404
    assert browser(receptionist).get(CALENDAR, {"provider": nurse.pk}).status_code == 200


def _count(client, url, params) -> int:
    assert client.get(url, params).status_code == 200
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url, params).status_code == 200
    return len(captured)


@pytest.mark.parametrize("view", ["day", "week"])
def test_calendar_queries_do_not_grow_with_appointments(
    browser, receptionist, clinic, doctor, schedule, view
):
    client = browser(receptionist)
    params = {"provider": doctor.pk, "date": "2030-01-07", "view": view}
    few = _count(client, CALENDAR, params)
    start = MONDAY_9.replace(hour=13)  # the same day, so the day view shows them too
    for n in range(12):
        AppointmentFactory(
            tenant=clinic,
            patient=PatientFactory(tenant=clinic),
            provider=doctor,
            appointment_date=start + timedelta(minutes=20 * n),
            duration_minutes=20,
        )

    assert _count(client, CALENDAR, params) == few
