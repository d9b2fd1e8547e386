"""The project task base (keneyapp.core.tasks): every task uses it; queued after commit; a broker
that cannot be reached is logged, never raised; clinic tasks run in their clinic's scope."""

import ast
import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from django.core.mail import EmailMessage
from django.db import transaction
from django_scopes import get_scope

from appointments.tasks import send_appointment_reminders
from keneyapp.celery import app as celery_app
from keneyapp.core.tasks import ClinicTask, ProjectTask, queue_task
from messaging import tasks as messaging_tasks
from tests.brokers import recording_broker, refusing_broker, silent_broker
from tests.factories import MessageFactory

REMINDERS = "appointments.send_appointment_reminders"

# Tasks that are not about one clinic: each says so with a scopes_disabled() block (or enters
# each clinic's scope in turn) and docs/architecture.md lists it. A new task is a ClinicTask, or
# is added here on purpose.
CROSS_CLINIC_TASKS = {
    "appointments.send_appointment_reminders",
    "core.flag_unusual_access",
    "dashboard.warm_dashboard_cache",
    "documents.cleanup_old_files",
    "documents.sweep_stale_reports",
    "documents.sweep_orphan_objects",
    "messaging.sweep_urgent_notifications",
}


def project_tasks() -> dict:
    celery_app.loader.import_default_modules()  # what a worker imports at start
    return {name: task for name, task in celery_app.tasks.items() if not name.startswith("celery.")}


def test_every_project_task_uses_the_project_task_base():
    tasks = project_tasks()
    assert len(tasks) >= 6
    assert [name for name, task in tasks.items() if not isinstance(task, ProjectTask)] == []


def test_every_project_task_is_a_clinic_task_unless_declared_cross_clinic():
    tasks = project_tasks()
    not_clinic = {name for name, task in tasks.items() if not isinstance(task, ClinicTask)}
    assert not_clinic == CROSS_CLINIC_TASKS
    assert {"documents.generate_report", "messaging.send_urgent_notification"} <= set(tasks) - not_clinic


@pytest.mark.django_db
def test_delay_inside_a_transaction_is_published_when_it_commits(
    monkeypatch, django_capture_on_commit_callbacks
):
    with recording_broker(monkeypatch) as published:
        with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
            assert send_appointment_reminders.delay() is None
            assert published == []  # not before the commit
        assert [name for name, _ in published] == [REMINDERS]


