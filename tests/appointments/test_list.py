"""GET /api/v1/appointments and GET /api/v1/patients/{id}/appointments: the page, paging, filters
and ordering. Both lists share one contract, so most tests run against both."""

import pytest

from appointments.models import AppointmentStatus
from tests.factories import AppointmentFactory, PatientFactory

from .helpers import DAKAR, ITEM_KEYS, LIST_URL, PARIS, assert_error, at, patient_appointments_url


@pytest.fixture(params=["clinic-list", "patient-list"])
def list_url(request, patient):
    """The clinic's list, or the patient's history (every appointment below is the patient's)."""
    return LIST_URL if request.param == "clinic-list" else patient_appointments_url(patient)


@pytest.fixture
def make(clinic, patient):
    def make(start, **fields):
        fields.setdefault("patient", patient)
        return AppointmentFactory(tenant=clinic, appointment_date=start, **fields)

    return make


def ids(response) -> list[int]:
    assert response.status_code == 200, response.content
    return [item["id"] for item in response.json()["items"]]


# --- the page ---------------------------------------------------------------------------------


def test_the_page_embeds_patient_and_provider(api, doctor, patient, list_url, make):
    appointment = make(at(DAKAR, 2030, 1, 7, 9), provider=doctor, reason="Check-up", duration_minutes=45)

    response = api(doctor).get(list_url)

    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"items", "total", "skip", "limit"}
    assert (body["total"], body["skip"], body["limit"]) == (1, 0, 50)
    [item] = body["items"]
    assert set(item) == ITEM_KEYS
    assert item["id"] == appointment.pk
    assert item["patient"] == {"id": patient.pk, "name": "Fatou Sall", "mrn": "A0000001"}
    assert item["provider"] == {"id": doctor.pk, "name": f"{doctor.first_name} {doctor.last_name}"}
    assert item["appointment_date"] == "2030-01-07T09:00:00+00:00"
    assert item["ends_at"] == "2030-01-07T09:45:00+00:00"
    assert (item["duration_minutes"], item["status"], item["reason"]) == (45, "scheduled", "Check-up")


def test_an_unassigned_appointment_has_no_provider(api, doctor, list_url, make):
    make(at(DAKAR, 2030, 1, 7, 9))

    [item] = api(doctor).get(list_url).json()["items"]

    assert item["provider"] is None


def test_times_are_answered_in_the_clinics_zone(api, paris_clinic, paris_doctor, paris_patient):
    AppointmentFactory(tenant=paris_clinic, patient=paris_patient, appointment_date=at(PARIS, 2030, 1, 7, 9))

    [item] = api(paris_doctor).get(LIST_URL).json()["items"]

    assert item["appointment_date"] == "2030-01-07T09:00:00+01:00"
    assert item["ends_at"] == "2030-01-07T09:30:00+01:00"


def test_the_clinic_list_holds_every_patients_appointments_and_only_ours(
    api, doctor, clinic, other_clinic, make
):
    ours = [
        make(at(DAKAR, 2030, 1, 7, 9)).pk,
        make(at(DAKAR, 2030, 1, 7, 10), patient=PatientFactory(tenant=clinic)).pk,
    ]
    AppointmentFactory(tenant=other_clinic, appointment_date=at(DAKAR, 2030, 1, 7, 9))

    response = api(doctor).get(LIST_URL)

    assert ids(response) == ours
    assert response.json()["total"] == 2


def test_the_patient_list_holds_only_that_patients_appointments(api, doctor, clinic, patient, make):
    mine = make(at(DAKAR, 2030, 1, 7, 9))
    make(at(DAKAR, 2030, 1, 7, 8), patient=PatientFactory(tenant=clinic))

    response = api(doctor).get(patient_appointments_url(patient))

    assert ids(response) == [mine.pk]
    assert response.json()["total"] == 1


def test_the_patient_list_of_another_clinics_patient_is_a_404(api, doctor, other_clinic, foreign_patient):
    AppointmentFactory(tenant=other_clinic, patient=foreign_patient)

    assert_error(api(doctor).get(patient_appointments_url(foreign_patient)), 404, code="not_found")


def test_the_patient_list_of_an_unknown_patient_is_a_404(api, doctor):
    assert_error(api(doctor).get(patient_appointments_url(987654)), 404, code="not_found")


def test_the_patient_list_takes_its_patient_from_the_path(api, doctor, clinic, patient):
    other = PatientFactory(tenant=clinic)

    response = api(doctor).get(patient_appointments_url(patient), {"patient_id": other.pk})

    assert_error(response, 400, fields=("patient_id",))


def test_anonymous_gets_a_401(api, list_url):
    assert_error(api().get(list_url), 401)


# --- paging -----------------------------------------------------------------------------------


