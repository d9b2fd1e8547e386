"""The warming task, its beat schedule, and `manage.py warm_cache`."""

from io import StringIO

import pytest
from django.conf import settings
from django.core.management import call_command
from django_celery_beat.models import PeriodicTask

from dashboard.selectors import dashboard_cache_key
from dashboard.tasks import warm_dashboard_cache
from keneyapp.core.caching import cache_service
from tests.factories import PatientFactory, TenantFactory

pytestmark = pytest.mark.django_db

TASK_NAME = "dashboard.warm_dashboard_cache"


@pytest.fixture
def closed_clinic(db):
    return TenantFactory(name="Clinique Fermée", slug="closed", is_active=False)


def cached(tenant):
    return cache_service.get(dashboard_cache_key(tenant.pk))


def test_the_task_fills_every_active_clinics_cache(clinic, other_clinic, closed_clinic):
    PatientFactory(tenant=clinic)

    warm_dashboard_cache.apply()

    assert cached(clinic)["patients"]["total"] == 1
    assert cached(other_clinic)["patients"]["total"] == 0
    assert cached(closed_clinic) is None


def test_the_command_warms_every_active_clinic_with_a_line_each(clinic, other_clinic, closed_clinic):
    out = StringIO()

    call_command("warm_cache", stdout=out)

    lines = out.getvalue().splitlines()
    clinic_lines = [line for line in lines if line.startswith("clinic ")]
    assert len(clinic_lines) == 2
    assert any(f"clinic {clinic.pk} (alpha)" in line for line in clinic_lines)
    assert not any("closed" in line for line in clinic_lines)
    assert cached(clinic) is not None and cached(other_clinic) is not None
    assert cached(closed_clinic) is None


def test_the_task_is_routed_to_the_low_queue():
    assert settings.CELERY_TASK_ROUTES[TASK_NAME] == {"queue": "low"}


def test_migrate_creates_a_five_minute_schedule_editable_in_the_admin():
    schedule = PeriodicTask.objects.select_related("interval").get(task=TASK_NAME)

    assert schedule.enabled is True
    assert schedule.interval.schedule.run_every.total_seconds() == 300
    assert schedule.queue == "low"
    assert schedule.one_off is False
