"""The hourly flag of unusual access: many distinct patients in an hour, or attempted ids."""

from datetime import timedelta

import pytest
from django.utils import timezone

from keneyapp.core.audit_flags import flag_unusual_access, hour_start
from keneyapp.core.models import AuditEvent, AuditFlag
from keneyapp.core.scoping import scopes_disabled
from keneyapp.core.tasks import flag_unusual_access as flag_task
from tests.factories import PatientFactory

pytestmark = pytest.mark.django_db


def views(tenant, user, patient_ids, *, at, outcome="allowed"):
    AuditEvent._base_manager.bulk_create(
        AuditEvent(at=at, tenant=tenant, user_id=user.pk, role=user.role, door="api", action="view",
                   model="patients.patient", object_id=pid, patient_id=pid, outcome=outcome)
        for pid in patient_ids
    )  # fmt: skip


def flags():
    with scopes_disabled():
        return sorted((f.tenant_id, f.user_id, f.reason, f.count) for f in AuditFlag.objects.all())


def test_more_distinct_patients_than_the_limit_in_an_hour_is_flagged(clinic, doctor, nurse, settings):
    settings.AUDIT_UNUSUAL_PATIENTS_PER_HOUR = 5
    at = hour_start(timezone.now()) + timedelta(minutes=1)
    views(clinic, doctor, range(1, 7), at=at)  # 6 distinct: over
    views(clinic, nurse, [1, 2, 3, 4, 5, 1, 2, 3], at=at)  # 5 distinct (8 views): not over
    assert flag_unusual_access(now=at + timedelta(minutes=5)) == 1
    assert flags() == [(clinic.pk, doctor.pk, "many_patients", 6)]


def test_the_limit_counts_one_hour_only(clinic, doctor, settings):
    settings.AUDIT_UNUSUAL_PATIENTS_PER_HOUR = 5
    now = hour_start(timezone.now()) + timedelta(minutes=1)
    views(clinic, doctor, range(1, 4), at=now - timedelta(hours=1))
    views(clinic, doctor, range(4, 8), at=now)
    flag_unusual_access(now=now)
    assert flags() == []


def test_attempts_on_other_clinics_ids_are_flagged(api, clinic, doctor, other_clinic):
    theirs = PatientFactory(tenant=other_clinic)
    api(doctor).get(f"/api/v1/patients/{theirs.pk}")
    api(doctor).get(f"/api/v1/patients/{theirs.pk + 1000}")
    assert flag_task.apply().get() == 1
    assert flags() == [(clinic.pk, doctor.pk, "cross_clinic", 2)]


def test_running_twice_flags_once(clinic, doctor, settings):
    settings.AUDIT_UNUSUAL_PATIENTS_PER_HOUR = 1
    at = hour_start(timezone.now())
    views(clinic, doctor, [1, 2, 3], at=at)
    flag_unusual_access(now=at)
    flag_unusual_access(now=at)
    assert flags() == [(clinic.pk, doctor.pk, "many_patients", 3)]


def test_the_beat_schedule_exists():
    from django_celery_beat.models import PeriodicTask

    task = PeriodicTask.objects.get(task="core.flag_unusual_access")
    assert (task.interval.every, task.interval.period, task.queue) == (60, "minutes", "low")
