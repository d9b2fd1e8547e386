"""GET /api/v1/appointments/availability: a provider's free slots between two dates, in clinic time.

Working hours are Monday to Friday 08:00-12:00 unless a test says otherwise; dates are in 2030 so
that "none in the past" never removes a slot by accident.
"""

from datetime import UTC, datetime, time, timedelta

import pytest
from django.utils import timezone

from appointments.models import AppointmentStatus, TimeOff
from keneyapp.accounts.roles import Role
from tests.factories import AppointmentFactory, UserFactory

from .helpers import AVAILABILITY_URL, DAKAR, assert_error, at

MONDAY = "2030-01-07"
MORNING = ["08:00", "08:30", "09:00", "09:30", "10:00", "10:30", "11:00", "11:30"]


@pytest.fixture
def provider(doctor, weekday_mornings):
    weekday_mornings(doctor)
    return doctor


def availability(client, provider, date_from=MONDAY, date_to=MONDAY, **params):
    return client.get(
        AVAILABILITY_URL, {"provider_id": provider.pk, "date_from": date_from, "date_to": date_to, **params}
    )


def slot_starts(response) -> list[str]:
    """The slots' starts as 'YYYY-MM-DD HH:MM' clinic time, from the answer's ISO strings."""
    assert response.status_code == 200, response.content
    return [f"{slot['start'][:10]} {slot['start'][11:16]}" for slot in response.json()["slots"]]


def on(day: str, times: list[str]) -> list[str]:
    return [f"{day} {moment}" for moment in times]


# --- the slots --------------------------------------------------------------------------------


def test_a_free_morning_is_cut_into_slots_of_the_default_30_minutes(api, doctor, provider):
    response = availability(api(doctor), provider)

    assert response.status_code == 200, response.content
    body = response.json()
    assert body == {
        "provider_id": provider.pk,
        "date_from": MONDAY,
        "date_to": MONDAY,
        "duration": 30,
        "timezone": "Africa/Dakar",
        "slots": [
            {"start": f"{MONDAY}T{start}:00+00:00", "end": f"{MONDAY}T{end}:00+00:00"}
            for start, end in zip(MORNING, [*MORNING[1:], "12:00"], strict=True)
        ],
    }


def test_a_week_has_slots_on_working_days_only(api, doctor, provider):
    response = availability(api(doctor), provider, "2030-01-07", "2030-01-13")

    starts = slot_starts(response)
    assert len(starts) == 5 * 8
    assert {start[:10] for start in starts} == {f"2030-01-{day:02d}" for day in range(7, 12)}


@pytest.mark.parametrize(
    ("duration", "expected"),
    [
        (60, ["08:00", "09:00", "10:00", "11:00"]),
        (45, ["08:00", "08:45", "09:30", "10:15", "11:00"]),  # 11:45 + 45 would end after 12:00
        (240, ["08:00"]),
        (241, []),
        (5, [f"{h:02d}:{m:02d}" for h in range(8, 12) for m in range(0, 60, 5)]),
    ],
)
def test_slots_have_the_requested_duration(api, doctor, provider, duration, expected):
    response = availability(api(doctor), provider, duration=duration)

    assert slot_starts(response) == on(MONDAY, expected)
    for slot in response.json()["slots"]:
        length = datetime.fromisoformat(slot["end"]) - datetime.fromisoformat(slot["start"])
        assert length == timedelta(minutes=duration)
    assert response.json()["duration"] == duration


def test_a_booked_appointment_is_taken_out(api, clinic, doctor, patient, provider):
    AppointmentFactory(
        tenant=clinic, patient=patient, provider=provider, appointment_date=at(DAKAR, 2030, 1, 7, 9, 10)
    )

    response = availability(api(doctor), provider)

    # Free: 08:00-09:10 and 09:40-12:00, each cut from its own start.
    assert slot_starts(response) == on(MONDAY, ["08:00", "08:30", "09:40", "10:10", "10:40", "11:10"])


@pytest.mark.parametrize("released", [AppointmentStatus.CANCELLED, AppointmentStatus.NO_SHOW])
def test_cancelled_and_missed_appointments_free_their_slot(api, clinic, doctor, patient, provider, released):
    AppointmentFactory(
        tenant=clinic,
        patient=patient,
        provider=provider,
        appointment_date=at(DAKAR, 2030, 1, 7, 9),
        status=released,
    )

    assert slot_starts(availability(api(doctor), provider)) == on(MONDAY, MORNING)


def test_other_providers_and_unassigned_appointments_do_not_count(
    api, clinic, doctor, nurse, patient, provider
):
    AppointmentFactory(
        tenant=clinic, patient=patient, provider=nurse, appointment_date=at(DAKAR, 2030, 1, 7, 9)
    )
    AppointmentFactory(
        tenant=clinic, patient=patient, provider=None, appointment_date=at(DAKAR, 2030, 1, 7, 10)
    )

    assert slot_starts(availability(api(doctor), provider)) == on(MONDAY, MORNING)


