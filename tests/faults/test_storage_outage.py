"""Fault: the S3 endpoint unreachable (issue 12).

Documents are stored in a moto S3 server the test starts for itself (tests/live_servers.py::
PrivateMoto), then kills (connections refused) or freezes with SIGSTOP (connections accepted into
the kernel's backlog and never answered: a hung endpoint). Every door of documents is called
during the outage, through the API:

- multipart upload, new version: 503 `storage_unavailable`, nothing written (the bytes go to S3
  before any row);
- direct-upload confirm: 503, the document stays pending (it reads the object back from S3);
- presign: 201 (signed here, no call to S3; the pending row expires and is cleaned up);
- download, version download: 302 to a presigned URL (signed here; the browser meets the outage
  at S3);
- report request: 202, the report stays pending (rendered, not storable: the stale sweep queues it
  again);
- delete, list, detail: 204 / 200 (rows only; a deleted document's object stays: medical record);
- cleanup of expired uploads: fails, every row kept (the object goes before its row, so the next
  run retries).

No answer is a 500, every answer comes within a bound (the S3 timeouts are 1 s here, 2
attempts), and when S3 is back uploads work again, and every ready document and version names an
object that exists. The one way to leave an object without its row (an upload whose row write
fails while S3 cannot take the compensating delete, or a process dying between the two) is found
and removed by the daily orphan sweep.
"""

import hashlib
import time
import uuid
from datetime import timedelta

import boto3
import pytest
from botocore.config import Config
from django.db import OperationalError
from django.utils import timezone

from documents import services, storage
from documents.models import Document, DocumentStatus, DocumentVersion
from documents.storage import StorageUnavailable, ensure_bucket
from keneyapp.core.scoping import scopes_disabled
from tests.documents.helpers import PDF, PNG, make_pending_upload, upload
from tests.factories import PatientFactory
from tests.live_servers import PrivateMoto

pytestmark = pytest.mark.timeout(120)

TIMEOUT_SECONDS = 1  # S3_CONNECT_TIMEOUT_SECONDS and S3_READ_TIMEOUT_SECONDS of this test
ATTEMPTS = 2  # S3_MAX_ATTEMPTS
# A call that never gets an answer: ATTEMPTS x (connect + read) plus the retry's backoff (< 1 s
# with 2 attempts), and one view makes up to three calls (exists, put; head, get). Generous, for a
# noisy machine: the point is "bounded", not fast.
ANSWER_BOUND = 3 * ATTEMPTS * 2 * TIMEOUT_SECONDS + 10

DOCUMENTS = "/api/v1/documents"
CREDENTIALS = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}


@pytest.fixture(autouse=True)
def _tasks_run_here(monkeypatch):
    # generate_report runs in the test's process even when a broker is configured (CI's Redis).
    from keneyapp.celery import app as celery_app

    monkeypatch.setitem(celery_app.conf, "task_always_eager", True)


@pytest.fixture(scope="module")
def moto_server(tmp_path_factory):
    try:
        server = PrivateMoto(tmp_path_factory.mktemp("moto"))
    except FileNotFoundError:
        pytest.skip("needs moto_server (requirements-dev.txt: moto[server])")
    server.start()
    yield server
    server.kill()


@pytest.fixture
def moto(moto_server):
    """The module's moto server, running and answering (a test before may have killed or frozen it)."""
    if moto_server.process is None:
        moto_server.start()
    return moto_server


