"""The appointment lists run the same number of queries with 5 appointments as with 200 (patient and
provider names come joined), and availability costs the same for a day as for a month."""

from datetime import UTC, datetime, time, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from appointments.models import Appointment, TimeOff
from keneyapp.accounts.roles import Role
from keneyapp.core.scoping import scopes_disabled
from tests.factories import AppointmentFactory, PatientFactory, UserFactory

from .helpers import AVAILABILITY_URL, LIST_URL, patient_appointments_url

LIST_VARIANTS = [
    pytest.param({}, id="default"),
    pytest.param({"limit": 100}, id="full-page"),
    pytest.param({"status": "scheduled,confirmed", "ordering": "-appointment_date"}, id="status-ordering"),
    pytest.param({"date_from": "2030-01-01", "date_to": "2031-12-31", "limit": 100}, id="dates"),
    pytest.param({"date_from": "2030-01-01T00:00:00Z", "status": "scheduled", "skip": 3}, id="datetime-skip"),
]


def add_appointments(clinic, count: int, *, patients, providers) -> None:
    """`count` appointments spread over several patients and providers (no provider overlaps)."""
    with scopes_disabled():
        start = datetime(2030, 1, 1, tzinfo=UTC) + timedelta(days=Appointment.objects.count())
        Appointment.objects.bulk_create(
            AppointmentFactory.build(
                tenant=clinic,
                patient=patients[n % len(patients)],
                provider=providers[n % len(providers)],
                appointment_date=start + timedelta(hours=n),
            )
            for n in range(count)
        )


@pytest.fixture
def people(clinic, doctor):
    patients = PatientFactory.create_batch(3, tenant=clinic)
    providers = [doctor, UserFactory(tenant=clinic, role=Role.NURSE), None]
    return patients, providers


@pytest.mark.parametrize("params", LIST_VARIANTS)
def test_the_clinic_list_query_count_does_not_grow_with_rows(
    api, doctor, clinic, people, params, django_assert_num_queries
):
    patients, providers = people
    client = api(doctor)
    client.get("/api/v1/auth/me")  # warm the API user cache: counts are compared in steady state
    add_appointments(clinic, 5, patients=patients, providers=providers)
    with CaptureQueriesContext(connection) as with_5:
        small = client.get(LIST_URL, params)
    assert small.status_code == 200, small.content
    assert small.json()["total"] == 5

    add_appointments(clinic, 195, patients=patients, providers=providers)
    with django_assert_num_queries(len(with_5)):
        large = client.get(LIST_URL, params)

    body = large.json()
    assert body["total"] == 200
    assert len(body["items"]) == min(body["limit"], 200 - body["skip"])
    assert {item["patient"]["name"] for item in body["items"]} == {
        f"{p.first_name} {p.last_name}" for p in patients
    }


@pytest.mark.parametrize("params", LIST_VARIANTS)
def test_the_patient_list_query_count_does_not_grow_with_rows(
    api, doctor, clinic, people, params, django_assert_num_queries
):
    _, providers = people
    patient = PatientFactory(tenant=clinic)
    client = api(doctor)
    client.get("/api/v1/auth/me")  # warm the API user cache: counts are compared in steady state
    add_appointments(clinic, 5, patients=[patient], providers=providers)
    with CaptureQueriesContext(connection) as with_5:
        small = client.get(patient_appointments_url(patient), params)
    assert small.status_code == 200, small.content

    add_appointments(clinic, 195, patients=[patient], providers=providers)
    with django_assert_num_queries(len(with_5)):
        large = client.get(patient_appointments_url(patient), params)

    assert large.json()["total"] == 200


def test_the_list_is_one_query_for_the_total_and_one_for_the_page(api, doctor, clinic, people):
    patients, providers = people
    add_appointments(clinic, 20, patients=patients, providers=providers)

    with CaptureQueriesContext(connection) as queries:
        response = api(doctor).get(LIST_URL)

    assert response.status_code == 200
    assert response.json()["total"] == 20
    sql = [q["sql"] for q in queries]
    # The unfiltered total is the trigger-kept count (no COUNT over the appointments; only those
    # of deleted patients are counted, to be subtracted in the same read) ...
    assert any("core_tenantrowcount" in statement for statement in sql)
    counts = [s for s in sql if "COUNT(" in s.upper() and "appointments_appointment" in s]
    assert all("core_tenantrowcount" in s and "is_deleted" in s for s in counts), counts
    # ... and the page is one query with patients and providers joined.
    appointment_queries = [
        statement
        for statement in sql
        if "appointments_appointment" in statement and "core_tenantrowcount" not in statement
    ]
    assert len(appointment_queries) == 1
    assert "JOIN" in appointment_queries[0] and '"patients_patient"' in appointment_queries[0]


def test_a_filtered_list_counts_its_matches(api, doctor, clinic, people):
    patients, providers = people
    add_appointments(clinic, 20, patients=patients, providers=providers)

    with CaptureQueriesContext(connection) as queries:
        response = api(doctor).get(LIST_URL, {"status": "scheduled"})

    with scopes_disabled():
        assert (
            response.json()["total"] == Appointment.objects.filter(tenant=clinic, status="scheduled").count()
        )
    appointment_queries = [q["sql"] for q in queries if "appointments_appointment" in q["sql"]]
    assert len(appointment_queries) == 2  # COUNT(*) of the matches and the page


# --- availability -----------------------------------------------------------------------------


@pytest.fixture
def busy_doctor(clinic, doctor, patient, weekday_mornings):
    """Mon-Fri mornings, an appointment most days and a few days off over January 2030."""
    weekday_mornings(doctor)
    weekday_mornings(doctor, starts_at=time(14), ends_at=time(17))
    first_monday = datetime(2030, 1, 7, 9, tzinfo=UTC)
    for day in range(0, 31, 1):
        AppointmentFactory(
            tenant=clinic,
            patient=patient,
            provider=doctor,
            appointment_date=first_monday + timedelta(days=day),
        )
    for day in (2, 9, 16):
        TimeOff.objects.create(
            tenant=clinic,
            provider=doctor,
            starts_at=first_monday + timedelta(days=day),
            ends_at=first_monday + timedelta(days=day, hours=2),
        )
    return doctor


@pytest.mark.parametrize(
    "dates",
    [
        pytest.param(("2030-01-07", "2030-01-07"), id="one-day"),
        pytest.param(("2030-01-07", "2030-02-06"), id="31-days"),
    ],
)
def test_availability_costs_at_most_three_queries_whatever_the_range(
    api, doctor, busy_doctor, dates, django_assert_max_num_queries
):
    client = api(doctor)
    date_from, date_to = dates

    with django_assert_max_num_queries(3):  # authentication + provider and hours + busy time
        response = client.get(
            AVAILABILITY_URL, {"provider_id": busy_doctor.pk, "date_from": date_from, "date_to": date_to}
        )

    assert response.status_code == 200, response.content
    assert response.json()["slots"]


def test_availability_of_a_day_and_of_a_month_cost_the_same(api, doctor, busy_doctor):
    client = api(doctor)
    client.get("/api/v1/auth/me")  # warm the API user cache: counts are compared in steady state
    counts = []
    for date_to in ("2030-01-07", "2030-02-06"):
        with CaptureQueriesContext(connection) as queries:
            response = client.get(
                AVAILABILITY_URL,
                {"provider_id": busy_doctor.pk, "date_from": "2030-01-07", "date_to": date_to},
            )
        assert response.status_code == 200
        counts.append(len(queries))

    assert counts[0] == counts[1]
