"""A report whose queueing was lost is not pending forever: asking for it again, or the periodic
sweep, queues it again once it has been pending REPORT_STALE_AFTER_SECONDS."""

from datetime import timedelta

import pytest
from django.utils import timezone
from django_celery_beat.models import PeriodicTask
from django_scopes import scope, scopes_disabled

from documents import services
from documents.models import Document, DocumentStatus
from documents.tasks import sweep_stale_reports
from keneyapp.accounts.roles import Role
from tests.brokers import recording_broker, refusing_broker
from tests.documents.helpers import PDF
from tests.factories import PatientFactory, UserFactory

pytestmark = pytest.mark.django_db

GENERATE = "documents.generate_report"


@pytest.fixture
def patient(clinic):
    return PatientFactory(tenant=clinic)


def report_url(patient) -> str:
    return f"/api/v1/patients/{patient.pk}/report"


@pytest.fixture
def lost_report(api, doctor, patient, local_storage, monkeypatch, django_capture_on_commit_callbacks, caplog):
    """A report asked for while the broker refused connections: answered 202, left pending."""
    with refusing_broker(monkeypatch), django_capture_on_commit_callbacks(execute=True):
        response = api(doctor).post(report_url(patient))
    assert response.status_code == 202, response.content
    assert f"could not queue task {GENERATE}" in caplog.text
    document = Document.objects.get(pk=response.json()["id"])
    assert document.status == DocumentStatus.PENDING
    return document


def age(document: Document, seconds: int) -> None:
    """Pretend the report was last queued `seconds` ago."""
    with scopes_disabled():
        Document.objects.filter(pk=document.pk).update(updated_at=timezone.now() - timedelta(seconds=seconds))


def test_asking_again_for_a_stale_report_renders_it_once_the_broker_answers(
    api, doctor, patient, lost_report, settings, django_capture_on_commit_callbacks
):
    age(lost_report, settings.REPORT_STALE_AFTER_SECONDS + 1)

    with django_capture_on_commit_callbacks(execute=True):  # eager again: the task runs here
        response = api(doctor).post(report_url(patient))

    assert response.status_code == 202
    assert response.json()["id"] == lost_report.pk
    lost_report.refresh_from_db()
    assert lost_report.status == DocumentStatus.READY


def test_asking_again_for_a_fresh_pending_report_queues_nothing(
    api, doctor, patient, lost_report, settings, monkeypatch, django_capture_on_commit_callbacks
):
    age(lost_report, settings.REPORT_STALE_AFTER_SECONDS - 60)

    with recording_broker(monkeypatch) as published, django_capture_on_commit_callbacks(execute=True):
        response = api(doctor).post(report_url(patient))

    assert response.json()["id"] == lost_report.pk
    assert published == []  # probably still in the queue: no second copy


def test_the_sweep_queues_a_stale_report_once_with_its_clinic(
    lost_report, settings, monkeypatch, django_capture_on_commit_callbacks
):
    age(lost_report, settings.REPORT_STALE_AFTER_SECONDS + 1)

    with recording_broker(monkeypatch) as published, django_capture_on_commit_callbacks(execute=True):
        assert sweep_stale_reports() == 1
        assert sweep_stale_reports() == 0  # queued again just now: not stale any more

    queued = {"clinic_id": lost_report.tenant_id, "patient_id": lost_report.patient_id}
    assert published == [(GENERATE, queued)]


def test_the_sweep_while_the_broker_still_refuses_tries_again_on_a_later_run(
    lost_report, settings, monkeypatch, django_capture_on_commit_callbacks
):
    age(lost_report, settings.REPORT_STALE_AFTER_SECONDS + 1)
    with refusing_broker(monkeypatch), django_capture_on_commit_callbacks(execute=True):
        sweep_stale_reports()
    age(lost_report, settings.REPORT_STALE_AFTER_SECONDS + 1)  # a bound later, the broker is back

    with django_capture_on_commit_callbacks(execute=True):  # eager: the task runs here
        assert sweep_stale_reports() == 1

    lost_report.refresh_from_db()
    assert lost_report.status == DocumentStatus.READY


def test_the_sweep_leaves_fresh_ready_and_deleted_reports_alone(
    lost_report, settings, monkeypatch, django_capture_on_commit_callbacks
):
    age(lost_report, settings.REPORT_STALE_AFTER_SECONDS + 1)
    with scopes_disabled():
        Document.objects.filter(pk=lost_report.pk).update(is_deleted=True)

    with recording_broker(monkeypatch) as published, django_capture_on_commit_callbacks(execute=True):
        assert sweep_stale_reports() == 0
    assert published == []


def test_the_sweep_covers_every_clinic(
    api, other_clinic, lost_report, settings, monkeypatch, django_capture_on_commit_callbacks
):
    their_doctor = UserFactory(tenant=other_clinic, role=Role.DOCTOR, username="bob")
    with refusing_broker(monkeypatch), django_capture_on_commit_callbacks(execute=True):
        theirs = api(their_doctor).post(report_url(PatientFactory(tenant=other_clinic))).json()["id"]
    for document_id in (lost_report.pk, theirs):
        age(Document(pk=document_id), settings.REPORT_STALE_AFTER_SECONDS + 1)

    with recording_broker(monkeypatch) as published, django_capture_on_commit_callbacks(execute=True):
        assert sweep_stale_reports() == 2

    assert sorted(kwargs["clinic_id"] for _, kwargs in published) == sorted(
        [lost_report.tenant_id, other_clinic.pk]
    )


def test_migrate_schedules_the_sweep_on_the_low_queue():
    schedule = PeriodicTask.objects.select_related("interval").get(task="documents.sweep_stale_reports")
    assert schedule.enabled and schedule.queue == "low"
    assert schedule.interval.schedule.run_every.total_seconds() <= 15 * 60


def test_two_deliveries_rendering_at_once_store_one_report(doctor, patient, stored, tmp_path):
    pdf = tmp_path / "report.pdf"
    pdf.write_bytes(PDF)
    with scope(tenant=patient.tenant_id):  # as generate_report runs
        pending, _ = services.report_request(tenant=patient.tenant, requested_by=doctor, patient=patient)
        # Both deliveries found the report pending before either stored it (a re-queued copy of
        # a delivery that outlived the bound).
        first_copy, second_copy = Document.objects.get(pk=pending.pk), Document.objects.get(pk=pending.pk)

        services.report_store(document=first_copy, pdf_path=str(pdf))
        services.report_store(document=second_copy, pdf_path=str(pdf))
        services.report_reject(document=second_copy)  # a failing third delivery rejects nothing either

        document = Document.objects.get(pk=pending.pk)
        assert document.status == DocumentStatus.READY
        assert document.versions.count() == 1
    assert stored.keys() == [document.storage_key]
    assert stored.read(document.storage_key) == PDF