@pytest.mark.django_db
def test_delay_in_a_transaction_that_rolls_back_publishes_nothing(
    monkeypatch, django_capture_on_commit_callbacks
):
    with (
        recording_broker(monkeypatch) as published,
        django_capture_on_commit_callbacks(execute=True),
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        send_appointment_reminders.delay()
        raise RuntimeError("the change fails")
    assert published == []


def test_delay_outside_a_transaction_is_published_at_once(monkeypatch):
    with recording_broker(monkeypatch) as published:
        assert send_appointment_reminders.delay() is not None  # its AsyncResult
        assert [name for name, _ in published] == [REMINDERS]


def test_a_refused_broker_connection_is_logged_not_raised(monkeypatch, caplog):
    with refusing_broker(monkeypatch):
        assert send_appointment_reminders.delay() is None
    assert f"could not queue task {REMINDERS}" in caplog.text


def test_a_broker_that_never_answers_fails_the_publish_within_seconds(monkeypatch, caplog):
    # The request that queues must answer: without the bounded socket timeouts and publish retries
    # of CELERY_BROKER_TRANSPORT_OPTIONS and CELERY_TASK_PUBLISH_RETRY_POLICY it waits forever.
    outcome: list = []
    with silent_broker(monkeypatch):
        started = time.monotonic()
        publisher = threading.Thread(
            target=lambda: outcome.append(send_appointment_reminders.delay()), daemon=True
        )
        publisher.start()
        publisher.join(timeout=60)
        elapsed = time.monotonic() - started
    assert not publisher.is_alive(), "the publish still waits for the broker after 60 s"
    assert outcome == [None]
    assert f"could not queue task {REMINDERS}" in caplog.text
    assert elapsed < 30  # one attempt of at most 1 s + 2 s here; generous for a busy machine


def test_after_a_refused_publish_the_broker_is_not_tried_again_for_a_while(monkeypatch, caplog):
    # With the broker frozen each try waits its read timeout, on every request that queues work.
    from celery import Task

    from keneyapp.core import tasks

    now = [1000.0]
    monkeypatch.setattr(tasks.time, "monotonic", lambda: now[0])
    tries = []
    real_apply_async = Task.apply_async

    def counted(self, *args, **kwargs):
        tries.append(self.name)
        return real_apply_async(self, *args, **kwargs)

    monkeypatch.setattr(Task, "apply_async", counted)
    with refusing_broker(monkeypatch):
        for _ in range(3):
            assert send_appointment_reminders.delay() is None
        assert tries == [REMINDERS]
        now[0] += tasks.BROKER_RETRY_SECONDS
        assert send_appointment_reminders.delay() is None
        assert tries == [REMINDERS, REMINDERS]  # tried again: it may be back
    assert caplog.text.count(f"could not queue task {REMINDERS}") == 4


def test_a_clinic_task_cannot_be_queued_without_its_clinic(monkeypatch):
    with recording_broker(monkeypatch) as published, pytest.raises(TypeError, match="clinic_id"):
        messaging_tasks.send_urgent_notification.delay(message_id=1)
    assert published == []


def test_queue_task_queues_a_registered_task_by_name(monkeypatch):
    with recording_broker(monkeypatch) as published:
        queue_task("messaging.send_urgent_notification", clinic_id=7, message_id=3)
    assert published == [("messaging.send_urgent_notification", {"clinic_id": 7, "message_id": 3})]


QUEUE_IN_A_WEB_PROCESS = """
import json, os
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "keneyapp.settings")
import django
django.setup()
from keneyapp import celery_app
from keneyapp.core.tasks import queue_task
registered_before = "messaging.send_urgent_notification" in celery_app.tasks
published = []
celery_app.conf.task_always_eager = False
celery_app.amqp.send_task_message = lambda producer, name, message, **options: published.append(name)
queue_task("messaging.send_urgent_notification", clinic_id=1, message_id=2)
print(json.dumps({"registered_before": registered_before, "published": published}))
"""


def test_queue_task_finds_a_task_no_module_of_the_process_imported_yet():
    unset = {"DATABASE_URL", "REDIS_URL", "CELERY_BROKER_URL", "CELERY_TASK_ALWAYS_EAGER"}
    env = {k: v for k, v in os.environ.items() if k not in unset}
    result = subprocess.run(
        [sys.executable, "-c", QUEUE_IN_A_WEB_PROCESS], env=env, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout.splitlines()[-1]) == {
        "registered_before": False,
        "published": ["messaging.send_urgent_notification"],
    }


@pytest.mark.django_db
def test_a_clinic_task_runs_inside_its_clinics_scope(doctor, nurse, monkeypatch):
    message = MessageFactory(tenant=doctor.tenant, sender=doctor, receiver=nurse, is_urgent=True)
    scopes = []
    monkeypatch.setattr(EmailMessage, "send", lambda *args, **kwargs: scopes.append(get_scope()))

    result = messaging_tasks.send_urgent_notification.apply(
        kwargs={"clinic_id": doctor.tenant_id, "message_id": message.pk}
    )

    assert result.get() == "sent"
    assert scopes == [{"_enabled": True, "tenant": doctor.tenant_id}]
    assert get_scope() == {}  # and left it afterwards


@pytest.mark.django_db
def test_a_clinic_task_given_another_clinics_id_finds_nothing(doctor, nurse, other_clinic, monkeypatch):
    message = MessageFactory(tenant=doctor.tenant, sender=doctor, receiver=nurse, is_urgent=True)
    monkeypatch.setattr(EmailMessage, "send", lambda *args, **kwargs: pytest.fail("emailed"))

    result = messaging_tasks.send_urgent_notification.apply(
        kwargs={"clinic_id": other_clinic.pk, "message_id": message.pk}
    )

    assert result.get() == "skipped"


# --- one way to queue, one direction of imports -------------------------------------------------
PROJECT = Path(__file__).resolve().parents[2]


def project_modules(name: str) -> list[Path]:
    skipped = {".venv", "tests", "migrations", "node_modules"}
    return [path for path in PROJECT.rglob(name) if not skipped & set(path.relative_to(PROJECT).parts)]


def imported_modules(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            names |= {node.module} | {f"{node.module}.{alias.name}" for alias in node.names}
    return names


def test_no_services_module_imports_its_tasks_module():
    # Tasks call services; a service queues a task by name (keneyapp.core.tasks.queue_task).
    pairs = [path for path in project_modules("services.py") if (path.parent / "tasks.py").exists()]
    assert len(pairs) >= 2  # documents and messaging
    offenders = []
    for services in pairs:
        package = ".".join(services.parent.relative_to(PROJECT).parts)
        if f"{package}.tasks" in imported_modules(services):
            offenders.append(str(services.relative_to(PROJECT)))
    assert offenders == []


def test_no_code_queues_a_task_in_its_own_on_commit_callback():
    # The task base defers to the commit already: a hand-written on_commit(lambda: t.delay()) is
    # a second way of doing it, which the next reader copies.
    offenders = []
    for path in project_modules("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            called = getattr(node, "func", None)
            is_on_commit = isinstance(node, ast.Call) and "on_commit" in (
                getattr(called, "attr", None),
                getattr(called, "id", None),
            )
            if is_on_commit and any(
                isinstance(inner, ast.Attribute) and inner.attr in ("delay", "apply_async")
                for argument in node.args
                for inner in ast.walk(argument)
            ):
                offenders.append(f"{path.relative_to(PROJECT)}:{node.lineno}")
    assert offenders == []
