"""A Celery worker killed in the middle of a task: the task runs again and its effect happens once.

Each test runs a real `celery -A keneyapp worker` (prefork, one child) on a private Redis broker
and the test database, makes it wait inside the task at a fault point before the effect (inside
the email send; after the PDF is rendered, before it is stored), kills it there with SIGKILL, and
asserts the effect exactly once: one email file per urgent message or reminder, one ready report.

- The pool child killed: the main process sees WorkerLostError and, with late acks and
  reject_on_worker_lost, puts the task back in its queue at once.
- The whole worker killed: nothing acknowledges or requeues; the message waits in Redis' unacked
  set until the visibility timeout (CELERY_VISIBILITY_TIMEOUT_SECONDS, 6 s here), then the next
  worker restores and runs it.
"""

from __future__ import annotations

import time
from collections import Counter
from datetime import timedelta

import pytest
from django.utils import timezone

from appointments.models import Appointment
from appointments.tasks import send_appointment_reminders
from documents.models import Document, DocumentStatus, DocumentVersion
from keneyapp.core.scoping import scopes_disabled
from messaging.models import Message
from tests.factories import AppointmentFactory, PatientFactory
from tests.faults.email_backend import sent_to
from tests.messaging.conftest import send

from .conftest import CLAIM_SECONDS, VISIBILITY_TIMEOUT, eventually, hold, kill_child, release, wait_held

pytestmark = pytest.mark.django_db(transaction=True)


def test_an_urgent_email_whose_worker_child_is_killed_inside_the_send_is_sent_once(
    api, doctor, nurse, faults, publishing, celery
):
    worker = celery("worker")
    point = f"email.{nurse.email}"
    hold(faults, point)

    response = send(api(doctor), nurse, "Come now", is_urgent=True)
    assert response.status_code == 201
    kill_child(wait_held(faults, point, worker))
    release(faults, point)

    # Redelivered at once to the new child, which meets the dead child's live claim: it retries
    # when the claim expires (CLAIM_SECONDS), then sends.
    def notified():
        with scopes_disabled():
            return Message.objects.filter(pk=response.json()["id"], urgent_notified_at__isnull=False).exists()

    eventually(notified, timeout=40, what="the urgent email after the kill", log=worker.log)
    assert sent_to(faults, nurse.email) == 1
    assert "WorkerLostError" in worker.log()  # it was the redelivery that sent it
    # Any other copy still around (a retry, a late delivery) finds it sent.
    worker.stop()
    assert sent_to(faults, nurse.email) == 1


def test_reminders_whose_worker_child_is_killed_mid_chunk_are_each_sent_once(
    clinic, faults, publishing, celery
):
    worker = celery("worker")
    soon = timezone.now() + timedelta(hours=1)
    first, second, third = (
        AppointmentFactory(
            tenant=clinic, patient=PatientFactory(tenant=clinic), appointment_date=soon + timedelta(minutes=n)
        )
        for n in range(3)
    )
    point = f"email.{second.patient.email}"
    hold(faults, point)

    send_appointment_reminders.delay()
    kill_child(wait_held(faults, point, worker))  # the first reminder is out, the second in flight
    release(faults, point)

    # The redelivered run sends the third (not the second: the dead child's claim is live); once
    # that claim expires a later run (beat's next, here queued by the test) sends the second.
    def all_reminded():
        with scopes_disabled():
            if Appointment.objects.filter(reminder_sent_at__isnull=True).exists():
                send_appointment_reminders.delay()
                return False
        return True

    eventually(all_reminded, timeout=40 + CLAIM_SECONDS, what="every reminder after the kill", log=worker.log)
    worker.stop()
    counts = Counter({a.patient.email: sent_to(faults, a.patient.email) for a in (first, second, third)})
    assert counts == Counter({first.patient.email: 1, second.patient.email: 1, third.patient.email: 1})


@pytest.mark.parametrize("kill", ["pool child", "whole worker"])
def test_a_report_whose_worker_is_killed_mid_render_is_rendered_again_and_stored_once(
    api, doctor, clinic, faults, publishing, celery, tmp_path, kill
):
    patient = PatientFactory(tenant=clinic)
    worker = celery("worker")
    hold(faults, "report")

    response = api(doctor).post(f"/api/v1/patients/{patient.pk}/report")
    assert response.status_code == 202, response.content
    child = wait_held(faults, "report", worker)  # rendered, not stored
    delivered = time.monotonic()
    if kill == "pool child":
        kill_child(child)
        release(faults, "report")
    else:
        worker.kill()
        release(faults, "report")
        # Nothing requeued it: a worker restores it once it has been unacknowledged longer than
        # the visibility timeout, when it starts (as here: a supervisor restarting it) or at its
        # periodic scan (every ~100 s, kombu's default).
        time.sleep(max(0.0, delivered + VISIBILITY_TIMEOUT + 1 - time.monotonic()))
        worker = celery("worker-2")

    def ready():
        with scopes_disabled():
            return Document.objects.filter(pk=response.json()["id"], status=DocumentStatus.READY).exists()

    eventually(ready, timeout=30 + VISIBILITY_TIMEOUT, what="the report after the kill", log=worker.log)
    worker.stop()
    with scopes_disabled():
        assert Document.objects.filter(patient=patient).count() == 1
        assert DocumentVersion.objects.filter(document_id=response.json()["id"]).count() == 1
    stored = [path for path in (tmp_path / "worker-documents").rglob("*") if path.is_file()]
    assert len(stored) == 1, stored  # one PDF: the killed rendering stored nothing
