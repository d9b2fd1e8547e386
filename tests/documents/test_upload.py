import hashlib

import pytest

from documents.models import Document, DocumentVersion
from keneyapp.core.scoping import scopes_disabled
from tests.documents.helpers import DICOM, ELF, JPEG, PDF, PNG, TEXT, TIFF, ZIP, nothing_stored, upload
from tests.factories import PatientFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def patient(clinic):
    return PatientFactory(tenant=clinic)


@pytest.mark.parametrize(
    ("content", "name", "declared", "detected"),
    [
        (PDF, "lab.pdf", "application/pdf", "application/pdf"),
        (PNG, "scan.png", "image/png", "image/png"),
        (JPEG, "photo.jpg", "image/jpeg", "image/jpeg"),
        (TIFF, "scan.tiff", "image/tiff", "image/tiff"),
        (DICOM, "ct.dcm", "application/dicom", "application/dicom"),
        (TEXT, "note.txt", "text/plain; charset=utf-8", "text/plain"),
        (PDF, "lab.pdf", "application/octet-stream", "application/pdf"),  # "unknown" declared
    ],
)
def test_upload_stores_the_bytes_under_a_server_key(
    api, doctor, patient, stored, content, name, declared, detected
):
    response = upload(api(doctor), patient, content, name=name, content_type=declared)
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["content_type"] == detected
    assert body["size"] == len(content)
    assert body["sha256"] == hashlib.sha256(content).hexdigest()
    assert body["status"] == "ready" and body["version"] == 1
    assert body["original_filename"] == name
    assert response["Location"] == f"/api/v1/documents/{body['id']}"
    with scopes_disabled():
        document = Document.objects.get(pk=body["id"])
    assert document.tenant_id == doctor.tenant_id and document.uploaded_by_id == doctor.pk
    assert document.storage_key.startswith(f"documents/{doctor.tenant_id}/")
    assert name not in document.storage_key
    assert stored.keys() == [document.storage_key]
    assert stored.read(document.storage_key) == content
    with scopes_disabled():
        assert DocumentVersion.objects.filter(document=document, version=1, sha256=body["sha256"]).exists()


def test_title_defaults_to_the_file_name(api, doctor, patient, local_storage):
    body = upload(api(doctor), patient, PDF, name="referral.pdf", title="").json()
    assert body["title"] == "referral.pdf"


@pytest.mark.parametrize(
    ("name", "shown"),
    [
        ("../../etc/passwd.pdf", "passwd.pdf"),
        ("..\\..\\windows\\system.pdf", "system.pdf"),
        ("report\x1b[31m\x07\x7f.pdf", "report[31m.pdf"),
        ("rapport\u202eFDP.exe.pdf", "rapportFDP.exe.pdf"),
    ],
)
def test_a_file_name_with_path_parts_or_control_characters_is_stored_under_the_servers_key(
    api, doctor, patient, stored, name, shown
):
    response = upload(api(doctor), patient, PDF, name=name)
    assert response.status_code == 201, response.content
    with scopes_disabled():
        document = Document.objects.get()
    assert document.original_filename == shown
    assert stored.keys() == [document.storage_key]
    assert ".." not in document.storage_key and "etc" not in document.storage_key


def test_one_byte_over_the_limit_is_413_and_leaves_nothing(api, doctor, patient, stored, settings):
    settings.DOCUMENT_MAX_BYTES = 1000
    settings.DOCUMENT_UPLOAD_CHUNK_BYTES = 256
    response = upload(api(doctor), patient, PDF + b"x" * (1001 - len(PDF)))
    assert response.status_code == 413, response.content
    assert response.json()["code"] == "file_too_large"
    assert nothing_stored(stored)
    # Control: exactly at the limit is accepted.
    assert upload(api(doctor), patient, PDF + b"x" * (1000 - len(PDF))).status_code == 201


@pytest.mark.parametrize(
    ("content", "declared", "code"),
    [
        (ELF, "application/pdf", "unsupported_file_type"),
        (ZIP, "application/zip", "unsupported_file_type"),
        (PNG, "application/pdf", "file_type_mismatch"),
        (PDF, "image/png", "file_type_mismatch"),
        (TEXT, "application/pdf", "file_type_mismatch"),
        (b"\xff\xfe not utf-8 \x00", "text/plain", "unsupported_file_type"),
    ],
)
def test_a_type_outside_the_allow_list_or_not_matching_its_declaration_is_415(
    api, doctor, patient, stored, content, declared, code
):
    response = upload(api(doctor), patient, content, content_type=declared)
    assert response.status_code == 415, response.content
    assert response.json()["code"] == code
    assert nothing_stored(stored)