def test_time_off_is_taken_out(api, clinic, doctor, provider):
    TimeOff.objects.create(  # Tuesday: all day
        tenant=clinic, provider=provider, starts_at=at(DAKAR, 2030, 1, 8), ends_at=at(DAKAR, 2030, 1, 9)
    )
    TimeOff.objects.create(  # Wednesday: 10:00-11:00
        tenant=clinic,
        provider=provider,
        starts_at=at(DAKAR, 2030, 1, 9, 10),
        ends_at=at(DAKAR, 2030, 1, 9, 11),
    )

    starts = slot_starts(availability(api(doctor), provider, "2030-01-07", "2030-01-09"))

    assert starts == on("2030-01-07", MORNING) + on(
        "2030-01-09", ["08:00", "08:30", "09:00", "09:30", "11:00", "11:30"]
    )


def test_another_providers_time_off_does_not_count(api, clinic, doctor, nurse, provider):
    TimeOff.objects.create(
        tenant=clinic, provider=nurse, starts_at=at(DAKAR, 2030, 1, 7), ends_at=at(DAKAR, 2030, 1, 8)
    )

    assert slot_starts(availability(api(doctor), provider)) == on(MONDAY, MORNING)


def test_a_provider_without_working_hours_has_no_slots(api, doctor, nurse):
    response = availability(api(doctor), nurse)

    assert response.status_code == 200
    assert response.json()["slots"] == []


def test_several_intervals_a_day(api, doctor, provider, weekday_mornings):
    weekday_mornings(provider, starts_at=time(14), ends_at=time(15), weekdays=[0])

    starts = slot_starts(availability(api(doctor), provider))

    assert starts == on(MONDAY, [*MORNING, "14:00", "14:30"])


def test_working_hours_are_clinic_time(api, paris_doctor, weekday_mornings):
    weekday_mornings(paris_doctor)

    response = availability(api(paris_doctor), paris_doctor)

    body = response.json()
    assert body["timezone"] == "Europe/Paris"
    assert body["slots"][0] == {"start": f"{MONDAY}T08:00:00+01:00", "end": f"{MONDAY}T08:30:00+01:00"}
    assert datetime.fromisoformat(body["slots"][0]["start"]) == datetime(2030, 1, 7, 7, tzinfo=UTC)
    assert len(body["slots"]) == 8


def test_an_appointment_booked_in_another_zone_blocks_the_same_instant(
    api, paris_clinic, paris_doctor, paris_patient, weekday_mornings
):
    weekday_mornings(paris_doctor)
    AppointmentFactory(  # 08:00 UTC is 09:00 in Paris
        tenant=paris_clinic,
        patient=paris_patient,
        provider=paris_doctor,
        appointment_date=datetime(2030, 1, 7, 8, tzinfo=UTC),
    )

    starts = slot_starts(availability(api(paris_doctor), paris_doctor))

    assert f"{MONDAY} 09:00" not in starts
    assert f"{MONDAY} 08:00" in starts
    assert len(starts) == 7


def test_no_slot_is_in_the_past(api, clinic, doctor, weekday_mornings):
    # Every day, all day: whatever time it is, yesterday is gone and tomorrow is open.
    weekday_mornings(doctor, starts_at=time(0), ends_at=time(23, 30), weekdays=range(7))
    today = timezone.now().astimezone(DAKAR).date()
    yesterday, tomorrow = today - timedelta(days=1), today + timedelta(days=1)

    response = availability(api(doctor), doctor, yesterday.isoformat(), tomorrow.isoformat())

    starts = [datetime.fromisoformat(slot["start"]) for slot in response.json()["slots"]]
    assert starts
    assert min(starts) >= timezone.now() - timedelta(seconds=5)
    assert {start.date() for start in starts} >= {tomorrow}
    assert yesterday not in {start.date() for start in starts}


def test_a_range_in_the_past_has_no_slots(api, doctor, provider):
    response = availability(api(doctor), provider, "2020-01-06", "2020-01-10")

    assert response.status_code == 200
    assert response.json()["slots"] == []


def test_31_days_are_accepted(api, doctor, provider):
    response = availability(api(doctor), provider, "2030-01-01", "2030-01-31")

    starts = slot_starts(response)
    assert len(starts) == 23 * 8  # January 2030 has 23 weekdays
    assert starts[-1] == "2030-01-31 11:30"


@pytest.mark.parametrize("role", list(Role))
def test_every_role_can_see_availability(api, staff_of, provider, role):
    assert availability(api(staff_of(role)), provider).status_code == 200


