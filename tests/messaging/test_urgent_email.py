"""messaging.emails.urgent_message_email: who sent it, when and the link; no health data.

Every health field gets a distinctive value, so that any of them in the email is found."""

from datetime import UTC, datetime

import pytest

from messaging.emails import urgent_message_email
from tests.email_checks import assert_carries_none_of
from tests.factories import MessageFactory, PatientFactory, TenantFactory, UserFactory

HEALTH_VALUES = {
    "subject": "Zqsubject biopsy result",
    "body": "Zqbody the scan shows a tumour",
    "first_name": "Zqfirstname",
    "last_name": "Zqlastname",
    "mrn": "ZQMRN0002",
    "allergies": "Zqallergy latex",
    "patient_notes": "Zqpatientnotes bipolar",
}


@pytest.fixture
def message(settings):
    settings.APP_BASE_URL = "https://clinic.example.org"
    clinic = TenantFactory.build(name="Clinique Lumière", timezone="Europe/Paris")
    patient = PatientFactory.build(
        tenant=clinic,
        first_name=HEALTH_VALUES["first_name"],
        last_name=HEALTH_VALUES["last_name"],
        mrn=HEALTH_VALUES["mrn"],
        allergies=HEALTH_VALUES["allergies"],
        notes=HEALTH_VALUES["patient_notes"],
    )
    return MessageFactory.build(
        tenant=clinic,
        sender=UserFactory.build(tenant=clinic, first_name="Awa", last_name="Ndiaye"),
        receiver=UserFactory.build(tenant=clinic, email="nurse@example.org"),
        patient=patient,
        subject=HEALTH_VALUES["subject"],
        body=HEALTH_VALUES["body"],
        is_urgent=True,
        # 09:05 UTC is 10:05 in Paris in January.
        created_at=datetime(2030, 1, 15, 9, 5, tzinfo=UTC),
    )


def test_carries_no_health_data(message):
    assert_carries_none_of(urgent_message_email(message), HEALTH_VALUES)


def test_says_who_sent_it_when_and_links_to_the_app(message):
    email = urgent_message_email(message)

    assert email.to == ["nurse@example.org"] and email.cc == [] and email.bcc == []
    assert "Clinique Lumière" in email.subject and "Awa Ndiaye" in email.subject
    assert "Awa Ndiaye" in email.body
    assert "Tuesday 15 January 2030 at 10:05 (Europe/Paris)" in email.body
    assert "https://clinic.example.org/" in email.body
