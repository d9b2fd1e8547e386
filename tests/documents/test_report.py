from datetime import timedelta

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from documents import services
from documents.models import Document, DocumentCategory, DocumentStatus
from keneyapp.core.scoping import scopes_disabled
from tests.documents.helpers import PDF, upload
from tests.factories import AppointmentFactory, PatientFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def patient(clinic):
    return PatientFactory(tenant=clinic, first_name="Aïssatou", last_name="Ndiaye", allergies="Penicillin")


def report_url(patient) -> str:
    return f"/api/v1/patients/{patient.pk}/report"


def test_report_is_queued_then_rendered_as_a_ready_pdf(
    api, doctor, patient, stored, django_capture_on_commit_callbacks
):
    AppointmentFactory(
        tenant=patient.tenant, patient=patient, appointment_date=timezone.now() + timedelta(days=2)
    )
    AppointmentFactory(
        tenant=patient.tenant, patient=patient, appointment_date=timezone.now() - timedelta(days=5)
    )
    upload(api(doctor), patient, PDF, title="Blood count")
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = api(doctor).post(report_url(patient))
    assert response.status_code == 202, response.content
    body = response.json()
    assert body["status"] == "pending" and body["category"] == "report"
    assert response["Location"] == f"/api/v1/documents/{body['id']}"
    assert len(callbacks) >= 1  # generate_report(patient_id) queued after commit (eager here)
    with scopes_disabled():
        document = Document.objects.get(pk=body["id"])
    assert document.status == DocumentStatus.READY
    assert document.content_type == "application/pdf" and document.size > 500
    content = stored.read(document.storage_key)
    assert content.startswith(b"%PDF-") and len(content) == document.size
    with scopes_disabled():
        assert document.versions.count() == 1
    listed = api(doctor).get("/api/v1/documents", {"category": "report"}).json()
    assert [item["id"] for item in listed["items"]] == [document.pk]


def test_asking_twice_while_pending_returns_the_pending_one(api, doctor, nurse, patient, local_storage):
    first = api(doctor).post(report_url(patient))  # on_commit never runs in this test: stays pending
    second = api(nurse).post(report_url(patient))
    assert first.status_code == second.status_code == 202
    assert first.json()["id"] == second.json()["id"]
    with scopes_disabled():
        assert Document.objects.filter(category=DocumentCategory.REPORT).count() == 1


def test_the_database_allows_one_pending_report_per_patient(doctor, patient, local_storage):
    with scopes_disabled():
        services.report_request(tenant=patient.tenant, requested_by=doctor, patient=patient)
    with pytest.raises(IntegrityError), transaction.atomic():
        Document.objects.create(
            tenant=patient.tenant,
            patient=patient,
            category=DocumentCategory.REPORT,
            title="again",
            storage_key="documents/x/concurrent",
            status=DocumentStatus.PENDING,
        )


def test_a_concurrent_request_that_loses_the_race_returns_the_winners_report(
    doctor, patient, local_storage, monkeypatch
):
    with scopes_disabled():
        winner, created = services.report_request(tenant=patient.tenant, requested_by=doctor, patient=patient)
    assert created
    # The loser looked before the winner's row existed, then hits the constraint on insert.
    real = services.selectors.pending_report
    calls = []

    def late_lookup(**kwargs):
        calls.append(kwargs)
        with scopes_disabled():
            return None if len(calls) == 1 else real(**kwargs)

    monkeypatch.setattr(services.selectors, "pending_report", late_lookup)
    loser, created = services.report_request(tenant=patient.tenant, requested_by=doctor, patient=patient)
    assert not created and loser.pk == winner.pk


def test_a_ready_report_does_not_block_a_new_one(
    api, doctor, patient, local_storage, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        first = api(doctor).post(report_url(patient)).json()["id"]
    with django_capture_on_commit_callbacks(execute=True):
        second = api(doctor).post(report_url(patient)).json()["id"]
    assert first != second
    with scopes_disabled():
        assert set(Document.objects.values_list("status", flat=True)) == {"ready"}


def test_a_report_that_cannot_be_rendered_is_rejected(
    api, doctor, patient, local_storage, django_capture_on_commit_callbacks, monkeypatch
):
    from documents import reports

    def broken(patient, path):
        raise RuntimeError("font missing")

    monkeypatch.setattr(reports, "render_patient_summary", broken)
    with django_capture_on_commit_callbacks(execute=True):
        document_id = api(doctor).post(report_url(patient)).json()["id"]
    with scopes_disabled():
        assert Document.objects.get(pk=document_id).status == DocumentStatus.REJECTED
    assert local_storage.keys() == []


def test_report_of_another_clinics_patient_is_404(api, doctor, other_clinic, local_storage):
    theirs = PatientFactory(tenant=other_clinic)
    assert api(doctor).post(report_url(theirs)).status_code == 404
    with scopes_disabled():
        assert Document.objects.count() == 0


def test_report_handles_names_outside_latin_1(
    doctor, clinic, local_storage, django_capture_on_commit_callbacks
):
    patient = PatientFactory(tenant=clinic, first_name="Łukasz", last_name="Kowalczyk 李", allergies="Ⓐ")
    with django_capture_on_commit_callbacks(execute=True), scopes_disabled():
        document, _ = services.report_request(tenant=clinic, requested_by=doctor, patient=patient)
    document.refresh_from_db()
    assert document.status == DocumentStatus.READY
