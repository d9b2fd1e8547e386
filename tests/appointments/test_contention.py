"""A deadlock or a serialization failure (psycopg's DeadlockDetected / SerializationFailure, which
Django raises as OperationalError) in a booking or a move is retried once, then a 409
`write_conflict` in the error shape: never a 500. Injected here on both backends; the real race is
in test_concurrency.py (PostgreSQL)."""

from unittest import mock

import pytest

from appointments import services
from tests.concurrency import contended
from tests.factories import AppointmentFactory

from .helpers import LIST_URL, assert_error, detail_url, snapshot

pytestmark = pytest.mark.django_db


def contention(times: int, sqlstate: str = "40P01"):
    """_save_holding_time failing `times` times as the database's contention error, then working."""
    stand_in = contended(services._save_holding_time, times, sqlstate)
    return mock.patch.object(services, "_save_holding_time", side_effect=stand_in), stand_in


@pytest.mark.parametrize("sqlstate", ["40P01", "40001"], ids=["deadlock", "serialization-failure"])
def test_one_contention_error_is_retried_and_the_move_succeeds(api, doctor, clinic, sqlstate):
    appointment = AppointmentFactory(tenant=clinic)
    patcher, save = contention(1, sqlstate)
    with patcher:
        response = api(doctor).patch(detail_url(appointment), {"duration_minutes": 45}, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["duration_minutes"] == 45
    assert save.calls == 2


def test_a_second_contention_error_is_a_409_and_changes_nothing(api, doctor, clinic):
    appointment = AppointmentFactory(tenant=clinic)
    before = snapshot(appointment)
    patcher, save = contention(2)
    with patcher:
        response = api(doctor).patch(detail_url(appointment), {"duration_minutes": 45}, format="json")
    assert_error(response, 409, code="write_conflict")
    assert save.calls == 2
    assert snapshot(appointment) == before


def test_a_booking_that_meets_contention_twice_is_a_409_and_books_nothing(api, doctor, clinic, patient):
    patcher, _ = contention(2)
    with patcher:
        response = api(doctor).post(
            LIST_URL, {"patient_id": patient.pk, "appointment_date": "2030-01-07T10:00:00"}, format="json"
        )
    assert_error(response, 409, code="write_conflict")
    assert api(doctor).get(LIST_URL).json()["total"] == 0


def test_another_operational_error_is_not_taken_for_contention(api, doctor, clinic):
    appointment = AppointmentFactory(tenant=clinic)
    patcher, save = contention(1, sqlstate="08006")  # connection failure: not ours to retry
    with patcher:
        response = api(doctor).patch(detail_url(appointment), {"duration_minutes": 45}, format="json")
    # Not retried, and not a 409: the outage's 503 (keneyapp.core.errors).
    assert_error(response, 503, code="database_unavailable")
    assert save.calls == 1
