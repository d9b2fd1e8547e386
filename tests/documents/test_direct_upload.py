"""Direct uploads: a presigned POST straight to S3, then confirm. Against moto's S3 server."""

import base64
import hashlib
import json
from datetime import datetime, timedelta

import pytest
import requests
from django.utils import timezone

from documents.models import Document, DocumentStatus
from documents.tasks import cleanup_old_files
from keneyapp.core.scoping import scopes_disabled
from tests.documents.helpers import PDF, PNG
from tests.factories import PatientFactory

pytestmark = pytest.mark.django_db
PRESIGN_URL = "/api/v1/documents/presign"
PDF_SIZE = len(PDF)


@pytest.fixture
def patient(clinic):
    return PatientFactory(tenant=clinic)


def presign(client, patient, *, size=PDF_SIZE, content_type="application/pdf", **fields):
    body = {
        "patient_id": getattr(patient, "pk", patient),
        "category": "referral",
        "title": "Referral letter",
        "filename": "referral.pdf",
        "content_type": content_type,
        "size": size,
        **fields,
    }
    return client.post(PRESIGN_URL, body, format="json")


def post_to_storage(presigned: dict, content: bytes, *, content_type: str | None = None) -> requests.Response:
    fields = dict(presigned["upload"]["fields"])
    if content_type is not None:
        fields["Content-Type"] = content_type
    return requests.post(presigned["upload"]["url"], data=fields, files={"file": ("x", content)}, timeout=10)


def confirm(client, document_id: int):
    return client.post(f"/api/v1/documents/{document_id}/confirm")


def test_presign_then_upload_then_confirm(api, doctor, patient, s3_storage):
    response = presign(api(doctor), patient)
    assert response.status_code == 201, response.content
    body = response.json()
    document_id = body["document"]["id"]
    assert body["document"]["status"] == "pending"
    assert body["expires_in"] == 900
    assert body["upload"]["fields"]["key"].startswith(f"documents/{doctor.tenant_id}/")
    assert "referral" not in body["upload"]["fields"]["key"]
    stored = post_to_storage(body, PDF)
    assert stored.status_code in (200, 204), stored.text

    confirmed = confirm(api(doctor), document_id)
    assert confirmed.status_code == 200, confirmed.content
    assert confirmed.json()["status"] == "ready"
    assert confirmed.json()["sha256"] == hashlib.sha256(PDF).hexdigest()
    assert confirm(api(doctor), document_id).json()["status"] == "ready"  # twice is harmless
    with scopes_disabled():
        document = Document.objects.get(pk=document_id)
        assert document.upload_expires_at is None and document.versions.count() == 1


def _policy(presigned: dict) -> dict:
    return json.loads(base64.b64decode(presigned["upload"]["fields"]["policy"]))


def test_the_presigned_policy_binds_key_type_size_and_expiry(api, doctor, patient, s3_storage, settings):
    """What S3 (or MinIO) enforces on the POST is the signed policy: this key, exactly this
    Content-Type, 1 byte to DOCUMENT_MAX_BYTES, 15 minutes. moto's server does not evaluate POST
    policies, so the policy itself is checked here, and confirm re-checks the object (below)."""
    body = presign(api(doctor), patient).json()
    policy = _policy(body)
    conditions = policy["conditions"]
    assert {"Content-Type": "application/pdf"} in conditions
    assert ["content-length-range", 1, settings.DOCUMENT_MAX_BYTES] in conditions
    assert {"key": body["upload"]["fields"]["key"]} in conditions
    assert {"bucket": s3_storage.bucket} in conditions
    expires = datetime.fromisoformat(policy["expiration"].replace("Z", "+00:00"))
    assert timedelta(minutes=14) < expires - timezone.now() <= timedelta(minutes=15)
    assert body["upload"]["fields"]["x-amz-algorithm"] == "AWS4-HMAC-SHA256"


def test_a_bigger_file_than_declared_never_becomes_ready(api, doctor, patient, s3_storage):
    body = presign(api(doctor), patient).json()
    post_to_storage(body, PDF + b"x" * 100)  # real S3 refuses it; a lax storage is caught by confirm
    response = confirm(api(doctor), body["document"]["id"])
    assert response.status_code == 400
    with scopes_disabled():
        assert Document.objects.count() == 0 and s3_storage.keys() == []


def test_another_content_type_than_declared_never_becomes_ready(api, doctor, patient, s3_storage):
    body = presign(api(doctor), patient, size=len(PNG)).json()
    post_to_storage(body, PNG, content_type="image/png")
    response = confirm(api(doctor), body["document"]["id"])
    assert response.status_code == 415
    assert response.json()["code"] == "file_type_mismatch"
    with scopes_disabled():
        assert Document.objects.count() == 0 and s3_storage.keys() == []


