"""Which storage documents use is decided by S3_BUCKET alone; checked in a fresh interpreter."""

import json
import os
import subprocess
import sys

PRINT_STORAGE = """
import json, os
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "keneyapp.settings")
from django.conf import settings
print(json.dumps({"documents": settings.STORAGES["documents"], "max": settings.DOCUMENT_MAX_BYTES,
                  "chunk": settings.DOCUMENT_UPLOAD_CHUNK_BYTES, "types": settings.DOCUMENT_ALLOWED_TYPES,
                  "presign": settings.DOCUMENT_PRESIGN_EXPIRY_SECONDS,
                  "media": str(settings.MEDIA_ROOT), "static": str(settings.STATIC_ROOT)}))
"""
S3_VARIABLES = {"S3_BUCKET", "S3_ENDPOINT_URL", "S3_REGION", "S3_ACCESS_KEY_ID", "S3_SECRET_ACCESS_KEY"}


def storage_with(**env) -> dict:
    clean = {k: v for k, v in os.environ.items() if k not in S3_VARIABLES | {"DOCUMENTS_ROOT"}}
    result = subprocess.run(
        [sys.executable, "-c", PRINT_STORAGE],
        env={**clean, **env},
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(result.stdout)


def test_without_a_bucket_documents_go_to_a_private_folder_with_the_issues_defaults():
    found = storage_with()
    assert found["documents"]["BACKEND"] == "django.core.files.storage.FileSystemStorage"
    location = found["documents"]["OPTIONS"]["location"]
    assert location.endswith("var/documents")
    assert "base_url" not in found["documents"]["OPTIONS"]  # no URL: nothing serves the folder
    assert not location.startswith((found["static"], found["media"] or "/nonexistent"))
    assert found["max"] == 10 * 1024 * 1024 and found["chunk"] == 1024 * 1024 and found["presign"] == 900
    assert found["types"] == [
        "application/pdf",
        "image/png",
        "image/jpeg",
        "image/tiff",
        "application/dicom",
        "text/plain",
    ]


def test_a_bucket_selects_django_storages_s3_with_private_objects():
    found = storage_with(
        S3_BUCKET="clinic-docs",
        S3_ENDPOINT_URL="http://minio:9000",
        S3_REGION="eu-west-3",
        S3_ACCESS_KEY_ID="key",
        S3_SECRET_ACCESS_KEY="secret",
    )
    documents = found["documents"]
    assert documents["BACKEND"] == "documents.storage.DocumentS3Storage"
    options = documents["OPTIONS"]
    assert options["bucket_name"] == "clinic-docs" and options["endpoint_url"] == "http://minio:9000"
    assert options["region_name"] == "eu-west-3" and options["access_key"] == "key"
    assert options["default_acl"] is None and options["file_overwrite"] is False
    assert options["signature_version"] == "s3v4" and options["querystring_auth"] is True


def test_the_documents_storage_is_django_storages_s3():
    from storages.backends.s3 import S3Storage

    from documents.storage import DocumentS3Storage

    assert issubclass(DocumentS3Storage, S3Storage)
