"""Changelists run the same number of queries whatever the number of rows."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from keneyapp.accounts.roles import Role
from tests.factories import PatientFactory, UserFactory


def queries_for(client, url: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200
    return len(captured)


@pytest.fixture
def measure(browser):
    """measure(user, url) -> query count of that page, after one warm-up request (caches filled)."""

    def run(user, url: str) -> int:
        client = browser(user)
        client.get(url)
        return queries_for(client, url)

    return run


@pytest.mark.parametrize("role", [Role.DOCTOR, Role.RECEPTIONIST])
def test_patient_changelist_queries_do_not_grow_with_rows(measure, staff_of, clinic, other_clinic, role):
    user = staff_of(role)
    PatientFactory.create_batch(5, tenant=clinic, created_by=user)
    PatientFactory.create_batch(3, tenant=other_clinic)
    with_5 = measure(user, "/admin/patients/patient/")

    PatientFactory.create_batch(195, tenant=clinic, created_by=user)
    with_200 = measure(user, "/admin/patients/patient/")

    assert with_5 == with_200
    assert with_200 <= 8


def test_patient_search_queries_do_not_grow_with_rows(measure, doctor, clinic):
    PatientFactory.create_batch(5, tenant=clinic, last_name="Ndiaye")
    with_5 = measure(doctor, "/admin/patients/patient/?q=ndiaye")

    PatientFactory.create_batch(195, tenant=clinic, last_name="Ndiaye")
    with_200 = measure(doctor, "/admin/patients/patient/?q=ndiaye")

    assert with_5 == with_200


def test_superuser_patient_changelist_queries_do_not_grow_with_rows(measure, superuser, clinic, other_clinic):
    PatientFactory.create_batch(5, tenant=clinic)
    with_5 = measure(superuser, "/admin/patients/patient/")

    PatientFactory.create_batch(100, tenant=clinic)
    PatientFactory.create_batch(95, tenant=other_clinic)
    with_200 = measure(superuser, "/admin/patients/patient/")

    assert with_5 == with_200


def test_users_changelist_queries_do_not_grow_with_rows(measure, staff_of, clinic):
    clinic_admin = staff_of(Role.ADMIN)
    UserFactory.create_batch(4, tenant=clinic, role=Role.NURSE)
    with_5 = measure(clinic_admin, "/admin/accounts/user/")

    UserFactory.create_batch(195, tenant=clinic, role=Role.DOCTOR)
    with_200 = measure(clinic_admin, "/admin/accounts/user/")

    assert with_5 == with_200


def test_superuser_users_changelist_queries_do_not_grow_with_rows(measure, superuser, clinic, other_clinic):
    UserFactory.create_batch(4, tenant=clinic)
    with_5 = measure(superuser, "/admin/accounts/user/")

    UserFactory.create_batch(100, tenant=clinic)
    UserFactory.create_batch(95, tenant=other_clinic)
    with_200 = measure(superuser, "/admin/accounts/user/")

    assert with_5 == with_200
