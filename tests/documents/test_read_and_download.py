import pytest
import requests
from django.core.files.uploadedfile import SimpleUploadedFile

from documents.models import Document, DocumentAccess
from keneyapp.core.scoping import scopes_disabled
from tests.documents.helpers import PDF, PNG, TEXT, upload
from tests.factories import PatientFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def patient(clinic):
    return PatientFactory(tenant=clinic)


def test_local_download_streams_the_file_as_an_attachment(api, doctor, patient, local_storage):
    document_id = upload(api(doctor), patient, PDF, name="../lab résultat.pdf").json()["id"]
    response = api(doctor).get(f"/api/v1/documents/{document_id}/download")
    assert response.status_code == 200
    assert response.streaming
    assert b"".join(response.streaming_content) == PDF
    assert response["Content-Type"] == "application/pdf"
    disposition = response["Content-Disposition"]
    assert disposition.startswith("attachment;") and "r%C3%A9sultat.pdf" in disposition
    assert ".." not in disposition
    assert "no-store" in response["Cache-Control"]
    with scopes_disabled():
        access = DocumentAccess.objects.get()
    assert (access.document_id, access.user_id, access.through, access.version) == (
        document_id,
        doctor.pk,
        "api",
        1,
    )


def test_s3_download_redirects_to_a_short_lived_presigned_attachment(
    api, doctor, patient, s3_storage, settings
):
    document_id = upload(api(doctor), patient, PDF, name="lab.pdf").json()["id"]
    response = api(doctor).get(f"/api/v1/documents/{document_id}/download")
    assert response.status_code == 302
    url = response["Location"]
    assert "X-Amz-Signature=" in url and f"X-Amz-Expires={settings.DOCUMENT_DOWNLOAD_EXPIRY_SECONDS}" in url
    assert "no-store" in response["Cache-Control"]
    fetched = requests.get(url, timeout=10)
    assert fetched.status_code == 200 and fetched.content == PDF
    assert fetched.headers["Content-Disposition"].startswith("attachment;")
    assert 'filename="lab.pdf"' in fetched.headers["Content-Disposition"]
    with scopes_disabled():
        assert DocumentAccess.objects.filter(document_id=document_id, user=doctor).count() == 1


def test_the_bucket_is_private(api, doctor, patient, s3_storage):
    document_id = upload(api(doctor), patient, PDF).json()["id"]
    with scopes_disabled():
        document = Document.objects.get(pk=document_id)
    endpoint = s3_storage.client.meta.endpoint_url
    anonymous = requests.get(f"{endpoint}/{s3_storage.bucket}/{document.storage_key}", timeout=10)
    assert anonymous.status_code == 200 or anonymous.status_code == 403  # moto serves anonymous reads
    acl = s3_storage.client.get_object_acl(Bucket=s3_storage.bucket, Key=document.storage_key)
    assert not [grant for grant in acl["Grants"] if grant["Grantee"].get("URI", "").endswith("AllUsers")]


def test_every_download_is_recorded(api, doctor, nurse, patient, stored):
    document_id = upload(api(doctor), patient, TEXT, name="n.txt", content_type="text/plain").json()["id"]
    for user in (doctor, nurse, doctor):
        assert api(user).get(f"/api/v1/documents/{document_id}/download").status_code in (200, 302)
    with scopes_disabled():
        assert list(DocumentAccess.objects.order_by("pk").values_list("user_id", flat=True)) == [
            doctor.pk,
            nurse.pk,
            doctor.pk,
        ]


def test_another_clinics_document_is_404_everywhere_and_not_recorded(api, doctor, outsider, patient, stored):
    document_id = upload(api(doctor), patient, PDF).json()["id"]
    for path in ("", "/download", "/versions", "/confirm"):
        method = "post" if path == "/confirm" else "get"
        response = getattr(api(outsider), method)(f"/api/v1/documents/{document_id}{path}")
        assert response.status_code == 404, (path, response.content)
    assert api(outsider).delete(f"/api/v1/documents/{document_id}").status_code == 404
    with scopes_disabled():
        assert DocumentAccess.objects.count() == 0
        assert not Document.objects.get(pk=document_id).is_deleted


def test_list_pages_filters_and_counts(api, doctor, patient, local_storage, django_assert_max_num_queries):
    other_patient = PatientFactory(tenant=patient.tenant)
    for index in range(3):
        upload(api(doctor), patient, PDF, title=f"lab {index}")
    upload(api(doctor), other_patient, PNG, name="x.png", content_type="image/png", category="imaging")
    client = api(doctor)
    with django_assert_max_num_queries(4):  # user from cache or DB, counter, page
        body = client.get("/api/v1/documents", {"limit": 2}).json()
    assert body["total"] == 4 and body["skip"] == 0 and body["limit"] == 2
    assert [item["title"] for item in body["items"]] == ["Hemoglobin", "lab 2"]
    assert set(body["items"][0]) >= {
        "id",
        "patient_id",
        "category",
        "content_type",
        "size",
        "sha256",
        "status",
    }
    assert "storage_key" not in body["items"][0]
    by_patient = client.get("/api/v1/documents", {"patient_id": patient.pk}).json()
    assert by_patient["total"] == 3
    by_category = client.get("/api/v1/documents", {"category": "imaging"}).json()
    assert [item["content_type"] for item in by_category["items"]] == ["image/png"]


