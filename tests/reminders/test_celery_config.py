"""Celery as the guide describes it: eager without a broker, late acknowledgement, no results kept,
three queues served high, default, low; the reminder task on the default queue at priority 5."""

import json
import os
import subprocess
import sys
from datetime import timedelta

import pytest
from django.conf import settings as django_settings
from django.utils import timezone

from appointments.models import Appointment
from appointments.tasks import send_appointment_reminders
from keneyapp import celery_app
from keneyapp.core.scoping import scopes_disabled

from .conftest import recipients

TASK_NAME = "appointments.send_appointment_reminders"
BROKER_IS_REDIS = (django_settings.CELERY_BROKER_URL or "").startswith("redis")

PRINT_CELERY = """
import json, os
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "keneyapp.settings")
import django
django.setup()
from keneyapp import celery_app
conf = celery_app.conf
print(json.dumps({"eager": conf.task_always_eager, "broker": conf.broker_url or "",
                  "propagates": conf.task_eager_propagates}))
"""


def celery_conf_with(**env) -> dict:
    """The Celery app's configuration in a fresh interpreter with only the given environment."""
    unset = {"DATABASE_URL", "REDIS_URL", "CELERY_BROKER_URL", "CELERY_TASK_ALWAYS_EAGER"}
    clean = {k: v for k, v in os.environ.items() if k not in unset}
    result = subprocess.run(
        [sys.executable, "-c", PRINT_CELERY],
        env={**clean, **env},
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


# --- the task ---


def test_reminder_task_is_registered_under_its_beat_name():
    assert send_appointment_reminders.name == TASK_NAME
    assert celery_app.tasks[TASK_NAME].run is send_appointment_reminders.run


def test_reminder_task_is_routed_to_the_default_queue_by_the_routes_table():
    route = celery_app.amqp.router.route({}, TASK_NAME)
    assert route["queue"].name == "default"
    assert route["queue"].routing_key == "default"


def test_reminder_task_is_late_acknowledged_and_keeps_no_result():
    assert send_appointment_reminders.acks_late is True
    assert send_appointment_reminders.reject_on_worker_lost is True
    assert send_appointment_reminders.ignore_result is True


def test_queued_reminder_task_is_published_once_to_the_default_queue(monkeypatch):
    published = []
    monkeypatch.setitem(celery_app.conf, "task_always_eager", False)

    def record(producer, name, message, **options):
        published.append(options)

    monkeypatch.setattr(celery_app.amqp, "send_task_message", record)

    send_appointment_reminders.delay()

    assert len(published) == 1
    assert published[0]["queue"].name == "default"


# --- settings ---


def test_late_acknowledgement_and_ignored_results_are_configured(settings):
    assert settings.CELERY_TASK_ACKS_LATE is True
    assert settings.CELERY_TASK_REJECT_ON_WORKER_LOST is True
    assert settings.CELERY_TASK_IGNORE_RESULT is True
    assert settings.CELERY_RESULT_BACKEND is None
    # The Celery app reads them (the CELERY_ namespace is wired up).
    assert celery_app.conf.task_acks_late is True
    assert celery_app.conf.task_reject_on_worker_lost is True
    assert celery_app.conf.task_ignore_result is True
    assert celery_app.conf.worker_prefetch_multiplier == 1


def test_queues_are_served_high_then_default_then_low(settings):
    assert settings.CELERY_BROKER_TRANSPORT_OPTIONS["queue_order_strategy"] == "priority"
    assert celery_app.conf.broker_transport_options["queue_order_strategy"] == "priority"
    assert settings.CELERY_TASK_DEFAULT_QUEUE == "default"
    # A worker started without -Q consumes every declared queue, in this order.
    assert list(celery_app.amqp.queues) == ["high", "default", "low"]
    # Each queue has its own routing key: a message for one queue is never copied to another.
    assert [q.routing_key for q in celery_app.amqp.queues.values()] == ["high", "default", "low"]


def test_visibility_timeout_outlasts_a_task_so_late_acks_do_not_redeliver_early(settings):
    assert settings.CELERY_BROKER_TRANSPORT_OPTIONS["visibility_timeout"] >= 3600


def test_visibility_timeout_outlasts_every_retry_countdown_and_claims_outlast_a_send(settings):
    # A task waiting for its countdown is unacknowledged: past the visibility timeout it would be
    # delivered a second time. The urgent email retries after a live claim (its lease + 1 s) or a
    # failed send (default_retry_delay).
    from messaging.tasks import send_urgent_notification

    longest = max(settings.URGENT_NOTIFY_CLAIM_SECONDS + 1, send_urgent_notification.default_retry_delay)
    assert 10 * longest < settings.CELERY_VISIBILITY_TIMEOUT_SECONDS
    # A claim taken over while its send is still running would be a second email.
    assert (
        min(settings.URGENT_NOTIFY_CLAIM_SECONDS, settings.REMINDER_CLAIM_SECONDS)
        > 5 * settings.EMAIL_TIMEOUT
    )


def test_no_broker_means_eager_tasks():
    embedded = celery_conf_with()
    assert embedded["eager"] is True
    assert embedded["propagates"] is True


def test_a_broker_means_queued_tasks():
    with_redis = celery_conf_with(REDIS_URL="redis://127.0.0.1:6379/9")
    assert with_redis["eager"] is False
    assert with_redis["broker"] == "redis://127.0.0.1:6379/9"

    with_broker = celery_conf_with(CELERY_BROKER_URL="redis://broker.example:6379/0")
    assert with_broker["eager"] is False
    assert with_broker["broker"] == "redis://broker.example:6379/0"


@pytest.mark.django_db
def test_task_runs_eagerly_on_the_embedded_defaults_and_sends(
    monkeypatch, settings, clinic, book, mailoutbox, django_capture_on_commit_callbacks
):
    if not settings.CELERY_BROKER_URL:
        # Nothing to force: this run is on the embedded defaults.
        assert celery_app.conf.task_always_eager is True
    monkeypatch.setitem(celery_app.conf, "task_always_eager", True)
    due = book(clinic, timezone.now() + timedelta(hours=2))
    later = book(clinic, timezone.now() + timedelta(hours=30))

    with django_capture_on_commit_callbacks(execute=True):  # queued when the test's transaction commits
        send_appointment_reminders.delay()

    assert recipients(mailoutbox) == [due.patient.email]
    due.refresh_from_db()
    assert due.reminder_sent_at is not None
    with scopes_disabled():
        assert Appointment.objects.get(pk=later.pk).reminder_sent_at is None


# --- against the real broker (REDIS_URL set) ---


@pytest.fixture
def redis_queues():
    """The real broker with the three queues empty before and after."""
    celery_app.control.purge()
    yield
    celery_app.control.purge()


def drain(expected: int) -> list[str]:
    """Take `expected` messages off the broker as a worker would; return their task names in the
    order they were served."""
    served = []

    def on_message(body, message):
        served.append(message.headers["task"])
        message.ack()

    with celery_app.connection_for_read() as connection:
        queues = list(celery_app.amqp.queues.values())
        with connection.Consumer(queues, callbacks=[on_message], accept=["json"]):
            while len(served) < expected:
                connection.drain_events(timeout=5)
    return served


@pytest.mark.skipif(not BROKER_IS_REDIS, reason="needs the Redis broker (REDIS_URL)")
def test_queued_reminder_task_lands_once_in_the_default_queue(redis_queues, monkeypatch):
    monkeypatch.setitem(celery_app.conf, "task_always_eager", False)

    send_appointment_reminders.delay()

    with celery_app.connection_for_read() as connection:
        channel = connection.default_channel
        sizes = {name: channel.client.llen(name) for name in ("high", "low")}
        sizes["default"] = sum(channel.client.llen(channel._q_for_pri("default", p)) for p in (0, 3, 6, 9))
    assert sizes == {"high": 0, "default": 1, "low": 0}
    assert drain(1) == [TASK_NAME]


@pytest.mark.skipif(not BROKER_IS_REDIS, reason="needs the Redis broker (REDIS_URL)")
def test_the_broker_serves_high_before_default_before_low(redis_queues):
    for queue in ("low", "default", "high", "low", "default", "high"):
        celery_app.send_task(f"probe.{queue}", queue=queue)

    served = drain(6)

    assert served[:2] == ["probe.high", "probe.high"]
    assert served[2:4] == ["probe.default", "probe.default"]
    assert served[4:] == ["probe.low", "probe.low"]
