"""The websocket, task and command doors record the patient data they carry or read."""

from datetime import timedelta

import pytest
from django.core import mail
from django.core.management import call_command
from django.utils import timezone

from keneyapp.core import audit
from tests.audit.helpers import trail
from tests.factories import AppointmentFactory, PatientFactory
from tests.messaging.test_consumer import committed, run
from tests.messaging.websocket_helpers import assert_nothing_received, flatten, frames_until, open_socket

pytestmark = pytest.mark.django_db


def book(api, doctor, patient):
    body = {"patient_id": patient.pk, "provider_id": doctor.pk, "appointment_date": "2030-01-07T10:00:00"}
    return committed(api(doctor).post)("/api/v1/appointments", body, format="json")


def test_a_websocket_event_naming_a_patient_is_recorded_for_the_socket_that_got_it(api, doctor, receptionist):
    patient = PatientFactory(tenant=doctor.tenant)

    async def scenario():
        socket = await open_socket(receptionist)
        appointment_id = (await book(api, doctor, patient)).json()["id"]
        [event] = flatten(await frames_until(socket, lambda e: len(e) >= 1))
        assert event["type"] == "appointment.created"
        await socket.disconnect()
        return appointment_id

    appointment_id = run(scenario)
    [delivered] = trail(door="websocket")
    assert (delivered.user_id, delivered.role, delivered.action, delivered.model) == (
        receptionist.pk, "receptionist", "view", "appointments.appointment",
    )  # fmt: skip
    assert (delivered.object_id, delivered.patient_id, delivered.tenant_id) == (
        appointment_id, patient.pk, receptionist.tenant_id,
    )  # fmt: skip


def test_a_websocket_event_whose_record_cannot_be_stored_is_not_sent(api, doctor, receptionist, monkeypatch):
    patient = PatientFactory(tenant=doctor.tenant)
    real_flush = audit.AuditTrail.flush

    def failing_for_sockets(self):
        if self.door == "websocket":
            raise audit.AuditUnavailable
        return real_flush(self)

    monkeypatch.setattr(audit.AuditTrail, "flush", failing_for_sockets)

    async def scenario():
        socket = await open_socket(receptionist)
        assert (await book(api, doctor, patient)).status_code == 201
        await assert_nothing_received(socket, 0.3)
        await socket.disconnect()

    run(scenario)
    assert trail(door="websocket") == []


def test_events_without_a_patient_record_nothing(api, doctor, nurse):
    async def scenario():
        socket = await open_socket(nurse)
        await committed(api(doctor).post)(
            "/api/v1/messages", {"receiver_id": nurse.pk, "body": "x"}, format="json"
        )
        await frames_until(socket, lambda e: len(e) >= 2)  # message.created (no patient), unread.count
        await socket.disconnect()

    run(scenario)
    assert trail(door="websocket") == []


def test_the_report_task_records_the_patient_it_rendered(api, doctor, local_storage, monkeypatch):
    from documents.tasks import generate_report
    from keneyapp.celery import app as celery_app

    monkeypatch.setitem(celery_app.conf, "task_always_eager", False)  # queued, not run: run it below
    patient = PatientFactory(tenant=doctor.tenant)
    assert api(doctor).post(f"/api/v1/patients/{patient.pk}/report").status_code == 202
    generate_report.apply(kwargs={"clinic_id": doctor.tenant_id, "patient_id": patient.pk})
    [rendered] = trail(door="task")
    assert (rendered.action, rendered.model, rendered.patient_id, rendered.route, rendered.tenant_id) == (
        "report", "patients.patient", patient.pk, "documents.generate_report", doctor.tenant_id,
    )  # fmt: skip
    assert rendered.user_id is None  # a task acts for nobody in particular


def test_reminders_record_each_export_before_the_email_leaves(clinic, settings):
    from appointments.reminders import send_due_reminders

    settings.REMINDER_WINDOW_HOURS = 24
    appointment = AppointmentFactory(tenant=clinic, appointment_date=timezone.now() + timedelta(hours=3))
    run_result = send_due_reminders()
    assert run_result.sent == 1 and len(mail.outbox) == 1
    [export] = trail(door="task")
    assert (export.action, export.object_id, export.patient_id, export.tenant_id) == (
        "export", appointment.pk, appointment.patient_id, clinic.pk,
    )  # fmt: skip


def test_reminders_are_not_sent_when_their_export_cannot_be_recorded(clinic, settings, monkeypatch):
    from appointments.reminders import send_due_reminders

    def refuse(self):
        raise audit.AuditUnavailable

    monkeypatch.setattr(audit.AuditTrail, "flush", refuse)
    AppointmentFactory(tenant=clinic, appointment_date=timezone.now() + timedelta(hours=3))
    with pytest.raises(audit.AuditUnavailable):
        send_due_reminders()
    assert mail.outbox == []


def test_the_retention_command_records_its_run():
    call_command("audit_retention", "--days", "30")
    [run_event] = trail(door="command")
    assert (run_event.action, run_event.route, run_event.params) == ("purge", "audit_retention", ["days"])