# --- bad input --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("date_from", "date_to", "field"),
    [
        pytest.param("2030-01-01", "2030-02-01", "date_to", id="32-days"),
        pytest.param("2030-01-01", "2030-12-31", "date_to", id="a-year"),
        pytest.param("2030-01-08", "2030-01-07", "date_to", id="to-before-from"),
        pytest.param("2030-02-30", "2030-03-01", "date_from", id="impossible-date"),
        pytest.param("tomorrow", "2030-03-01", "date_from", id="not-a-date"),
        pytest.param("2030-01-07T08:00:00", "2030-01-07", "date_from", id="a-datetime"),
        pytest.param("9999-12-30", "9999-12-31", "date_from", id="end-of-time"),
    ],
)
def test_a_bad_range_is_a_400(api, doctor, provider, date_from, date_to, field):
    response = availability(api(doctor), provider, date_from, date_to)

    assert_error(response, 400, fields=(field,), code="validation_error")


@pytest.mark.parametrize("duration", ["4", "481", "abc", "0", "-30"])
def test_a_bad_duration_is_a_400(api, doctor, provider, duration):
    assert_error(availability(api(doctor), provider, duration=duration), 400, fields=("duration",))


@pytest.mark.parametrize("missing", ["provider_id", "date_from", "date_to"])
def test_a_missing_parameter_is_a_400_naming_it(api, doctor, provider, missing):
    params = {"provider_id": provider.pk, "date_from": MONDAY, "date_to": MONDAY}
    del params[missing]

    response = api(doctor).get(AVAILABILITY_URL, params)

    body = assert_error(response, 400, fields=(missing,))
    assert {p["code"] for p in body["fields"][missing]} == {"required"}


def test_no_parameters_at_all_is_a_400_naming_each(api, doctor):
    assert_error(api(doctor).get(AVAILABILITY_URL), 400, fields=("provider_id", "date_from", "date_to"))


@pytest.fixture(
    params=["other-clinic-doctor", "receptionist", "admin", "inactive-doctor", "unknown", "not-a-number"]
)
def bad_provider_id(request, clinic, other_clinic, weekday_mornings):
    if request.param == "unknown":
        return 987654
    if request.param == "not-a-number":
        return "abc"
    user = {
        "other-clinic-doctor": lambda: UserFactory(tenant=other_clinic, role=Role.DOCTOR),
        "receptionist": lambda: UserFactory(tenant=clinic, role=Role.RECEPTIONIST),
        "admin": lambda: UserFactory(tenant=clinic, role=Role.ADMIN),
        "inactive-doctor": lambda: UserFactory(tenant=clinic, role=Role.DOCTOR, is_active=False),
    }[request.param]()
    weekday_mornings(user)  # even with working hours on file, they are nobody's provider here
    return user.pk


def test_a_provider_who_is_not_our_doctor_or_nurse_is_a_400(api, doctor, bad_provider_id):
    response = api(doctor).get(
        AVAILABILITY_URL, {"provider_id": bad_provider_id, "date_from": MONDAY, "date_to": MONDAY}
    )

    body = assert_error(response, 400, fields=("provider_id",), code="validation_error")
    assert "slots" not in body


def test_anonymous_gets_a_401(api, provider):
    assert_error(availability(api(), provider), 401)


# --- daylight saving ----------------------------------------------------------------------------


def test_slots_keep_clinic_hours_across_the_spring_change(api, paris_doctor, weekday_mornings):
    weekday_mornings(paris_doctor)  # Paris springs forward on Sunday 31 March 2030

    response = availability(api(paris_doctor), paris_doctor, "2030-03-29", "2030-04-01")

    slots = response.json()["slots"]
    assert [s["start"] for s in slots if s["start"].endswith("T08:00:00+01:00")] == [
        "2030-03-29T08:00:00+01:00"
    ]
    assert [s["start"] for s in slots if s["start"].endswith("T08:00:00+02:00")] == [
        "2030-04-01T08:00:00+02:00"
    ]
    assert len(slots) == 16


def test_a_night_across_the_autumn_change_has_one_more_hour_of_slots(api, paris_doctor, weekday_mornings):
    # Sunday 27 October 2030, 00:00-04:00 on the clock, lasts five real hours in Paris (02:00-03:00
    # happens twice). Every slot is thirty real minutes.
    weekday_mornings(paris_doctor, starts_at=time(0), ends_at=time(4), weekdays=[6])

    response = availability(api(paris_doctor), paris_doctor, "2030-10-27", "2030-10-27")

    slots = response.json()["slots"]
    assert len(slots) == 10
    for slot in slots:
        length = datetime.fromisoformat(slot["end"]) - datetime.fromisoformat(slot["start"])
        assert length == timedelta(minutes=30)
    assert slots[0]["start"] == "2030-10-27T00:00:00+02:00"
    assert slots[-1]["end"] == "2030-10-27T04:00:00+01:00"
