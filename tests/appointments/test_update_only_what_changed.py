"""A PATCH of an appointment writes only what it changes: one naming the current values writes
nothing, invalidates no cached read, publishes no live event and keeps `updated_at`."""

from datetime import UTC, datetime

import pytest

from appointments.models import Appointment
from keneyapp.core.scoping import scopes_disabled
from tests.factories import AppointmentFactory
from tests.live_events import staff_events

MONDAY_9 = datetime(2030, 1, 7, 9, 0, tzinfo=UTC)


@pytest.fixture
def appointment(clinic, doctor, patient):
    return AppointmentFactory(tenant=clinic, patient=patient, provider=doctor, appointment_date=MONDAY_9)


def test_a_patch_naming_the_current_values_writes_and_publishes_nothing(
    api, doctor, clinic, appointment, bumped, django_capture_on_commit_callbacks, django_assert_num_queries
):
    client = api(doctor)
    client.get("/api/v1/auth/me")  # warm the API user cache: counts are of the steady state
    with scopes_disabled():
        before = Appointment.objects.get(pk=appointment.pk).updated_at
    body = {
        "provider_id": doctor.pk,
        "appointment_date": "2030-01-07T09:00:00",  # Dakar: UTC
        "duration_minutes": 30,
        "status": "scheduled",
        "reason": "Check-up",
    }

    with (
        staff_events(clinic.pk) as heard,
        django_capture_on_commit_callbacks(execute=True),
        # The request's savepoint (its transaction, in the test's) around: the appointment loaded
        # for the request; the service's savepoint and its release; the row locked and reloaded;
        # the working hours (the answer's outside_working_hours); the audit trail's one INSERT.
        # The provider named is the current one: not looked up again.
        django_assert_num_queries(8) as queries,
    ):
        response = client.patch(f"/api/v1/appointments/{appointment.pk}", body, format="json")

    assert response.status_code == 200, response.content
    assert not [query for query in queries if query["sql"].startswith("UPDATE")]
    assert bumped == []
    assert heard == []
    with scopes_disabled():
        assert Appointment.objects.get(pk=appointment.pk).updated_at == before
    assert (
        response.json()["updated_at"]
        == client.get(f"/api/v1/appointments/{appointment.pk}").json()["updated_at"]
    )


def test_a_patch_changing_one_value_writes_it_and_tells_the_clinic(
    api, doctor, clinic, appointment, bumped, django_capture_on_commit_callbacks
):
    with staff_events(clinic.pk) as heard, django_capture_on_commit_callbacks(execute=True):
        response = api(doctor).patch(
            f"/api/v1/appointments/{appointment.pk}", {"reason": "Follow-up"}, format="json"
        )

    assert response.status_code == 200
    with scopes_disabled():
        assert Appointment.objects.get(pk=appointment.pk).reason == "Follow-up"
    assert f"tenant:{clinic.pk}:dashboard" in bumped
    assert [event["type"] for event in heard] == ["appointment.updated"]
