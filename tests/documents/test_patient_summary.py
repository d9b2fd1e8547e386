"""The admin's patient summary (documents/admin_summary.py)."""

from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from documents.models import Document, DocumentCategory, DocumentStatus
from keneyapp.core.models import AuditEvent
from keneyapp.core.scoping import scopes_disabled
from tests.documents.helpers import ELF, PDF, make_document
from tests.factories import AppointmentFactory, PatientFactory

pytestmark = pytest.mark.django_db


def summary_url(patient) -> str:
    return f"/admin/patients/patient/{patient.pk}/summary/"


@pytest.fixture
def patient(clinic):
    return PatientFactory(
        tenant=clinic,
        first_name="Awa",
        last_name="Ndiaye",
        mrn="A0000042",
        allergies="Penicillin",
        notes="Suspected asthma, follow up",
        date_of_birth=timezone.localdate() - timedelta(days=365 * 30 + 10),
    )


def test_the_summary_shows_the_patient_their_appointments_and_documents(
    browser, doctor, patient, local_storage
):
    soon = timezone.now() + timedelta(days=2)
    AppointmentFactory(tenant=patient.tenant, patient=patient, provider=doctor, appointment_date=soon,
                       reason="Asthma review")  # fmt: skip
    AppointmentFactory(tenant=patient.tenant, patient=patient, appointment_date=soon - timedelta(days=30),
                       reason="First visit")  # fmt: skip
    make_document(patient.tenant, patient=patient, title="Chest X-ray")
    page = browser(doctor).get(summary_url(patient))
    assert page.status_code == 200
    text = page.content.decode()
    assert "Awa Ndiaye" in text and "A0000042" in text and "30 years old" in text
    assert 'class="kn-allergies"' in text and "Penicillin" in text
    assert "Asthma review" in text and "First visit" in text
    assert "Chest X-ray" in text and "v1 &middot;" in text  # its versions
    assert f"/admin/patients/patient/{patient.pk}/change/" in text  # edit, one click away
    assert f"/admin/appointments/appointment/add/?patient={patient.pk}" in text
    assert "Suspected asthma" in text  # a doctor reads the clinical notes


def test_clinical_notes_are_hidden_from_a_receptionist(browser, receptionist, patient):
    page = browser(receptionist).get(summary_url(patient))
    assert page.status_code == 200
    assert "Suspected asthma" not in page.content.decode()
    assert "Penicillin" in page.content.decode()  # allergies are for everyone at the desk


def test_another_clinics_patient_is_a_404_recorded_as_an_attempt(browser, outsider, patient):
    assert browser(outsider).get(summary_url(patient)).status_code == 404
    assert browser(outsider).get("/admin/patients/patient/99999999/summary/").status_code == 404
    with scopes_disabled():
        events = list(AuditEvent.objects.filter(user_id=outsider.pk))
    assert {event.outcome for event in events} == {"attempted"}


def test_the_summary_is_audited_as_a_view_of_the_patient(browser, doctor, patient):
    assert browser(doctor).get(summary_url(patient)).status_code == 200
    with scopes_disabled():
        event = AuditEvent.objects.get(user_id=doctor.pk)
    assert (event.action, event.patient_id, event.outcome) == ("view", patient.pk, "allowed")


def test_the_changelist_links_open_the_summary(browser, doctor, patient):
    page = browser(doctor).get("/admin/patients/patient/")
    assert summary_url(patient).encode() in page.content


def test_its_query_count_does_not_grow_with_appointments(browser, doctor, patient, local_storage):
    client = browser(doctor)
    start = timezone.now() + timedelta(days=1)
    AppointmentFactory(tenant=patient.tenant, patient=patient, provider=doctor, appointment_date=start)
    make_document(patient.tenant, patient=patient)
    client.get(summary_url(patient))

    def count() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(summary_url(patient)).status_code == 200
        return len(captured)

    one = count()
    for hours in range(1, 50):
        moment = start + timedelta(hours=hours * 2) if hours % 2 else start - timedelta(days=hours)
        AppointmentFactory(tenant=patient.tenant, patient=patient, provider=doctor, appointment_date=moment)
    make_document(patient.tenant, patient=patient)
    assert count() == one


