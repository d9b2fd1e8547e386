"""Fixtures of the appointments API tests: patients, staff of every role, a clinic in a zone with
daylight saving, and providers' weekly working hours."""

from datetime import time

import pytest

from appointments.models import WorkingHours
from keneyapp.accounts.roles import Role
from tests.factories import PatientFactory, TenantFactory, UserFactory


@pytest.fixture
def patient(clinic):
    return PatientFactory(tenant=clinic, first_name="Fatou", last_name="Sall", mrn="A0000001")


@pytest.fixture
def foreign_patient(other_clinic):
    return PatientFactory(tenant=other_clinic, first_name="Moussa", last_name="Faye")


@pytest.fixture
def paris_clinic(db):
    """A clinic whose zone has daylight saving: UTC+1 in winter, UTC+2 in summer."""
    return TenantFactory(name="Clinique de Paris", slug="paris", timezone="Europe/Paris")


@pytest.fixture
def paris_doctor(paris_clinic):
    return UserFactory(tenant=paris_clinic, role=Role.DOCTOR, username="pierre")


@pytest.fixture
def paris_patient(paris_clinic):
    return PatientFactory(tenant=paris_clinic)


@pytest.fixture
def weekday_mornings():
    """weekday_mornings(provider) -> Monday to Friday 08:00-12:00, clinic time."""

    def make(provider, *, starts_at=time(8), ends_at=time(12), weekdays=range(5)):
        return [
            WorkingHours.objects.create(
                tenant_id=provider.tenant_id,
                provider=provider,
                weekday=weekday,
                starts_at=starts_at,
                ends_at=ends_at,
            )
            for weekday in weekdays
        ]

    return make
