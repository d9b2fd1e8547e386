"""GET /api/v1/dashboard/stats: the answer, its cache, and its invalidation by writes."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from dashboard import selectors
from keneyapp.accounts.roles import Role
from tests.factories import AppointmentFactory, PatientFactory
from tests.patients.helpers import valid_body

from .conftest import EXPECTED, STATS_URL

pytestmark = pytest.mark.django_db

DOMAIN_TABLES = ("patients_patient", "appointments_appointment", "core_tenantrowcount")


def stats_queries(queries) -> list[str]:
    return [q["sql"] for q in queries.captured_queries if any(t in q["sql"] for t in DOMAIN_TABLES)]


def test_answer_has_every_figure_of_the_callers_clinic(api, doctor, data_set):
    response = api(doctor).get(STATS_URL)

    assert response.status_code == 200
    body = response.json()
    assert body["clinic"] == {"id": data_set.pk, "name": data_set.name, "timezone": "Asia/Tokyo"}
    assert body["patients"] == EXPECTED["patients"]
    assert body["appointments"] == EXPECTED["appointments"]
    assert body["messages"] == {"unread": 0}
    assert body["documents"] == {"total": 0}
    assert body["computed_at"].startswith("2030-03-15T20:00:00")


def test_unauthenticated_is_401(api):
    response = api().get(STATS_URL)

    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"


@pytest.mark.parametrize("role", list(Role))
def test_every_role_can_read_it(api, staff_of, role):
    assert api(staff_of(role)).get(STATS_URL).status_code == 200


def test_second_request_is_served_from_the_cache(api, doctor, clinic):
    PatientFactory(tenant=clinic)
    client = api(doctor)
    first = client.get(STATS_URL).json()

    with CaptureQueriesContext(connection) as queries:
        second = client.get(STATS_URL).json()

    assert stats_queries(queries) == []
    assert second == first


def test_each_clinic_has_its_own_entry(api, doctor, outsider, clinic, other_clinic):
    PatientFactory(tenant=other_clinic)
    PatientFactory(tenant=other_clinic)
    assert api(outsider).get(STATS_URL).json()["patients"]["total"] == 2  # theirs, now cached

    body = api(doctor).get(STATS_URL).json()

    assert body["patients"]["total"] == 0
    assert body["clinic"]["id"] == clinic.pk


def test_a_patient_created_through_the_api_shows_at_once(
    api, doctor, clinic, django_capture_on_commit_callbacks
):
    client = api(doctor)
    assert client.get(STATS_URL).json()["patients"] == {"total": 0, "new_this_month": 0}

    with django_capture_on_commit_callbacks(execute=True):
        assert client.post("/api/v1/patients", valid_body(), format="json").status_code == 201

    assert client.get(STATS_URL).json()["patients"] == {"total": 1, "new_this_month": 1}


def test_a_patient_deleted_through_the_api_leaves_at_once(
    api, doctor, clinic, django_capture_on_commit_callbacks
):
    patient = PatientFactory(tenant=clinic)
    client = api(doctor)
    assert client.get(STATS_URL).json()["patients"]["total"] == 1

    with django_capture_on_commit_callbacks(execute=True):
        assert client.delete(f"/api/v1/patients/{patient.pk}").status_code == 204

    assert client.get(STATS_URL).json()["patients"]["total"] == 0


def test_appointments_booked_and_cancelled_through_the_api_show_at_once(
    api, doctor, clinic, django_capture_on_commit_callbacks
):
    patient = PatientFactory(tenant=clinic)
    client = api(doctor)
    assert client.get(STATS_URL).json()["appointments"]["next_7_days"] == 0
    when = (timezone.now() + timedelta(days=2)).replace(microsecond=0).isoformat()

    with django_capture_on_commit_callbacks(execute=True):
        booked = client.post(
            "/api/v1/appointments", {"patient_id": patient.pk, "appointment_date": when}, format="json"
        )
    assert booked.status_code == 201, booked.content
    assert client.get(STATS_URL).json()["appointments"]["next_7_days"] == 1

    with django_capture_on_commit_callbacks(execute=True):
        cancelled = client.post(
            f"/api/v1/appointments/{booked.json()['id']}/cancel", {"reason": "Called"}, format="json"
        )
    assert cancelled.status_code == 200, cancelled.content
    assert client.get(STATS_URL).json()["appointments"]["next_7_days"] == 0


def test_a_status_change_through_the_api_shows_at_once(
    api, doctor, clinic, django_capture_on_commit_callbacks
):
    appointment = AppointmentFactory(tenant=clinic, appointment_date=timezone.now())
    client = api(doctor)
    before = client.get(STATS_URL).json()["appointments"]["today"]

    with django_capture_on_commit_callbacks(execute=True):
        response = client.patch(
            f"/api/v1/appointments/{appointment.pk}", {"status": "confirmed"}, format="json"
        )
    assert response.status_code == 200, response.content

    after = client.get(STATS_URL).json()["appointments"]["today"]
    assert after["confirmed"] == before["confirmed"] + 1
    assert after["scheduled"] == before["scheduled"] - 1


def test_the_unread_count_is_never_cached(api, doctor, clinic, monkeypatch):
    client = api(doctor)
    assert client.get(STATS_URL).json()["messages"]["unread"] == 0
    monkeypatch.setattr(selectors, "unread_messages", lambda user: 7)

    assert client.get(STATS_URL).json()["messages"]["unread"] == 7