def test_the_allow_list_is_a_setting(api, doctor, patient, local_storage, settings):
    settings.DOCUMENT_ALLOWED_TYPES = ["application/pdf"]
    response = upload(api(doctor), patient, PNG, name="x.png", content_type="image/png")
    assert response.status_code == 415
    assert nothing_stored(local_storage)


def test_an_empty_file_is_400(api, doctor, patient, stored):
    response = upload(api(doctor), patient, b"")
    assert response.status_code == 400, response.content
    assert response.json()["fields"]["file"][0]["code"] == "empty_file"
    assert nothing_stored(stored)


def test_a_missing_patient_is_400_naming_it(api, doctor, stored):
    response = upload(api(doctor), 999999, PDF)
    assert response.status_code == 400
    assert "patient_id" in response.json()["fields"]
    assert nothing_stored(stored)


def test_another_clinics_patient_is_400_naming_it(api, doctor, other_clinic, stored):
    theirs = PatientFactory(tenant=other_clinic)
    response = upload(api(doctor), theirs, PDF)
    assert response.status_code == 400
    assert "patient_id" in response.json()["fields"]
    assert nothing_stored(stored)


def test_a_deleted_patient_is_400(api, doctor, patient, local_storage):
    patient.is_deleted = True
    patient.save()
    assert upload(api(doctor), patient, PDF).status_code == 400
    assert nothing_stored(local_storage)


@pytest.mark.parametrize(
    ("fields", "bad"),
    [
        ({"category": "report"}, "category"),  # reports are made by the server only
        ({"category": "selfie"}, "category"),
        ({"patient_id": "abc"}, "patient_id"),
        ({"tenant": "2"}, "tenant"),
    ],
)
def test_bad_fields_are_400_naming_them(api, doctor, patient, local_storage, fields, bad):
    response = upload(api(doctor), patient, PDF, **fields)
    assert response.status_code == 400, response.content
    assert bad in response.json()["fields"]
    assert nothing_stored(local_storage)


def test_a_request_without_a_file_is_400(api, doctor, patient, local_storage):
    response = api(doctor).post(
        "/api/v1/documents/upload", {"patient_id": patient.pk, "category": "other"}, format="multipart"
    )
    assert response.status_code == 400
    assert "file" in response.json()["fields"]


def test_json_is_415(api, doctor, patient, local_storage):
    response = api(doctor).post("/api/v1/documents/upload", {"patient_id": patient.pk}, format="json")
    assert response.status_code == 415
    assert response.json()["code"] == "unsupported_media_type"


def test_two_files_are_400(api, doctor, patient, local_storage):
    from django.core.files.uploadedfile import SimpleUploadedFile

    response = api(doctor).post(
        "/api/v1/documents/upload",
        {
            "patient_id": patient.pk,
            "category": "other",
            "file": [SimpleUploadedFile("a.pdf", PDF), SimpleUploadedFile("b.pdf", PDF)],
        },
        format="multipart",
    )
    assert response.status_code == 400
    assert response.json()["code"] == "one_file_only"
    assert nothing_stored(local_storage)


def test_a_failed_row_write_removes_the_stored_object(api, doctor, patient, stored, monkeypatch):
    from documents import services

    def broken(document):
        raise RuntimeError("database went away")

    monkeypatch.setattr(services, "_record_version", broken)
    with pytest.raises(RuntimeError):
        upload(api(doctor), patient, PDF)
    assert nothing_stored(stored)


def test_no_temporary_file_outlives_the_request(api, doctor, patient, local_storage, settings, tmp_path):
    spool = tmp_path / "spool"
    spool.mkdir()
    settings.FILE_UPLOAD_TEMP_DIR = str(spool)
    settings.DOCUMENT_MAX_BYTES = 1000
    assert upload(api(doctor), patient, PDF).status_code == 201
    assert upload(api(doctor), patient, PDF + b"x" * 2000).status_code == 413
    assert upload(api(doctor), patient, PNG, content_type="application/pdf").status_code == 415
    assert list(spool.iterdir()) == []
