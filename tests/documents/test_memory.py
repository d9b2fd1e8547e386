"""Uploading 10 MiB costs far less than 10 MiB of memory: the body streams from the socket (here a
file) through 1 MiB chunks to a temporary file and on to storage (S3 runs in another process)."""

import tempfile
import tracemalloc

import pytest

from documents.models import Document
from keneyapp.core.scoping import scopes_disabled
from tests.documents.helpers import PDF

pytestmark = pytest.mark.django_db
MIB = 1024 * 1024
BOUNDARY = "keneyapp-memory-test-boundary"


def multipart_body_on_disk(*, patient_id: int, size: int):
    """A multipart body of `size` file bytes, written to disk without holding it in memory."""
    body = tempfile.TemporaryFile()  # noqa: SIM115 (returned open; the caller closes it)
    for name, value in (("patient_id", str(patient_id)), ("category", "imaging"), ("title", "Big scan")):
        body.write(
            f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
        )
    body.write(
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="scan.pdf"\r\n'
        "Content-Type: application/pdf\r\n\r\n".encode()
    )
    body.write(PDF)
    block = b"0" * MIB
    remaining = size - len(PDF)
    while remaining > 0:
        body.write(block[:remaining])
        remaining -= min(remaining, MIB)
    body.write(f"\r\n--{BOUNDARY}--\r\n".encode())
    length = body.tell()
    body.seek(0)
    return body, length


def peak_memory_of_upload(client, patient, size: int) -> int:
    body, length = multipart_body_on_disk(patient_id=patient.pk, size=size)
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        response = client.generic(
            "POST",
            "/api/v1/documents/upload",
            b"",
            content_type=f"multipart/form-data; boundary={BOUNDARY}",
            **{"wsgi.input": body, "CONTENT_LENGTH": str(length)},
        )
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
        body.close()
    assert response.status_code == 201, response.content
    assert response.json()["size"] == size
    return peak


def test_a_10_mib_upload_uses_far_less_than_10_mib_of_memory(api, doctor, clinic, stored, settings):
    from tests.factories import PatientFactory

    patient = PatientFactory(tenant=clinic)
    settings.DOCUMENT_MAX_BYTES = 10 * MIB
    client = api(doctor)
    peak_memory_of_upload(client, patient, MIB)  # warm imports, caches and connections first
    small = peak_memory_of_upload(client, patient, 2 * MIB)
    large = peak_memory_of_upload(client, patient, 10 * MIB)
    print(
        f"\npeak traced memory ({stored.kind}): "
        f"2 MiB upload {small / MIB:.2f} MiB, 10 MiB {large / MIB:.2f} MiB"
    )
    # About three 1 MiB chunks in flight (socket read, multipart split, write), whatever the size.
    assert large < 4 * MIB, f"{large / MIB:.1f} MiB"
    assert large - small < MIB / 2, "memory grows with the file's size"
    with scopes_disabled():
        assert Document.objects.filter(size=10 * MIB).count() == 1


class CountingReader:
    """A request body that counts what the server read of it."""

    def __init__(self, file):
        self.file = file
        self.bytes_read = 0

    def read(self, size=-1):
        data = self.file.read(size)
        self.bytes_read += len(data)
        return data

    def readline(self, size=-1):
        data = self.file.readline(size)
        self.bytes_read += len(data)
        return data


def test_an_oversized_upload_is_refused_as_soon_as_the_limit_is_passed(
    api, doctor, clinic, local_storage, settings
):
    from tests.factories import PatientFactory

    patient = PatientFactory(tenant=clinic)
    settings.DOCUMENT_MAX_BYTES = MIB
    settings.DOCUMENT_UPLOAD_CHUNK_BYTES = 64 * 1024
    body, length = multipart_body_on_disk(patient_id=patient.pk, size=8 * MIB)
    reader = CountingReader(body)
    try:
        response = api(doctor).generic(
            "POST",
            "/api/v1/documents/upload",
            b"",
            content_type=f"multipart/form-data; boundary={BOUNDARY}",
            **{"wsgi.input": reader, "CONTENT_LENGTH": str(length)},
        )
    finally:
        body.close()
    assert response.status_code == 413
    assert reader.bytes_read < MIB + 256 * 1024, reader.bytes_read  # not the 8 MiB sent
    with scopes_disabled():
        assert Document.objects.count() == 0 and local_storage.keys() == []
