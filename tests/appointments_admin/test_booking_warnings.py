"""The booking form warns, without refusing, of a start in the past, outside working hours or
during time off; a double booking is refused with the patient already booked named and the next
free slot (the availability API's) offered."""

from datetime import UTC, datetime, time

import pytest

from appointments.models import Appointment, TimeOff, WorkingHours
from keneyapp.core.scoping import scopes_disabled
from tests.factories import AppointmentFactory, PatientFactory

from .conftest import ADD, MONDAY_9, form_errors
from .test_form import booking

PAST = "This appointment starts in the past."
OUTSIDE = "This appointment is outside the provider's working hours."
TIME_OFF = "This appointment falls during the provider's time off."


@pytest.fixture
def hours(clinic, doctor):
    """The doctor works weekdays 08:00-12:00 and is away on Monday 7 January 2030, 10:00-11:00."""
    for weekday in range(5):
        WorkingHours.objects.create(
            tenant=clinic, provider=doctor, weekday=weekday, starts_at=time(8), ends_at=time(12)
        )
    TimeOff.objects.create(
        tenant=clinic, provider=doctor, starts_at=MONDAY_9.replace(hour=10), ends_at=MONDAY_9.replace(hour=11)
    )


@pytest.fixture
def patient(clinic):
    return PatientFactory(tenant=clinic, first_name="Awa", last_name="Sy")


def warnings_after(client, data) -> list[str]:
    response = client.post(ADD, data, follow=True)
    assert response.redirect_chain, form_errors(response)
    return [str(m) for m in response.context["messages"] if m.level_tag == "warning"]


@pytest.mark.parametrize(
    ("day", "at", "expected"),
    [
        ("2030-01-07", "09:00:00", []),
        ("2030-01-07", "14:00:00", [OUTSIDE]),
        ("2030-01-07", "10:00:00", [TIME_OFF]),
        ("2030-01-05", "09:00:00", [OUTSIDE]),  # a Saturday
        ("2020-01-06", "09:00:00", [PAST]),
    ],
)
def test_soft_warnings_do_not_block(browser, receptionist, doctor, hours, patient, day, at, expected):
    found = warnings_after(browser(receptionist), booking(patient, doctor, day=day, time=at))

    assert found == expected
    with scopes_disabled():
        assert Appointment.objects.filter(patient=patient).count() == 1


def test_no_provider_warns_only_of_the_past(browser, receptionist, patient):
    assert warnings_after(browser(receptionist), booking(patient, None, day="2020-01-06")) == [PAST]


def test_a_double_booking_names_the_patient_and_offers_the_next_free_slot(
    browser, api, receptionist, clinic, doctor, hours, patient
):
    moussa = PatientFactory(tenant=clinic, first_name="Moussa", last_name="Diop", mrn="A0000002")
    existing = AppointmentFactory(tenant=clinic, patient=moussa, provider=doctor, appointment_date=MONDAY_9)
    AppointmentFactory(tenant=clinic, provider=doctor, appointment_date=MONDAY_9.replace(hour=9, minute=30))

    response = browser(receptionist).post(ADD, booking(patient, doctor, time="09:15:00"))

    assert response.status_code == 200
    (error,) = response.context["adminform"].form.non_field_errors()
    assert "already sees Moussa Diop (A0000002) at Monday 7 January 09:00-09:30. Next free slot" in error
    assert f"appointment {existing.pk}" not in error  # no internal number
    assert "constraint" not in error and "no_overlap" not in error
    # The next free slot from 09:15: 09:30 is taken, 10:00-11:00 is time off, so 11:00; as the API says.
    slots = (
        api(receptionist)
        .get(
            "/api/v1/appointments/availability",
            {"provider_id": doctor.pk, "date_from": "2030-01-07", "date_to": "2030-01-07", "duration": 30},
        )
        .json()["slots"]
    )
    first_after = next(s for s in slots if datetime.fromisoformat(s["start"]) >= MONDAY_9.replace(minute=15))
    assert datetime.fromisoformat(first_after["start"]).astimezone(UTC) == MONDAY_9.replace(hour=11)
    assert "Next free slot: Monday 7 January 11:00." in error
    assert "appointment_date=2030-01-07T11%3A00" in error and f"provider={doctor.pk}" in error
    with scopes_disabled():
        assert not Appointment.objects.filter(patient=patient).exists()
