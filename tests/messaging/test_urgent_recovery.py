"""The urgent notification's email is owed until it is sent: its claim is a lease, a delivery that
finds a live claim comes back later instead of skipping, and the sweep queues again every email
still owed (its queueing lost to a broker outage, or its worker killed mid-send). In-process; the
same with a real worker, a killed one and a stopped broker: tests/faults/."""

from datetime import timedelta

import pytest
from celery.exceptions import Retry
from django.core import mail
from django.utils import timezone
from django_celery_beat.models import PeriodicTask
from django_scopes import scope

from keneyapp.core.scoping import scopes_disabled
from messaging import tasks
from messaging.models import Message, MessageStatus
from tests.brokers import recording_broker, refusing_broker
from tests.factories import MessageFactory

from .conftest import send

pytestmark = pytest.mark.django_db

NOTIFY = "messaging.send_urgent_notification"


def urgent_args(message) -> dict:
    return {"clinic_id": message.tenant_id, "message_id": message.pk}


@pytest.fixture
def urgent(doctor, nurse):
    return MessageFactory(tenant=doctor.tenant, sender=doctor, receiver=nurse, is_urgent=True)


def set_fields(message, **values) -> None:
    with scopes_disabled():
        Message.objects.filter(pk=message.pk).update(**values)


def ago(seconds: float):
    return timezone.now() - timedelta(seconds=seconds)


def test_a_sent_notification_records_when_and_is_never_sent_again(urgent, settings):
    assert tasks.send_urgent_notification.apply(kwargs=urgent_args(urgent)).get() == "sent"
    urgent.refresh_from_db()
    assert urgent.urgent_claimed_at is not None and urgent.urgent_notified_at is not None

    # Even once its claim has long expired (a sweep's late copy): sent is final.
    set_fields(urgent, urgent_claimed_at=ago(settings.URGENT_NOTIFY_CLAIM_SECONDS + 60))
    assert tasks.send_urgent_notification.apply(kwargs=urgent_args(urgent)).get() == "skipped"
    assert len(mail.outbox) == 1


def test_a_delivery_finding_a_live_claim_retries_later_instead_of_skipping(
    urgent, monkeypatch, settings, django_capture_on_commit_callbacks
):
    # The claim of a worker killed mid-send (or sending right now): not ours to skip, nor to take.
    set_fields(urgent, urgent_claimed_at=ago(1))
    task = tasks.send_urgent_notification
    task.push_request(  # a worker's delivery of the task (not called directly, not eager)
        called_directly=False, is_eager=False, retries=0, id="redelivered", delivery_info={},
        args=[], kwargs=urgent_args(urgent),
    )  # fmt: skip
    try:
        with (
            recording_broker(monkeypatch) as published,
            django_capture_on_commit_callbacks(execute=True),
            pytest.raises(Retry) as retry,
            scope(tenant=urgent.tenant_id),
        ):
            task.run(**urgent_args(urgent))  # as a worker runs a delivery (task() would push its own request)
    finally:
        task.pop_request()

    assert published == [(NOTIFY, urgent_args(urgent))]  # queued again, for when the lease ends
    # Comes back once the lease has expired: a countdown of what is left of it, plus a second.
    countdown = retry.value.when
    assert settings.URGENT_NOTIFY_CLAIM_SECONDS - 30 < countdown <= settings.URGENT_NOTIFY_CLAIM_SECONDS + 1
    assert mail.outbox == []


def test_an_expired_claim_is_taken_over_and_sent_once(urgent, settings):
    set_fields(urgent, urgent_claimed_at=ago(settings.URGENT_NOTIFY_CLAIM_SECONDS + 1))

    assert tasks.send_urgent_notification.apply(kwargs=urgent_args(urgent)).get() == "sent"
    assert tasks.send_urgent_notification.apply(kwargs=urgent_args(urgent)).get() == "skipped"
    assert len(mail.outbox) == 1


def test_a_receiver_without_an_address_settles_the_notification(urgent, nurse):
    nurse.email = ""
    nurse.save(update_fields=["email"])

    assert tasks.send_urgent_notification.apply(kwargs=urgent_args(urgent)).get() == "no_email"
    urgent.refresh_from_db()
    assert urgent.urgent_notified_at is not None  # so the sweep stops asking


def test_the_sweep_queues_exactly_the_emails_still_owed(
    doctor, nurse, settings, monkeypatch, django_capture_on_commit_callbacks
):
    def message(written_seconds_ago: float, **fields):
        made = MessageFactory(tenant=doctor.tenant, sender=doctor, receiver=nurse, is_urgent=True)
        set_fields(made, created_at=ago(written_seconds_ago), **fields)
        return made

    delay, max_age = settings.URGENT_NOTIFY_SWEEP_DELAY_SECONDS, settings.URGENT_NOTIFY_MAX_AGE_SECONDS
    lease = settings.URGENT_NOTIFY_CLAIM_SECONDS
    lost = message(delay + 30)  # its queueing was lost
    dead_worker = message(lease + 30, urgent_claimed_at=ago(lease + 1))  # claimed by a killed worker
    owed = {lost.pk, dead_worker.pk}
    message(delay - 30)  # probably still in the queue
    message(max_age + 60)  # a day old: noise now
    message(delay + 30, status=MessageStatus.READ, read_at=timezone.now())
    message(delay + 30, urgent_notified_at=ago(10))
    message(delay + 30, urgent_claimed_at=ago(5))  # being sent right now
    not_urgent = MessageFactory(tenant=doctor.tenant, sender=doctor, receiver=nurse, is_urgent=False)
    set_fields(not_urgent, created_at=ago(delay + 30))

    with recording_broker(monkeypatch) as published, django_capture_on_commit_callbacks(execute=True):
        assert tasks.sweep_urgent_notifications.apply().get() == 2

    assert sorted(published, key=lambda item: item[1]["message_id"]) == [
        (NOTIFY, {"clinic_id": doctor.tenant_id, "message_id": pk}) for pk in sorted(owed)
    ]


def test_an_urgent_message_written_while_the_broker_was_down_is_emailed_once_by_the_sweep(
    api, doctor, nurse, settings, monkeypatch, django_capture_on_commit_callbacks
):
    from keneyapp.celery import app as celery_app

    with refusing_broker(monkeypatch), django_capture_on_commit_callbacks(execute=True):
        response = send(api(doctor), nurse, "Come now", is_urgent=True)
    assert response.status_code == 201
    assert mail.outbox == []
    message_id = response.json()["id"]
    with scopes_disabled():
        Message.objects.filter(pk=message_id).update(
            created_at=ago(settings.URGENT_NOTIFY_SWEEP_DELAY_SECONDS + 1)
        )

    monkeypatch.setitem(celery_app.conf, "task_always_eager", True)  # the broker is back: run them here
    for owed in (1, 0):  # then sent: owed no more
        with django_capture_on_commit_callbacks(execute=True):
            assert tasks.sweep_urgent_notifications.apply().get() == owed

    assert [email.to for email in mail.outbox] == [[nurse.email]]


def test_migrate_schedules_the_sweep_every_minute_on_the_high_queue(settings):
    schedule = PeriodicTask.objects.select_related("interval").get(
        task="messaging.sweep_urgent_notifications"
    )
    assert schedule.enabled
    assert schedule.interval.schedule.run_every == timedelta(minutes=1)
    assert schedule.queue == "high"
    assert settings.CELERY_TASK_ROUTES["messaging.sweep_urgent_notifications"] == {"queue": "high"}