def test_presign_refuses_bad_declarations(api, doctor, patient, s3_storage, settings):
    assert presign(api(doctor), patient, content_type="application/zip").status_code == 415
    too_big = presign(api(doctor), patient, size=settings.DOCUMENT_MAX_BYTES + 1)
    assert too_big.status_code == 413
    assert presign(api(doctor), patient, size=0).status_code == 400
    theirs = PatientFactory(tenant=PatientFactory().tenant)
    foreign = presign(api(doctor), theirs)
    assert foreign.status_code == 400 and "patient_id" in foreign.json()["fields"]
    with scopes_disabled():
        assert Document.objects.count() == 0


def test_presign_on_local_storage_is_a_clear_409(api, doctor, patient, local_storage):
    response = presign(api(doctor), patient)
    assert response.status_code == 409
    assert response.json()["code"] == "direct_upload_unavailable"
    with scopes_disabled():
        assert Document.objects.count() == 0


def test_confirming_what_was_never_uploaded_is_409_and_keeps_the_pending_upload(
    api, doctor, patient, s3_storage
):
    document_id = presign(api(doctor), patient).json()["document"]["id"]
    response = confirm(api(doctor), document_id)
    assert response.status_code == 409
    assert response.json()["code"] == "not_uploaded"
    with scopes_disabled():
        assert Document.objects.get(pk=document_id).status == DocumentStatus.PENDING  # may still upload
    assert s3_storage.keys() == []


def test_confirming_another_size_removes_the_object_and_the_row(api, doctor, patient, s3_storage):
    body = presign(api(doctor), patient, size=len(PDF) + 10).json()
    assert post_to_storage(body, PDF).status_code in (200, 204)
    response = confirm(api(doctor), body["document"]["id"])
    assert response.status_code == 400
    assert response.json()["fields"]["size"][0]["code"] == "size_mismatch"
    with scopes_disabled():
        assert Document.objects.count() == 0 and s3_storage.keys() == []


def test_confirming_bytes_of_another_type_removes_the_object_and_the_row(api, doctor, patient, s3_storage):
    # The storage checked the declared Content-Type header, not the bytes: confirm sniffs them.
    fake = b"MZ" + b"\x90" * (len(PDF) - 2)
    body = presign(api(doctor), patient).json()
    assert post_to_storage(body, fake).status_code in (200, 204)
    response = confirm(api(doctor), body["document"]["id"])
    assert response.status_code == 415
    with scopes_disabled():
        assert Document.objects.count() == 0 and s3_storage.keys() == []


def test_confirming_another_clinics_document_is_404(api, doctor, outsider, patient, s3_storage):
    body = presign(api(doctor), patient).json()
    post_to_storage(body, PDF)
    assert confirm(api(outsider), body["document"]["id"]).status_code == 404
    with scopes_disabled():
        assert Document.objects.get().status == DocumentStatus.PENDING


def test_an_expired_upload_cannot_be_confirmed(api, doctor, patient, s3_storage):
    body = presign(api(doctor), patient).json()
    post_to_storage(body, PDF)
    with scopes_disabled():
        Document.objects.update(upload_expires_at=timezone.now() - timedelta(seconds=1))
    response = confirm(api(doctor), body["document"]["id"])
    assert response.status_code == 409 and response.json()["code"] == "upload_expired"


def test_cleanup_removes_expired_pending_uploads_and_their_objects(api, doctor, patient, s3_storage):
    expired = presign(api(doctor), patient).json()
    post_to_storage(expired, PDF)
    fresh = presign(api(doctor), patient).json()
    with scopes_disabled():
        Document.objects.filter(pk=expired["document"]["id"]).update(
            upload_expires_at=timezone.now() - timedelta(minutes=1)
        )
    assert cleanup_old_files() == 1
    with scopes_disabled():
        assert list(Document.objects.values_list("pk", flat=True)) == [fresh["document"]["id"]]
    assert s3_storage.keys() == []


def test_cleanup_runs_on_the_low_queue_every_15_minutes(settings):
    from django_celery_beat.models import PeriodicTask

    assert settings.CELERY_TASK_ROUTES["documents.cleanup_old_files"] == {"queue": "low"}
    assert settings.CELERY_TASK_ROUTES["documents.generate_report"] == {"queue": "default"}
    task = PeriodicTask.objects.get(task="documents.cleanup_old_files")
    assert task.queue == "low" and task.interval.every == 15 and task.interval.period == "minutes"
