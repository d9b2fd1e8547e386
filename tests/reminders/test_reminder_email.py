"""appointments.emails.reminder_email: the clinic, the time and the link; no health data.

Every health field gets a distinctive value, so that any of them in the email is found."""

from datetime import UTC, datetime

import pytest

from appointments.emails import reminder_email
from keneyapp.accounts.roles import Role
from tests.email_checks import assert_carries_none_of
from tests.factories import AppointmentFactory, PatientFactory, TenantFactory, UserFactory

HEALTH_VALUES = {
    "reason": "Zqreason chemotherapy follow-up",
    "notes": "Zqnotes HIV viral load",
    "cancellation_reason": "Zqcancel relapse",
    "first_name": "Zqfirstname",
    "last_name": "Zqlastname",
    "mrn": "ZQMRN0001",
    "allergies": "Zqallergy penicillin",
    "patient_notes": "Zqpatientnotes depression",
    "provider_first_name": "Zqprovider",
    "provider_last_name": "Zqoncologist",
}


@pytest.fixture
def appointment(settings):
    settings.APP_BASE_URL = "https://clinic.example.org/"
    clinic = TenantFactory.build(name="Clinique Lumière", timezone="Europe/Paris")
    patient = PatientFactory.build(
        tenant=clinic,
        first_name=HEALTH_VALUES["first_name"],
        last_name=HEALTH_VALUES["last_name"],
        mrn=HEALTH_VALUES["mrn"],
        allergies=HEALTH_VALUES["allergies"],
        notes=HEALTH_VALUES["patient_notes"],
        email="patient@example.org",
    )
    provider = UserFactory.build(
        tenant=clinic,
        role=Role.DOCTOR,
        first_name=HEALTH_VALUES["provider_first_name"],
        last_name=HEALTH_VALUES["provider_last_name"],
    )
    return AppointmentFactory.build(
        tenant=clinic,
        patient=patient,
        provider=provider,
        # 07:30 UTC is 08:30 in Paris in January.
        appointment_date=datetime(2030, 1, 15, 7, 30, tzinfo=UTC),
        reason=HEALTH_VALUES["reason"],
        notes=HEALTH_VALUES["notes"],
        cancellation_reason=HEALTH_VALUES["cancellation_reason"],
    )


def test_carries_no_health_data(appointment):
    assert_carries_none_of(reminder_email(appointment), HEALTH_VALUES)


def test_says_which_clinic_when_and_links_to_the_app(appointment):
    email = reminder_email(appointment)

    assert email.to == ["patient@example.org"] and email.cc == [] and email.bcc == []
    assert "Clinique Lumière" in email.subject and "08:30" in email.subject
    assert "Clinique Lumière" in email.body
    assert "Tuesday 15 January 2030 at 08:30 (Europe/Paris)" in email.body
    assert "https://clinic.example.org/" in email.body
