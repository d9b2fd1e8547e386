"""The dashboard's figures against a hand-built data set, and their statement count."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from appointments.models import AppointmentStatus
from dashboard.selectors import dashboard_stats
from keneyapp.core.scoping import scopes_disabled

from .conftest import EXPECTED, NOW, build_data_set

pytestmark = pytest.mark.django_db


def figures(stats: dict) -> dict:
    return {key: value for key, value in stats.items() if key != "computed_at"}


def test_figures_match_the_hand_built_data_set(data_set):
    with scopes_disabled():
        stats = dashboard_stats(data_set)

    assert figures(stats) == EXPECTED
    assert stats["computed_at"] == NOW


def test_another_clinics_rows_are_never_counted(data_set, other_clinic):
    # other_clinic holds the very same rows: if any leaked in, every figure would double.
    with scopes_disabled():
        assert figures(dashboard_stats(data_set)) == figures(dashboard_stats(other_clinic)) == EXPECTED


def test_an_empty_clinic_has_every_status_and_no_rate(tokyo_clinic, frozen_now):
    with scopes_disabled():
        stats = dashboard_stats(tokyo_clinic)

    assert stats["patients"] == {"total": 0, "new_this_month": 0}
    assert stats["appointments"]["today"] == dict.fromkeys(AppointmentStatus.values, 0)
    assert stats["appointments"]["next_7_days"] == 0
    assert stats["appointments"]["no_show_rate_30_days"] is None


def statements_of_stats(tenant) -> int:
    with CaptureQueriesContext(connection) as queries, scopes_disabled():
        dashboard_stats(tenant)
    return len(queries)


def test_at_most_three_statements_whatever_the_clinics_size(tokyo_clinic, frozen_now):
    build_data_set(tokyo_clinic)
    small = statements_of_stats(tokyo_clinic)
    for _ in range(4):
        build_data_set(tokyo_clinic)
    large = statements_of_stats(tokyo_clinic)

    assert small <= 3
    assert large == small
