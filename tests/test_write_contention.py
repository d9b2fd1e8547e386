"""A deadlock or serialization failure in a row-locking write other than booking (a patient's
record number and counters, marking messages read) is retried once, then a 409 `write_conflict`
that changes nothing: never a 500. Booking and moves: tests/appointments/test_contention.py; the
real race of read-all on PostgreSQL: tests/messaging/test_concurrency.py."""

from unittest import mock

import pytest

from keneyapp.core.scoping import scopes_disabled
from messaging import services as messaging_services
from messaging.models import Message, MessageStatus
from patients import services as patient_services
from patients.models import Patient
from tests.concurrency import contended
from tests.error_shape import assert_error
from tests.factories import MessageFactory
from tests.patients.helpers import LIST_URL, valid_body

pytestmark = pytest.mark.django_db


def _patients() -> int:
    with scopes_disabled():
        return Patient.objects.count()


@pytest.mark.parametrize("sqlstate", ["40P01", "40001"], ids=["deadlock", "serialization-failure"])
def test_a_patient_create_meeting_contention_once_is_retried(api, doctor, sqlstate):
    save = contended(patient_services._save_or_explain, 1, sqlstate)
    with mock.patch.object(patient_services, "_save_or_explain", side_effect=save):
        response = api(doctor).post(LIST_URL, valid_body(), format="json")

    assert response.status_code == 201, response.content
    assert save.calls == 2
    assert _patients() == 1
    # The rolled-back attempt's record number was rolled back with it: the first number is used.
    assert response.json()["mrn"] == patient_services.format_record_number(1)


def test_a_patient_create_meeting_contention_twice_is_a_409_creating_nothing(api, doctor):
    save = contended(patient_services._save_or_explain, 2)
    with mock.patch.object(patient_services, "_save_or_explain", side_effect=save):
        response = api(doctor).post(LIST_URL, valid_body(), format="json")

    assert_error(response, 409, code="write_conflict")
    assert _patients() == 0


@pytest.mark.parametrize(
    ("url", "of_message"), [("/api/v1/messages/read-all", False), ("/api/v1/messages/{id}/read", True)]
)
def test_marking_read_meeting_contention_twice_is_a_409_and_once_is_retried(
    api, doctor, nurse, url, of_message
):
    message = MessageFactory(tenant=doctor.tenant, sender=nurse, receiver=doctor)
    url = url.format(id=message.pk)

    announce = contended(messaging_services._announce_read, 2)
    with mock.patch.object(messaging_services, "_announce_read", side_effect=announce):
        response = api(doctor).post(url)
    assert_error(response, 409, code="write_conflict")
    with scopes_disabled():
        assert Message.objects.get(pk=message.pk).status != MessageStatus.READ

    announce = contended(messaging_services._announce_read, 1)
    with mock.patch.object(messaging_services, "_announce_read", side_effect=announce):
        response = api(doctor).post(url)
    assert response.status_code == 200, response.content
    assert announce.calls == 2
    with scopes_disabled():
        assert Message.objects.get(pk=message.pk).status == MessageStatus.READ


def test_contention_in_a_write_that_is_not_retried_is_still_a_409_not_an_outage(api, doctor):
    # PATCH /patients/{id} is not retried (its service mutates the instance it was given); the
    # deadlock's OperationalError is an outage's class: without the handler's check, a 503.
    created = api(doctor).post(LIST_URL, valid_body(), format="json").json()
    save = contended(patient_services._save_or_explain, 1)
    with mock.patch.object(patient_services, "_save_or_explain", side_effect=save):
        response = api(doctor).patch(f"{LIST_URL}/{created['id']}", {"first_name": "Fatou"}, format="json")

    assert_error(response, 409, code="write_conflict")
    with scopes_disabled():
        assert Patient.objects.get(pk=created["id"]).first_name == "Awa"
