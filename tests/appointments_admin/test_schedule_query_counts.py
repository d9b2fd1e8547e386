"""The working-hours, time-off and clinic changelists run the same number of queries whatever the
number of rows."""

from datetime import UTC, datetime, time, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from appointments.models import TimeOff, WorkingHours
from keneyapp.accounts.roles import Role
from keneyapp.core.scoping import scopes_disabled
from tests.factories import TenantFactory, UserFactory


@pytest.fixture
def count_queries(browser):
    def run(user, url: str) -> int:
        client = browser(user)
        assert client.get(url).status_code == 200  # warm-up
        with CaptureQueriesContext(connection) as captured:
            assert client.get(url).status_code == 200
        return len(captured)

    return run


def add_schedules(clinic, providers: int) -> None:
    for n in range(providers):
        provider = UserFactory(tenant=clinic, role=Role.NURSE, username=f"nurse{clinic.pk}-{n}-{providers}")
        with scopes_disabled():
            WorkingHours.objects.bulk_create(
                WorkingHours(
                    tenant=clinic, provider=provider, weekday=day, starts_at=time(8), ends_at=time(12)
                )
                for day in range(5)
            )
        start = datetime(2030, 1, 1, tzinfo=UTC) + timedelta(days=n)
        TimeOff.objects.create(
            tenant=clinic, provider=provider, starts_at=start, ends_at=start + timedelta(days=1)
        )


@pytest.mark.parametrize("url", ["/admin/appointments/workinghours/", "/admin/appointments/timeoff/"])
def test_schedule_changelists_do_not_grow_with_rows(count_queries, clinic, staff_of, url):
    clinic_admin = staff_of(Role.ADMIN, username="adele")
    add_schedules(clinic, 1)  # 5 working-hours rows, 1 time off
    few = count_queries(clinic_admin, url)
    add_schedules(clinic, 40)  # 205 working-hours rows, 41 time off
    assert count_queries(clinic_admin, url) == few


def test_clinic_changelist_does_not_grow_with_rows(count_queries, superuser):
    TenantFactory.create_batch(5)
    few = count_queries(superuser, "/admin/accounts/tenant/")
    TenantFactory.create_batch(200)
    assert count_queries(superuser, "/admin/accounts/tenant/") == few
