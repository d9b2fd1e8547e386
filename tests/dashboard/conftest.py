"""A fixed "now" and a hand-built data set whose dashboard figures are known in advance.

The clinic is in Tokyo (UTC+9), so its day and month differ from UTC's: at NOW (20:00 UTC on
15 March) it is already 16 March, 05:00, there.
"""

from datetime import UTC, datetime, timedelta

import pytest

from appointments.models import AppointmentStatus as S
from keneyapp.core.scoping import scopes_disabled
from patients.models import Patient
from tests.factories import AppointmentFactory, PatientFactory

NOW = datetime(2030, 3, 15, 20, 0, tzinfo=UTC)
TODAY_START = datetime(2030, 3, 15, 15, 0, tzinfo=UTC)  # 16 March 00:00 in Tokyo
MONTH_START = datetime(2030, 2, 28, 15, 0, tzinfo=UTC)  # 1 March 00:00 in Tokyo
STATS_URL = "/api/v1/dashboard/stats"


@pytest.fixture
def frozen_now(monkeypatch):
    monkeypatch.setattr("dashboard.selectors.timezone.now", lambda: NOW)
    return NOW


def patient_created(tenant, created_at, **kwargs):
    patient = PatientFactory(tenant=tenant, **kwargs)
    with scopes_disabled():
        Patient.objects.filter(pk=patient.pk).update(created_at=created_at)
    return patient


def appointment_at(tenant, when, status=S.SCHEDULED, patient=None):
    extra = {"patient": patient} if patient is not None else {}
    return AppointmentFactory(tenant=tenant, appointment_date=when, status=status, **extra)


def build_data_set(tenant):
    """The figures it must give are EXPECTED below."""
    p = patient_created(tenant, MONTH_START + timedelta(hours=1))  # 1 March, 01:00 local: new
    patient_created(tenant, MONTH_START + timedelta(days=10))  # new
    patient_created(tenant, NOW - timedelta(hours=1))  # new
    patient_created(tenant, MONTH_START - timedelta(hours=1))  # 28 Feb, 23:00 local: older
    patient_created(tenant, datetime(2029, 6, 1, tzinfo=UTC))  # older
    patient_created(tenant, NOW - timedelta(days=1), is_deleted=True)  # deleted: never counted
    # Today (local): one or two per status, all before now.
    today = [S.SCHEDULED, S.SCHEDULED, S.CONFIRMED, S.CHECKED_IN, S.COMPLETED, S.CANCELLED, S.NO_SHOW]
    for index, status in enumerate(today):
        appointment_at(tenant, TODAY_START + timedelta(minutes=30 * (index + 1)), status, patient=p)
    appointment_at(tenant, TODAY_START - timedelta(minutes=30), patient=p)  # yesterday (local)
    # The next 7 days (from now): cancelled ones and those after 7 days are left out.
    appointment_at(tenant, NOW + timedelta(days=1), patient=p)
    appointment_at(tenant, NOW + timedelta(days=2), S.CONFIRMED, patient=p)
    appointment_at(tenant, NOW + timedelta(days=3), S.CANCELLED, patient=p)
    appointment_at(tenant, NOW + timedelta(days=8), patient=p)
    # The last 30 days: with today's, 3 completed and 2 no-shows; one no-show too old to count.
    appointment_at(tenant, NOW - timedelta(days=10), S.COMPLETED, patient=p)
    appointment_at(tenant, NOW - timedelta(days=10, hours=1), S.COMPLETED, patient=p)
    appointment_at(tenant, NOW - timedelta(days=20), S.NO_SHOW, patient=p)
    appointment_at(tenant, NOW - timedelta(days=40), S.NO_SHOW, patient=p)


EXPECTED = {
    "patients": {"total": 5, "new_this_month": 3},
    "appointments": {
        "today": {
            "scheduled": 2,
            "confirmed": 1,
            "checked_in": 1,
            "completed": 1,
            "cancelled": 1,
            "no_show": 1,
        },
        "next_7_days": 2,
        "no_show_rate_30_days": 0.4,
    },
    "documents": {"total": 0},
}


@pytest.fixture
def tokyo_clinic(clinic):
    clinic.timezone = "Asia/Tokyo"
    clinic.save(update_fields=["timezone"])
    return clinic


@pytest.fixture
def data_set(tokyo_clinic, other_clinic, frozen_now):
    build_data_set(tokyo_clinic)
    # Another clinic's rows, in every window: never counted.
    other_clinic.timezone = "Asia/Tokyo"
    other_clinic.save(update_fields=["timezone"])
    build_data_set(other_clinic)
    return tokyo_clinic
