"""Fixtures of the cached patient reads tests: a clinic with a few patients, and the cache on."""

import pytest

from tests.factories import PatientFactory


@pytest.fixture(autouse=True)
def _response_cache_on(settings):
    settings.CACHE_API_RESPONSES = True


@pytest.fixture
def patients(clinic):
    return [
        PatientFactory(tenant=clinic, first_name="Fatou", last_name="Sall", email="fatou.sall@example.org"),
        PatientFactory(tenant=clinic, first_name="Awa", last_name="Diop", email="awa.diop@example.org"),
    ]


@pytest.fixture
def patient(patients):
    return patients[0]
