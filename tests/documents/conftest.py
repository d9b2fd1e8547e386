"""Document tests run on both storages: a local folder, and a real S3 API.

S3 is moto's server mode, started once per test session as a subprocess (`moto_server`), which
boto3 and django-storages reach over HTTP like any S3-compatible service. When the environment
already configures S3 (CI exports S3_ENDPOINT_URL and starts moto_server itself), that service is
used instead. Every S3 test gets a bucket of its own, so "no object left behind" is a listing.
"""

import os
import shutil
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import boto3
import pytest
from botocore.config import Config

from documents.storage import document_storage, ensure_bucket

CREDENTIALS = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_until_listening(port: int, process: subprocess.Popen, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError("moto_server exited at start")
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise RuntimeError("moto_server did not start listening")


@pytest.fixture(autouse=True)
def _tasks_run_here(monkeypatch):
    # generate_report runs in the test's process even when a broker is configured (CI's Redis).
    from keneyapp.celery import app as celery_app

    monkeypatch.setitem(celery_app.conf, "task_always_eager", True)


@pytest.fixture(scope="session")
def s3_service():
    """(endpoint URL, credentials) of a running S3 API."""
    endpoint = os.environ.get("S3_ENDPOINT_URL")
    if endpoint and os.environ.get("S3_BUCKET"):
        yield (
            endpoint,
            {
                "aws_access_key_id": os.environ.get("S3_ACCESS_KEY_ID", "testing"),
                "aws_secret_access_key": os.environ.get("S3_SECRET_ACCESS_KEY", "testing"),
            },
        )
        return
    executable = Path(sys.executable).with_name("moto_server")
    command = str(executable) if executable.exists() else shutil.which("moto_server")
    if command is None:
        pytest.skip("moto_server is not installed (pip install 'moto[server]')")
    port = _free_port()
    process = subprocess.Popen(
        [command, "-H", "127.0.0.1", "-p", str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        _wait_until_listening(port, process)
        yield f"http://127.0.0.1:{port}", CREDENTIALS
    finally:
        process.terminate()
        process.wait(timeout=10)


class StoredObjects:
    """What the storage in use holds, for "no object left behind" assertions."""

    def __init__(self, kind: str, *, client=None, bucket: str = "", root: Path | None = None):
        self.kind = kind
        self.client = client
        self.bucket = bucket
        self.root = root

    def keys(self) -> list[str]:
        if self.kind == "s3":
            pages = self.client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket)
            return sorted(item["Key"] for page in pages for item in page.get("Contents", ()))
        if not self.root.exists():
            return []
        return sorted(str(path.relative_to(self.root)) for path in self.root.rglob("*") if path.is_file())

    def read(self, key: str) -> bytes:
        if self.kind == "s3":
            return self.client.get_object(Bucket=self.bucket, Key=key)["Body"].read()
        return (self.root / key).read_bytes()

    def put(self, key: str, data: bytes, content_type: str = "application/octet-stream") -> None:
        if self.kind == "s3":
            self.client.put_object(Bucket=self.bucket, Key=key, Body=data, ContentType=content_type)
        else:
            path = self.root / key
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)


@pytest.fixture
def s3_storage(settings, s3_service):
    endpoint, credentials = s3_service
    bucket = f"keneyapp-test-{uuid.uuid4().hex[:16]}"
    settings.STORAGES = {
        **settings.STORAGES,
        "documents": {
            "BACKEND": "documents.storage.DocumentS3Storage",
            "OPTIONS": {
                "bucket_name": bucket,
                "endpoint_url": endpoint,
                "region_name": "us-east-1",
                "access_key": credentials["aws_access_key_id"],
                "secret_key": credentials["aws_secret_access_key"],
                "default_acl": None,
                "file_overwrite": False,
                "signature_version": "s3v4",
                "addressing_style": "path",
            },
        },
    }
    settings.S3_BUCKET = bucket
    assert ensure_bucket()
    client = boto3.client(
        "s3",
        endpoint_url=endpoint,
        region_name="us-east-1",
        config=Config(signature_version="s3v4"),
        **credentials,
    )
    objects = StoredObjects("s3", client=client, bucket=bucket)
    yield objects
    for key in objects.keys():  # noqa: SIM118 (a listing method, not a dict)
        client.delete_object(Bucket=bucket, Key=key)
    client.delete_bucket(Bucket=bucket)


@pytest.fixture
def local_storage(settings, tmp_path):
    root = tmp_path / "documents"
    settings.STORAGES = {
        **settings.STORAGES,
        "documents": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(root)},
        },
    }
    settings.S3_BUCKET = ""
    assert not hasattr(document_storage(), "bucket_name")
    return StoredObjects("local", root=root)


@pytest.fixture(params=["local", "s3"])
def stored(request):
    """Each test using it runs twice: on local storage and on S3."""
    return request.getfixturevalue(f"{request.param}_storage")
