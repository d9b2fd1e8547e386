"""The appointments changelist runs the same number of queries whatever the number of rows."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from keneyapp.accounts.roles import Role
from tests.factories import AppointmentFactory, PatientFactory

from .conftest import CHANGELIST, MONDAY_9


@pytest.fixture
def measure(browser):
    """measure(user, url) -> query count of that page, after one warm-up request."""

    def run(user, url: str) -> int:
        client = browser(user)
        assert client.get(url).status_code == 200
        with CaptureQueriesContext(connection) as captured:
            response = client.get(url)
        assert response.status_code == 200
        return len(captured)

    return run


@pytest.fixture
def book(clinic, doctor, nurse):
    """book(count, start) -> appointments alternating between the doctor, the nurse and nobody,
    each with its own patient, one every 30 minutes from `start` (no provider overlaps)."""

    def make(count: int, start):
        providers = [doctor, nurse, None]
        for n in range(count):
            AppointmentFactory(
                tenant=clinic,
                patient=PatientFactory(tenant=clinic, last_name="Ndiaye"),
                provider=providers[n % 3],
                appointment_date=start + timedelta(minutes=30 * n),
                status="confirmed" if n % 2 else "scheduled",
            )

    return make


URLS = {
    "plain": CHANGELIST,
    "status": f"{CHANGELIST}?status__exact=confirmed",
    "search": f"{CHANGELIST}?q=ndiaye",
    "year": f"{CHANGELIST}?appointment_date__year=2030",
}


@pytest.mark.parametrize("view", list(URLS))
@pytest.mark.parametrize("role", [Role.DOCTOR, Role.RECEPTIONIST])
def test_changelist_queries_do_not_grow_with_rows(measure, staff_of, book, other_clinic, role, view):
    user = staff_of(role)
    AppointmentFactory.create_batch(3, tenant=other_clinic)
    book(5, MONDAY_9)
    with_5 = measure(user, URLS[view])

    book(195, MONDAY_9 + timedelta(days=10))
    with_200 = measure(user, URLS[view])

    assert with_5 == with_200
    assert with_200 <= 12


def test_provider_filter_queries_do_not_grow_with_rows(measure, doctor, book):
    url = f"{CHANGELIST}?provider__id__exact={doctor.pk}"
    book(5, MONDAY_9)
    with_5 = measure(doctor, url)

    book(195, MONDAY_9 + timedelta(days=10))
    with_200 = measure(doctor, url)

    assert with_5 == with_200


def test_superuser_changelist_queries_do_not_grow_with_rows(measure, superuser, book, other_clinic):
    book(5, MONDAY_9)
    with_5 = measure(superuser, CHANGELIST)

    book(100, MONDAY_9 + timedelta(days=10))
    AppointmentFactory.create_batch(95, tenant=other_clinic)
    with_200 = measure(superuser, CHANGELIST)

    assert with_5 == with_200


def test_change_page_queries_are_few(measure, doctor, clinic, book):
    book(3, MONDAY_9)
    target = AppointmentFactory(tenant=clinic, provider=doctor, appointment_date=MONDAY_9 - timedelta(days=1))

    assert measure(doctor, f"/admin/appointments/appointment/{target.pk}/change/") <= 12
