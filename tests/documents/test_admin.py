import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from documents.models import DocumentAccess
from keneyapp.core.scoping import scopes_disabled
from tests.documents.helpers import PDF, make_document
from tests.factories import PatientFactory

pytestmark = pytest.mark.django_db
CHANGELIST = "/admin/documents/document/"


def download_url(document) -> str:
    return f"/admin/documents/document/{document.pk}/download/"


def test_the_changelist_shows_only_the_clinics_documents(browser, doctor, other_clinic, local_storage):
    ours = make_document(doctor.tenant, title="Our lab result")
    make_document(other_clinic, title="Their secret scan")
    page = browser(doctor).get(CHANGELIST)
    assert page.status_code == 200
    assert b"Our lab result" in page.content and b"Their secret scan" not in page.content
    assert download_url(ours).encode() in page.content


def test_changelist_queries_do_not_grow_with_rows(browser, doctor, local_storage):
    patient = PatientFactory(tenant=doctor.tenant)
    client = browser(doctor)
    make_document(doctor.tenant, patient=patient)
    client.get(CHANGELIST)

    def count() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(CHANGELIST).status_code == 200
        return len(captured)

    few = count()
    for _ in range(20):
        make_document(doctor.tenant, patient=PatientFactory(tenant=doctor.tenant))
    assert count() == few


def test_admin_download_goes_through_the_same_authorization_and_is_recorded(
    browser, doctor, outsider, stored
):
    document = make_document(doctor.tenant)
    response = browser(doctor).get(download_url(document))
    assert response.status_code in (200, 302)
    if response.status_code == 200:
        assert b"".join(response.streaming_content) == PDF
    with scopes_disabled():
        assert DocumentAccess.objects.get().through == "admin"
    assert browser(outsider).get(download_url(document)).status_code == 404
    assert browser(doctor).get("/admin/documents/document/99999999/download/").status_code == 404
    with scopes_disabled():
        assert DocumentAccess.objects.count() == 1


def test_the_patient_page_lists_its_documents_inline(browser, doctor, local_storage):
    patient = PatientFactory(tenant=doctor.tenant)
    document = make_document(doctor.tenant, patient=patient, title="Consent signed")
    make_document(doctor.tenant, title="Another patient's file")
    page = browser(doctor).get(f"/admin/patients/patient/{patient.pk}/change/")
    assert page.status_code == 200
    assert b"Consent signed" in page.content and b"Another patient" not in page.content
    assert download_url(document).encode() in page.content


def test_the_patient_add_page_has_no_documents_inline(browser, doctor):
    page = browser(doctor).get("/admin/patients/patient/add/")
    assert page.status_code == 200
    assert b"documents-TOTAL_FORMS" not in page.content


def test_download_records_are_for_clinic_admins_only_and_read_only(
    browser, doctor, clinic_admin, other_clinic, local_storage
):
    document = make_document(doctor.tenant, title="Lab")
    theirs = make_document(other_clinic, title="Theirs")
    DocumentAccess.objects.create(
        tenant=doctor.tenant, document=document, version=1, user=doctor, through="api"
    )
    DocumentAccess.objects.create(tenant=other_clinic, document=theirs, version=1, user=doctor, through="api")
    page = browser(clinic_admin).get("/admin/documents/documentaccess/")
    assert page.status_code == 200
    assert page.content.count(str(doctor).encode()) >= 1 and b"Theirs" not in page.content
    assert browser(doctor).get("/admin/documents/documentaccess/").status_code == 403
    assert browser(clinic_admin).get("/admin/documents/documentaccess/add/").status_code == 403


def test_download_records_changelist_queries_do_not_grow_with_rows(
    browser, clinic_admin, staff_of, local_storage
):
    client = browser(clinic_admin)

    def record_downloads(count: int) -> None:
        for _ in range(count):
            document = make_document(clinic_admin.tenant, patient=PatientFactory(tenant=clinic_admin.tenant))
            DocumentAccess.objects.create(
                tenant=clinic_admin.tenant,
                document=document,
                version=1,
                user=staff_of("nurse"),
                through="api",
            )

    def count() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get("/admin/documents/documentaccess/").status_code == 200
        return len(captured)

    record_downloads(1)
    client.get("/admin/documents/documentaccess/")
    few = count()
    record_downloads(20)
    assert count() == few


def test_documents_cannot_be_added_or_edited_in_the_admin(browser, clinic_admin, local_storage):
    document = make_document(clinic_admin.tenant)
    assert browser(clinic_admin).get("/admin/documents/document/add/").status_code == 403
    response = browser(clinic_admin).post(
        f"/admin/documents/document/{document.pk}/change/", {"title": "Changed"}
    )
    assert response.status_code == 403