@pytest.fixture
def bucket(settings, moto):
    """The documents storage on the private moto server, with this test's short timeouts."""
    name = f"keneyapp-fault-{uuid.uuid4().hex[:12]}"
    settings.S3_CONNECT_TIMEOUT_SECONDS = TIMEOUT_SECONDS
    settings.S3_READ_TIMEOUT_SECONDS = TIMEOUT_SECONDS
    settings.S3_MAX_ATTEMPTS = ATTEMPTS
    settings.STORAGES = {  # set last: the storage is rebuilt from the settings above
        **settings.STORAGES,
        "documents": {
            "BACKEND": "documents.storage.DocumentS3Storage",
            "OPTIONS": {
                "bucket_name": name,
                "endpoint_url": moto.url,
                "region_name": "us-east-1",
                "access_key": CREDENTIALS["aws_access_key_id"],
                "secret_key": CREDENTIALS["aws_secret_access_key"],
                "default_acl": None,
                "file_overwrite": False,
                "signature_version": "s3v4",
                "addressing_style": "path",
            },
        },
    }
    settings.S3_BUCKET = name
    assert ensure_bucket()
    return name


def test_every_s3_call_is_bounded_by_default(settings):
    """botocore's defaults (60 s to connect, 60 s per read, 5 attempts) could hold a request for
    ten minutes on an endpoint that accepts and never answers; the settings' bound it."""
    settings.STORAGES = {
        **settings.STORAGES,
        "documents": {
            "BACKEND": "documents.storage.DocumentS3Storage",
            "OPTIONS": {"bucket_name": "b", "signature_version": "s3v4"},
        },
    }
    config = storage.document_storage().client_config
    assert (config.connect_timeout, config.read_timeout) == (3, 10)
    assert config.retries == {"max_attempts": 3, "mode": "standard"}
    assert config.signature_version == "s3v4"  # the rest of django-storages' own config is kept


def s3_client(moto):
    config = Config(signature_version="s3v4", connect_timeout=2, read_timeout=5, retries={"max_attempts": 1})
    return boto3.client("s3", endpoint_url=moto.url, region_name="us-east-1", config=config, **CREDENTIALS)


def stored_objects(moto, bucket) -> dict[str, bytes]:
    client = s3_client(moto)
    keys = [
        item["Key"]
        for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket)
        for item in page.get("Contents", ())
    ]
    return {key: client.get_object(Bucket=bucket, Key=key)["Body"].read() for key in keys}


def rows():
    """What the database says is stored: every document and version, as comparable tuples."""
    with scopes_disabled():
        return (
            sorted(Document.objects.values_list("pk", "status", "version", "storage_key", "is_deleted")),
            sorted(DocumentVersion.objects.values_list("pk", "document_id", "version", "storage_key")),
        )


def assert_every_ready_row_names_a_stored_object(objects: dict[str, bytes]) -> None:
    with scopes_disabled():
        for document in Document.objects.filter(status=DocumentStatus.READY):
            assert hashlib.sha256(objects[document.storage_key]).hexdigest() == document.sha256, document
        for version in DocumentVersion.objects.all():
            assert hashlib.sha256(objects[version.storage_key]).hexdigest() == version.sha256, version


def timed(call):
    started = time.monotonic()
    response = call()
    return response, time.monotonic() - started


def assert_storage_unavailable(response, elapsed: float) -> None:
    assert elapsed < ANSWER_BOUND, elapsed
    assert response.status_code == 503, response.content
    assert response["Retry-After"].isdigit()
    assert response.json() == {
        "status": 503,
        "code": "storage_unavailable",
        "detail": "Document storage is unavailable; try again shortly.",
    }