def _upload(client, patient, content: bytes, *, name="scan.pdf", content_type="application/pdf"):
    return client.post(
        f"/admin/patients/patient/{patient.pk}/summary/upload/",
        {
            "category": "lab_result",
            "title": "",
            "file": SimpleUploadedFile(name, content, content_type=content_type),
        },
    )


def test_the_admin_uploads_through_the_apis_checks(browser, nurse, patient, local_storage):
    response = _upload(browser(nurse), patient, PDF)
    assert response.status_code == 302 and response["Location"] == summary_url(patient)
    with scopes_disabled():
        document = Document.objects.get()
        assert (document.patient_id, document.status, document.version) == (
            patient.pk,
            DocumentStatus.READY,
            1,
        )
        assert document.title == "scan.pdf" and document.versions.count() == 1
        assert AuditEvent.objects.filter(
            action="create", model="documents.document", patient_id=patient.pk
        ).exists()


def test_a_refused_type_is_the_apis_415_and_nothing_is_stored(browser, nurse, patient, local_storage):
    response = _upload(browser(nurse), patient, ELF, name="run.pdf")
    assert response.status_code == 415
    assert "not accepted" in response.content.decode()
    with scopes_disabled():
        assert not Document.objects.exists()


def test_a_file_past_the_limit_is_a_413(browser, nurse, patient, local_storage, settings):
    settings.DOCUMENT_MAX_BYTES = len(PDF) - 1
    response = _upload(browser(nurse), patient, PDF)
    assert response.status_code == 413
    with scopes_disabled():
        assert not Document.objects.exists()


def test_no_file_is_a_form_error(browser, nurse, patient):
    response = browser(nurse).post(
        f"/admin/patients/patient/{patient.pk}/summary/upload/", {"category": "lab_result"}
    )
    assert response.status_code == 400 and "Choose a file" in response.content.decode()


def test_upload_checks_csrf(nurse, patient, local_storage):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(nurse)
    assert _upload(client, patient, PDF).status_code == 403
    with scopes_disabled():
        assert not Document.objects.exists()


def test_another_clinic_cannot_upload_to_our_patient(browser, outsider, patient, local_storage):
    assert _upload(browser(outsider), patient, PDF).status_code == 404
    with scopes_disabled():
        assert not Document.objects.exists()


def test_the_report_button_asks_the_report_service(browser, receptionist, patient, local_storage):
    response = browser(receptionist).post(f"/admin/patients/patient/{patient.pk}/summary/report/")
    assert response.status_code == 302
    with scopes_disabled():
        report = Document.objects.get(category=DocumentCategory.REPORT)
        assert report.patient_id == patient.pk
        assert AuditEvent.objects.filter(action="report", patient_id=patient.pk).exists()


def test_the_link_to_all_appointments_filters_on_the_patient(browser, doctor, patient):
    mine = AppointmentFactory(tenant=patient.tenant, patient=patient, provider=doctor)
    AppointmentFactory(tenant=patient.tenant, patient=PatientFactory(tenant=patient.tenant), provider=doctor)
    page = browser(doctor).get(f"/admin/appointments/appointment/?patient__id__exact={patient.pk}")
    assert page.status_code == 200
    assert [row.pk for row in page.context["cl"].result_list] == [mine.pk]


def test_the_book_button_opens_the_booking_form_with_the_patient_chosen(browser, receptionist, patient):
    page = browser(receptionist).get(f"/admin/appointments/appointment/add/?patient={patient.pk}")
    assert page.status_code == 200
    assert str(page.context["adminform"].form["patient"].value()) == str(patient.pk)
    assert f'<option value="{patient.pk}" selected>' in page.content.decode()


def test_the_edit_form_links_back_to_the_summary(browser, doctor, patient):
    page = browser(doctor).get(f"/admin/patients/patient/{patient.pk}/change/")
    assert summary_url(patient).encode() in page.content
