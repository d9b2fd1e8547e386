"""The reminder schedule exists after `migrate` (no manual step) and is editable in the admin."""

import pytest
from django.test import Client
from django_celery_beat.models import PeriodicTask

from keneyapp.accounts.roles import Role
from keneyapp.celery import app as celery_app
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

TASK_NAME = "appointments.send_appointment_reminders"


def reminder_schedule() -> PeriodicTask:
    return PeriodicTask.objects.select_related("interval").get(task=TASK_NAME)


def test_migrate_creates_an_enabled_interval_schedule_for_reminders():
    schedule = reminder_schedule()

    assert schedule.enabled is True
    assert schedule.interval is not None
    assert schedule.crontab is None
    assert schedule.one_off is False
    # Often enough that a reminder goes out well inside the 24-hour window.
    assert schedule.interval.schedule.run_every.total_seconds() <= 3600
    assert schedule.queue == "default"  # the queue is the priority (CELERY_TASK_ROUTES)


def test_the_scheduled_task_is_found_by_a_worker():
    # What a worker does at start: import every app's tasks module.
    celery_app.loader.import_default_modules()

    assert TASK_NAME in celery_app.tasks


def test_beat_uses_the_database_schedule(settings):
    assert settings.CELERY_BEAT_SCHEDULER == "django_celery_beat.schedulers:DatabaseScheduler"
    assert "django_celery_beat" in settings.INSTALLED_APPS


def _login(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_superuser_can_open_and_edit_the_schedule_in_the_admin():
    root = UserFactory(username="root", tenant=None, role="", is_superuser=True, is_staff=True)
    schedule = reminder_schedule()
    client = _login(root)
    url = f"/admin/django_celery_beat/periodictask/{schedule.pk}/change/"

    page = client.get(url)

    assert page.status_code == 200
    assert TASK_NAME in page.content.decode()

    listing = client.get("/admin/django_celery_beat/periodictask/")
    assert listing.status_code == 200
    assert schedule.name in listing.content.decode()

    form = page.context["adminform"].form
    data = {name: form[name].value() for name in form.fields if form[name].value() is not None}
    data = {name: value for name, value in data.items() if value is not False}  # unchecked boxes
    data.pop("enabled", None)  # switch it off, as an operator would
    data["_save"] = "Save"
    saved = client.post(url, data)

    assert saved.status_code == 302, saved.context["adminform"].form.errors
    edited = reminder_schedule()
    assert edited.enabled is False
    assert edited.task == TASK_NAME
    assert edited.interval_id == schedule.interval_id


def test_clinic_staff_cannot_touch_the_platform_schedule(clinic):
    clinic_admin = UserFactory(tenant=clinic, role=Role.ADMIN)
    schedule = reminder_schedule()

    response = _login(clinic_admin).get(f"/admin/django_celery_beat/periodictask/{schedule.pk}/change/")

    assert response.status_code in (302, 403)
    assert TASK_NAME not in response.content.decode()