def test_skip_and_limit_select_the_page(api, doctor, list_url, make):
    created = [make(at(DAKAR, 2030, 1, 7, hour)).pk for hour in range(8, 15)]

    body = api(doctor).get(list_url, {"skip": 2, "limit": 3}).json()

    assert [item["id"] for item in body["items"]] == created[2:5]
    assert (body["skip"], body["limit"], body["total"]) == (2, 3, 7)


def test_the_default_limit_is_50(api, doctor, clinic, patient, list_url):
    AppointmentFactory.create_batch(55, tenant=clinic, patient=patient)

    body = api(doctor).get(list_url).json()

    assert (body["limit"], len(body["items"]), body["total"]) == (50, 50, 55)


@pytest.mark.parametrize("limit", [1, 100])
def test_limit_bounds_are_accepted(api, doctor, list_url, make, limit):
    make(at(DAKAR, 2030, 1, 7, 9))
    make(at(DAKAR, 2030, 1, 7, 10))

    body = api(doctor).get(list_url, {"limit": limit}).json()

    assert body["limit"] == limit
    assert len(body["items"]) == min(limit, 2)


def test_skip_past_the_end_answers_an_empty_page_with_the_total(api, doctor, list_url, make):
    make(at(DAKAR, 2030, 1, 7, 9))

    body = api(doctor).get(list_url, {"skip": 10}).json()

    assert (body["items"], body["total"], body["skip"]) == ([], 1, 10)


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"limit": "0"}, "limit"),
        ({"limit": "101"}, "limit"),
        ({"limit": "-1"}, "limit"),
        ({"limit": "abc"}, "limit"),
        ({"skip": "-1"}, "skip"),
        ({"skip": "abc"}, "skip"),
    ],
)
def test_bad_paging_is_a_400_naming_the_parameter(api, doctor, list_url, params, field):
    assert_error(api(doctor).get(list_url, params), 400, fields=(field,), code="validation_error")


# --- filters ----------------------------------------------------------------------------------


@pytest.fixture
def paris_week(paris_clinic, paris_patient):
    """Appointments around midnight, Paris time, to tell clinic days from UTC days."""
    return {
        name: AppointmentFactory(tenant=paris_clinic, patient=paris_patient, appointment_date=start).pk
        for name, start in {
            "sunday_late": at(PARIS, 2030, 1, 6, 23, 30),  # 22:30 UTC on Sunday
            "monday_early": at(PARIS, 2030, 1, 7, 0, 30),  # 23:30 UTC on Sunday
            "monday_noon": at(PARIS, 2030, 1, 7, 12),
            "monday_late": at(PARIS, 2030, 1, 7, 23, 30),  # 22:30 UTC on Monday
            "tuesday_early": at(PARIS, 2030, 1, 8, 0, 30),  # 23:30 UTC on Monday
        }.items()
    }


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        pytest.param(
            {"date_from": "2030-01-07", "date_to": "2030-01-07"},
            ["monday_early", "monday_noon", "monday_late"],
            id="one-whole-clinic-day",
        ),
        pytest.param(
            {"date_from": "2030-01-07"},
            ["monday_early", "monday_noon", "monday_late", "tuesday_early"],
            id="from",
        ),
        pytest.param({"date_to": "2030-01-06"}, ["sunday_late"], id="to-is-inclusive"),
        pytest.param(
            {"date_from": "2030-01-07T12:00:00", "date_to": "2030-01-07T23:30:00"},
            ["monday_noon"],
            id="datetimes-to-is-exclusive",
        ),
        pytest.param(
            {"date_from": "2030-01-06T23:00:00Z", "date_to": "2030-01-07T23:00:00Z"},
            ["monday_early", "monday_noon", "monday_late"],
            id="datetimes-with-offset",
        ),
    ],
)
def test_date_filters_are_clinic_days_or_date_times(api, paris_doctor, paris_week, params, expected):
    response = api(paris_doctor).get(LIST_URL, params)

    assert ids(response) == [paris_week[name] for name in expected]
    assert response.json()["total"] == len(expected)


@pytest.fixture
def one_of_each_status(make):
    return {
        status: make(at(DAKAR, 2030, 1, 7, 8 + index), status=status).pk
        for index, status in enumerate(AppointmentStatus.values)
    }


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        pytest.param("status=scheduled", ["scheduled"], id="one"),
        pytest.param("status=scheduled&status=cancelled", ["scheduled", "cancelled"], id="repeated"),
        pytest.param("status=confirmed,no_show", ["confirmed", "no_show"], id="comma-separated"),
        pytest.param(
            "status=completed,checked_in&status=scheduled",
            ["scheduled", "checked_in", "completed"],
            id="both",
        ),
    ],
)
def test_status_filter_takes_several_statuses(api, doctor, list_url, one_of_each_status, query, expected):
    response = api(doctor).get(f"{list_url}?{query}")

    assert ids(response) == [one_of_each_status[status] for status in expected]


