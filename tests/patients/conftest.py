"""Fixtures of the patients API tests: one patient of ours, one of the other clinic."""

import pytest

from tests.factories import PatientFactory


@pytest.fixture
def patient(clinic):
    return PatientFactory(tenant=clinic, first_name="Fatou", last_name="Sall", email="fatou.sall@example.org")


@pytest.fixture
def foreign_patient(other_clinic):
    return PatientFactory(
        tenant=other_clinic, first_name="Moussa", last_name="Faye", email="moussa.faye@example.org"
    )