def test_s3_refusing_connections_every_door_answers_without_a_500_and_nothing_is_half_stored(
    api, doctor, clinic, moto, bucket, django_capture_on_commit_callbacks
):
    client = api(doctor)
    patient = PatientFactory(tenant=clinic)
    first = upload(client, patient, PDF)
    assert first.status_code == 201, first.content
    document_id = first.json()["id"]
    second = client.post(
        f"{DOCUMENTS}/{document_id}/versions",
        {"file": upload_file(PNG, "scan.png", "image/png")},
        format="multipart",
    )
    assert second.status_code == 201, second.content
    with scopes_disabled():
        pending = make_pending_upload(clinic)
        expired = make_pending_upload(clinic)
        Document.objects.filter(pk=expired.pk).update(upload_expires_at=timezone.now() - timedelta(minutes=1))
    objects_before = stored_objects(moto, bucket)
    rows_before = rows()

    moto.kill()

    # Writes that store bytes: 503, nothing written.
    response, elapsed = timed(lambda: upload(client, patient, PDF))
    assert_storage_unavailable(response, elapsed)
    response, elapsed = timed(
        lambda: client.post(
            f"{DOCUMENTS}/{document_id}/versions", {"file": upload_file(PDF, "again.pdf")}, format="multipart"
        )
    )
    assert_storage_unavailable(response, elapsed)
    response, elapsed = timed(lambda: client.post(f"{DOCUMENTS}/{pending.pk}/confirm"))
    assert_storage_unavailable(response, elapsed)
    assert rows() == rows_before

    # Doors that do not call S3.
    response, elapsed = timed(lambda: client.get(f"{DOCUMENTS}/{document_id}/download"))
    assert (response.status_code, elapsed < ANSWER_BOUND) == (302, True), response.content
    response = client.get(f"{DOCUMENTS}/{document_id}/download?version=1")
    assert response.status_code == 302, response.content
    assert client.get(DOCUMENTS).status_code == 200
    assert client.get(f"{DOCUMENTS}/{document_id}").status_code == 200
    presigned = client.post(
        f"{DOCUMENTS}/presign",
        {
            "patient_id": patient.pk,
            "category": "referral",
            "filename": "referral.pdf",
            "content_type": "application/pdf",
            "size": len(PDF),
        },
        format="json",
    )
    assert presigned.status_code == 201, presigned.content
    with django_capture_on_commit_callbacks(execute=True):  # generate_report runs here, eagerly
        report, elapsed = timed(lambda: client.post(f"/api/v1/patients/{patient.pk}/report"))
    assert (report.status_code, elapsed < ANSWER_BOUND) == (202, True), report.content
    with scopes_disabled():
        # Rendered but not storable: left pending for the stale sweep, not rejected.
        assert Document.objects.get(pk=report.json()["id"]).status == DocumentStatus.PENDING
    assert client.delete(f"{DOCUMENTS}/{pending.pk}").status_code == 204

    # The cleanup removes an object before its row: it fails and keeps the row for its next run.
    with scopes_disabled(), pytest.raises(StorageUnavailable):
        services.cleanup_expired_uploads()
    with scopes_disabled():
        assert Document.objects.filter(pk=expired.pk, status=DocumentStatus.PENDING).exists()

    # S3 is back (moto forgets everything when it restarts: put back what a real S3 would keep).
    moto.start()
    assert ensure_bucket()
    restored = s3_client(moto)
    for key, data in objects_before.items():
        restored.put_object(Bucket=bucket, Key=key, Body=data)

    again = upload(client, patient, PDF)
    assert again.status_code == 201, again.content
    confirmed = client.post(f"{DOCUMENTS}/{pending_undeleted(clinic, patient).pk}/confirm")
    assert confirmed.status_code == 200, confirmed.content
    with scopes_disabled():
        assert services.cleanup_expired_uploads() == 1
        stale = Document.objects.get(pk=report.json()["id"])
        with django_capture_on_commit_callbacks(execute=True):
            assert services.report_requeue_if_stale(
                document=stale, now=timezone.now() + timedelta(hours=1)
            ), "the stale sweep queues the pending report again"
        assert Document.objects.get(pk=stale.pk).status == DocumentStatus.READY
    objects_after = stored_objects(moto, bucket)
    assert_every_ready_row_names_a_stored_object(objects_after)
    # Nothing was stored during the outage (no orphan): every object is one before the outage or
    # one a ready row names now.
    with scopes_disabled():
        named = set(Document.objects.values_list("storage_key", flat=True)) | set(
            DocumentVersion.objects.values_list("storage_key", flat=True)
        )
    assert set(objects_after) <= set(objects_before) | named