@pytest.mark.parametrize(
    "params",
    [
        {"patient_id": "x"},
        {"category": "selfie"},
        {"skip": "-1"},
        {"limit": "1000"},
        {"patient_id": "999999"},
    ],
)
def test_bad_list_parameters_are_400(api, doctor, params):
    response = api(doctor).get("/api/v1/documents", params)
    assert response.status_code == 400
    assert set(params) & set(response.json()["fields"])


def test_list_query_count_does_not_grow_with_rows(
    api, doctor, patient, local_storage, django_assert_max_num_queries
):
    for _ in range(12):
        upload(api(doctor), patient, PDF)
    client = api(doctor)
    client.get("/api/v1/documents")  # the user is cached now
    with django_assert_max_num_queries(4):  # patient resolved, count, page; the audit trail's INSERT
        assert len(client.get("/api/v1/documents", {"patient_id": patient.pk}).json()["items"]) == 12


def test_detail_lists_versions_and_a_new_version_keeps_the_old_one(api, doctor, nurse, patient, stored):
    document_id = upload(api(doctor), patient, PDF, name="v1.pdf").json()["id"]
    with scopes_disabled():
        first_key = Document.objects.get(pk=document_id).storage_key
    response = api(nurse).post(
        f"/api/v1/documents/{document_id}/versions",
        {"file": SimpleUploadedFile("v2.pdf", PDF + b"% second\n", content_type="application/pdf")},
        format="multipart",
    )
    assert response.status_code == 201, response.content
    assert response.json()["version"] == 2 and response.json()["original_filename"] == "v2.pdf"
    detail = api(doctor).get(f"/api/v1/documents/{document_id}").json()
    assert [v["version"] for v in detail["versions"]] == [2, 1]
    assert [v["original_filename"] for v in detail["versions"]] == ["v2.pdf", "v1.pdf"]
    assert api(doctor).get(f"/api/v1/documents/{document_id}/versions").json() == detail["versions"]
    with scopes_disabled():
        document = Document.objects.get(pk=document_id)
    assert sorted(stored.keys()) == sorted([first_key, document.storage_key])
    assert stored.read(first_key) == PDF  # the old file is still there


def test_a_new_version_of_the_wrong_type_is_415_and_changes_nothing(api, doctor, patient, stored):
    document_id = upload(api(doctor), patient, PDF).json()["id"]
    response = api(doctor).post(
        f"/api/v1/documents/{document_id}/versions",
        {"file": SimpleUploadedFile("v2.pdf", b"\x7fELF" + b"\x00" * 10, content_type="application/pdf")},
        format="multipart",
    )
    assert response.status_code == 415
    with scopes_disabled():
        assert Document.objects.get(pk=document_id).version == 1
    assert len(stored.keys()) == 1


def test_delete_is_soft_and_keeps_the_file(api, doctor, receptionist, patient, stored):
    document_id = upload(api(doctor), patient, PDF).json()["id"]
    assert api(receptionist).delete(f"/api/v1/documents/{document_id}").status_code == 403
    assert api(doctor).delete(f"/api/v1/documents/{document_id}").status_code == 204
    assert api(doctor).get(f"/api/v1/documents/{document_id}").status_code == 404
    assert api(doctor).get(f"/api/v1/documents/{document_id}/download").status_code == 404
    assert api(doctor).get("/api/v1/documents").json()["total"] == 0
    with scopes_disabled():
        assert Document.objects.get(pk=document_id).is_deleted
    assert len(stored.keys()) == 1


def test_a_pending_document_cannot_be_downloaded(api, doctor, patient, s3_storage):
    body = (
        api(doctor)
        .post(
            "/api/v1/documents/presign",
            {
                "patient_id": patient.pk,
                "category": "other",
                "filename": "a.pdf",
                "content_type": "application/pdf",
                "size": 10,
            },
            format="json",
        )
        .json()
    )
    response = api(doctor).get(f"/api/v1/documents/{body['document']['id']}/download")
    assert response.status_code == 409 and response.json()["code"] == "not_ready"
    with scopes_disabled():
        assert DocumentAccess.objects.count() == 0


def test_an_older_version_can_be_downloaded(api, doctor, patient, stored):
    document_id = upload(api(doctor), patient, PDF, name="v1.pdf").json()["id"]
    api(doctor).post(
        f"/api/v1/documents/{document_id}/versions",
        {"file": SimpleUploadedFile("v2.pdf", PDF + b"% v2\n", content_type="application/pdf")},
        format="multipart",
    )
    response = api(doctor).get(f"/api/v1/documents/{document_id}/download", {"version": 1})
    if response.status_code == 302:
        content = requests.get(response["Location"], timeout=10).content
    else:
        content = b"".join(response.streaming_content)
    assert content == PDF
    with scopes_disabled():
        assert list(DocumentAccess.objects.values_list("version", flat=True)) == [1]
    missing = api(doctor).get(f"/api/v1/documents/{document_id}/download", {"version": 7})
    assert missing.status_code == 400 and "version" in missing.json()["fields"]
