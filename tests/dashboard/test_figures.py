"""The dashboard's figures against a hand-built data set, and their statement count."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from appointments.models import AppointmentStatus
from appointments.models import AppointmentStatus as S
from dashboard.selectors import dashboard_stats
from keneyapp.core.scoping import scopes_disabled
from patients.models import Patient
from patients.services import patient_soft_delete
from tests.documents.helpers import make_document

from .conftest import EXPECTED, NOW, TODAY_START, appointment_at, build_data_set, patient_created

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


def test_a_deleted_patients_appointments_and_documents_are_never_counted(data_set):
    with scopes_disabled():
        kept = Patient.objects.filter(tenant=data_set, is_deleted=False).first()
        make_document(data_set, patient=kept)
        expected = figures(dashboard_stats(data_set))
        leaving = patient_created(data_set, NOW - timedelta(days=2))  # new this month, until deleted
        appointment_at(data_set, TODAY_START + timedelta(minutes=10), S.CONFIRMED, patient=leaving)
        appointment_at(data_set, NOW + timedelta(days=1), patient=leaving)  # in the next 7 days
        appointment_at(data_set, NOW - timedelta(days=5), S.NO_SHOW, patient=leaving)  # in the rate
        make_document(data_set, patient=leaving)
        assert figures(dashboard_stats(data_set)) != expected  # the rows above are counted...

        patient_soft_delete(patient=leaving)

        assert figures(dashboard_stats(data_set)) == expected  # ...until their patient is deleted
        assert expected["documents"] == {"total": 1}


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
