"""The broker down when a request queues work: the request succeeds and the work still happens,
once, when the broker is back.

A real worker and a real beat run on a private Redis broker that the test stops: an urgent message
and a report requested meanwhile are answered (201, 202) at once, their queueing only logged. Beat
keeps ticking through the outage (its publishes fail and are logged) and the worker keeps trying
to reconnect; when Redis is back, beat's sweeps queue both again and the worker sends one email
and stores one report. The sweeps run every second here instead of every minute and every five.
"""

from __future__ import annotations

import time

import pytest
from django_celery_beat.models import IntervalSchedule, PeriodicTask

from documents.models import Document, DocumentStatus, DocumentVersion
from keneyapp.core.scoping import scopes_disabled
from messaging.models import Message
from tests.factories import PatientFactory
from tests.faults.email_backend import sent_to
from tests.messaging.conftest import send

from .conftest import eventually

pytestmark = pytest.mark.django_db(transaction=True)

SWEEPS = {"messaging.sweep_urgent_notifications": "high", "documents.sweep_stale_reports": "low"}


@pytest.fixture
def sweeps_every_second():
    # Only the two sweeps, every second (migrations created them every minute and every 5 minutes;
    # an earlier test's flush may have removed those rows, so they are made here).
    PeriodicTask.objects.all().delete()
    every_second, _ = IntervalSchedule.objects.get_or_create(every=1, period=IntervalSchedule.SECONDS)
    for task, queue in SWEEPS.items():
        PeriodicTask.objects.create(name=task, task=task, interval=every_second, queue=queue)


def test_an_urgent_message_and_a_report_asked_for_while_the_broker_is_down_happen_once_it_is_back(
    api, doctor, nurse, clinic, faults, broker, publishing, celery, sweeps_every_second, caplog
):
    patient = PatientFactory(tenant=clinic)
    worker = celery("worker")
    beat = celery("beat", kind="beat")
    # Connected and publishing (as beat is when an outage begins in production), nothing owed yet.
    eventually(lambda: "Sending due task" in beat.log(), timeout=30, what="beat's first tick", log=beat.log)

    broker.stop()
    started = time.monotonic()
    message = send(api(doctor), nurse, "Come now", is_urgent=True)
    report = api(doctor).post(f"/api/v1/patients/{patient.pk}/report")
    answered_in = time.monotonic() - started

    assert message.status_code == 201, message.content
    assert report.status_code == 202, report.content
    assert answered_in < 20  # both at once in fact (a refused connection); never the OS's timeouts
    assert "could not queue task messaging.send_urgent_notification" in caplog.text
    assert "could not queue task documents.generate_report" in caplog.text
    time.sleep(3)  # beat ticks through the outage, failing to publish; nothing has happened
    assert beat.process.poll() is None and worker.process.poll() is None
    assert sent_to(faults, nurse.email) == 0

    broker.start()  # the same port, empty: what was queued before the outage is gone too

    def done():
        with scopes_disabled():
            notified = Message.objects.filter(
                pk=message.json()["id"], urgent_notified_at__isnull=False
            ).exists()
            ready = Document.objects.filter(pk=report.json()["id"], status=DocumentStatus.READY).exists()
        return notified and ready

    eventually(done, timeout=60, what="the email and the report once the broker is back", log=worker.log)
    beat.stop()
    worker.stop()  # after any copy a sweep queued twice has run
    assert sent_to(faults, nurse.email) == 1
    with scopes_disabled():
        assert DocumentVersion.objects.filter(document_id=report.json()["id"]).count() == 1
    assert "could not queue task" in beat.log()  # beat published, and failed, during the outage