def test_patient_filter(api, doctor, clinic, make):
    other = PatientFactory(tenant=clinic)
    make(at(DAKAR, 2030, 1, 7, 9))
    theirs = make(at(DAKAR, 2030, 1, 7, 10), patient=other)

    assert ids(api(doctor).get(LIST_URL, {"patient_id": other.pk})) == [theirs.pk]


def test_provider_filter(api, doctor, nurse, list_url, make):
    make(at(DAKAR, 2030, 1, 7, 8))
    doctors = make(at(DAKAR, 2030, 1, 7, 9), provider=doctor)
    make(at(DAKAR, 2030, 1, 7, 10), provider=nurse)

    assert ids(api(doctor).get(list_url, {"provider_id": doctor.pk})) == [doctors.pk]


def test_filters_combine(api, doctor, nurse, list_url, make):
    wanted = make(at(DAKAR, 2030, 1, 8, 9), provider=doctor, status=AppointmentStatus.CONFIRMED)
    make(at(DAKAR, 2030, 1, 8, 10), provider=doctor)  # wrong status
    make(at(DAKAR, 2030, 1, 8, 11), provider=nurse, status=AppointmentStatus.CONFIRMED)  # wrong provider
    make(at(DAKAR, 2030, 1, 9, 9), provider=doctor, status=AppointmentStatus.CONFIRMED)  # wrong day

    response = api(doctor).get(
        list_url,
        {"date_from": "2030-01-08", "date_to": "2030-01-08", "status": "confirmed", "provider_id": doctor.pk},
    )

    assert ids(response) == [wanted.pk]


def test_ordering(api, doctor, list_url, make):
    late = make(at(DAKAR, 2030, 1, 9, 9)).pk
    early = make(at(DAKAR, 2030, 1, 7, 9)).pk
    middle = make(at(DAKAR, 2030, 1, 8, 9)).pk
    client = api(doctor)

    assert ids(client.get(list_url)) == [early, middle, late]
    assert ids(client.get(list_url, {"ordering": "appointment_date"})) == [early, middle, late]
    assert ids(client.get(list_url, {"ordering": "-appointment_date"})) == [late, middle, early]


def test_equal_start_times_are_ordered_by_id(api, doctor, list_url, make):
    same = [make(at(DAKAR, 2030, 1, 7, 9)).pk for _ in range(3)]

    assert ids(api(doctor).get(list_url)) == same
    assert ids(api(doctor).get(list_url, {"ordering": "-appointment_date"})) == same[::-1]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        pytest.param({"date_from": "2030-01-08", "date_to": "2030-01-07"}, "date_to", id="to-before-from"),
        pytest.param(
            {"date_from": "2030-01-07T10:00:00", "date_to": "2030-01-07T09:00:00"},
            "date_to",
            id="to-before-from-times",
        ),
        pytest.param({"date_from": "tomorrow"}, "date_from", id="from-not-a-date"),
        pytest.param({"date_to": "2030-02-30"}, "date_to", id="impossible-date"),
        pytest.param({"date_from": "2030-13-01T10:00"}, "date_from", id="impossible-month"),
        pytest.param({"date_to": "9999-12-31"}, "date_to", id="end-of-time"),
        pytest.param({"patient_id": "abc"}, "patient_id", id="patient-not-a-number"),
        pytest.param({"provider_id": "0"}, "provider_id", id="provider-zero"),
        pytest.param({"ordering": "reason"}, "ordering", id="unknown-ordering"),
    ],
)
def test_bad_filters_are_a_400_naming_the_parameter(api, doctor, list_url, params, field):
    assert_error(api(doctor).get(list_url, params), 400, fields=(field,), code="validation_error")


@pytest.mark.parametrize("query", ["status=done", "status=scheduled,done", "status=scheduled&status=DONE"])
def test_an_unknown_status_filter_is_a_400(api, doctor, list_url, query):
    body = assert_error(api(doctor).get(f"{list_url}?{query}"), 400, code="validation_error")

    assert body["fields"]
    assert all(name.split(".")[0] == "status" for name in body["fields"]), body


def test_a_dst_gap_time_in_a_filter_is_a_400(api, paris_doctor):
    body = assert_error(api(paris_doctor).get(LIST_URL, {"date_from": "2026-03-29T02:30:00"}), 400)

    assert {p["code"] for p in body["fields"]["date_from"]} == {"nonexistent_time"}


def test_a_dst_day_filter_starts_at_midnight(api, paris_clinic, paris_doctor, paris_patient):
    # 29 March 2026 in Paris starts at 00:00+01:00 and is 23 hours long.
    inside = AppointmentFactory(
        tenant=paris_clinic, patient=paris_patient, appointment_date=at(PARIS, 2026, 3, 29, 0, 15)
    )
    AppointmentFactory(
        tenant=paris_clinic, patient=paris_patient, appointment_date=at(PARIS, 2026, 3, 30, 0, 15)
    )

    response = api(paris_doctor).get(LIST_URL, {"date_from": "2026-03-29", "date_to": "2026-03-29"})

    assert ids(response) == [inside.pk]