def pending_undeleted(clinic, patient):
    """A fresh direct upload awaiting confirmation, its bytes in storage (after the outage)."""
    with scopes_disabled():
        return make_pending_upload(clinic)


def upload_file(content: bytes, name: str, content_type: str = "application/pdf"):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, content, content_type=content_type)


def test_a_hung_s3_endpoint_answers_503_within_the_timeouts_and_uploads_resume(
    api, doctor, clinic, moto, bucket
):
    client = api(doctor)
    patient = PatientFactory(tenant=clinic)
    assert upload(client, patient, PDF).status_code == 201
    with scopes_disabled():
        pending = make_pending_upload(clinic)
    rows_before = rows()

    moto.freeze()  # connections are accepted by the kernel and never answered
    try:
        response, elapsed = timed(lambda: upload(client, patient, PDF))
        assert_storage_unavailable(response, elapsed)
        response, elapsed = timed(lambda: client.post(f"{DOCUMENTS}/{pending.pk}/confirm"))
        assert_storage_unavailable(response, elapsed)
        assert rows() == rows_before
    finally:
        moto.thaw()

    time.sleep(1)  # moto now serves what waited in its backlog
    again = upload(client, patient, PDF)
    assert again.status_code == 201, again.content
    objects = stored_objects(moto, bucket)
    assert_every_ready_row_names_a_stored_object(objects)
    with scopes_disabled():
        named = set(Document.objects.values_list("storage_key", flat=True))
    assert set(objects) == named, "no object without its row"


def test_an_upload_meeting_both_outages_leaves_an_orphan_that_the_daily_sweep_removes(
    api, doctor, clinic, moto, bucket, monkeypatch
):
    client = api(doctor)
    patient = PatientFactory(tenant=clinic)
    kept = upload(client, patient, PDF)
    deleted = upload(client, patient, PNG, name="scan.png", content_type="image/png")
    assert kept.status_code == deleted.status_code == 201
    assert client.delete(f"{DOCUMENTS}/{deleted.json()['id']}").status_code == 204

    # The object is stored, then the row write fails (the database dropped) and S3 is gone
    # before the compensating delete.
    def database_gone(document):
        raise OperationalError("server closed the connection unexpectedly")

    def storage_gone(key):
        raise StorageUnavailable()

    monkeypatch.setattr(services, "_record_version", database_gone)
    monkeypatch.setattr(storage, "delete_object", storage_gone)
    response = upload(client, patient, PDF)
    monkeypatch.undo()
    assert response.status_code == 503, response.content
    with scopes_disabled():
        named = set(Document.objects.values_list("storage_key", flat=True))
    orphans = set(stored_objects(moto, bucket)) - named
    assert len(orphans) == 1

    with scopes_disabled():
        assert services.orphan_objects_remove() == 0, "a young object may be an upload in flight"
        assert services.orphan_objects_remove(now=timezone.now() + timedelta(days=2)) == 1
    # Gone; the ready document's and the soft-deleted document's objects stay.
    assert set(stored_objects(moto, bucket)) == named
    assert_every_ready_row_names_a_stored_object(stored_objects(moto, bucket))


def test_the_orphan_sweep_reads_local_storage_too(api, doctor, clinic, settings, tmp_path):
    root = tmp_path / "documents"
    settings.STORAGES = {
        **settings.STORAGES,
        "documents": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(root)},
        },
    }
    settings.S3_BUCKET = ""
    kept = upload(api(doctor), PatientFactory(tenant=clinic), PDF)
    assert kept.status_code == 201
    orphan = root / "documents" / str(clinic.pk) / ("0" * 32)
    orphan.write_bytes(PDF)
    with scopes_disabled():
        assert services.orphan_objects_remove(now=timezone.now() + timedelta(days=2)) == 1
        (key,) = Document.objects.values_list("storage_key", flat=True)
    assert not orphan.exists()
    assert (root / key).read_bytes() == PDF
