from django.core.files.uploadedfile import SimpleUploadedFile

from documents.models import Document
from keneyapp.core.scoping import scopes_disabled

UPLOAD_URL = "/api/v1/documents/upload"
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
JPEG = b"\xff\xd8\xff\xe0" + b"\x00\x10JFIF" + b"\x00" * 64
TIFF = b"II*\x00" + b"\x08\x00\x00\x00" + b"\x00" * 64
DICOM = b"\x00" * 128 + b"DICM" + b"\x02\x00\x00\x00" * 8
TEXT = "Résultat: hémoglobine 13,5 g/dL\n".encode()
ELF = b"\x7fELF\x02\x01\x01" + b"\x00" * 64
ZIP = b"PK\x03\x04" + b"\x00" * 64


def upload(client, patient, content: bytes, *, name="scan.pdf", content_type="application/pdf", **fields):
    data = {
        "patient_id": getattr(patient, "pk", patient),
        "category": "lab_result",
        "title": "Hemoglobin",
        "file": SimpleUploadedFile(name, content, content_type=content_type),
        **fields,
    }
    return client.post(UPLOAD_URL, data, format="multipart")


def nothing_stored(stored) -> bool:
    with scopes_disabled():
        return Document.objects.count() == 0 and stored.keys() == []


def make_document(
    tenant, *, content: bytes = PDF, title: str = "Lab result", patient=None, **fields
) -> Document:
    """A ready document of `tenant` whose bytes are in the storage in use (for the isolation matrix)."""
    import hashlib
    import io

    from documents import storage
    from documents.models import DocumentVersion
    from tests.factories import PatientFactory

    patient = patient or PatientFactory(tenant=tenant)
    key = storage.save_file(
        storage.new_storage_key(tenant.pk), io.BytesIO(content), content_type="application/pdf"
    )
    document = Document.objects.create(
        tenant=tenant,
        patient=patient,
        category=fields.pop("category", "lab_result"),
        title=title,
        original_filename="lab.pdf",
        storage_key=key,
        content_type="application/pdf",
        size=len(content),
        **{"sha256": hashlib.sha256(content).hexdigest(), **fields},
    )
    DocumentVersion.objects.create(
        tenant=tenant,
        document=document,
        version=1,
        storage_key=key,
        content_type=document.content_type,
        size=document.size,
        sha256=document.sha256,
    )
    return document


def make_pending_upload(tenant, *, content: bytes = PDF) -> Document:
    """A direct upload whose bytes arrived in storage and that awaits its confirmation."""
    from datetime import timedelta

    from django.utils import timezone

    document = make_document(tenant, content=content, status="pending", sha256="")
    with scopes_disabled():
        document.versions.all().delete()
        Document.objects.filter(pk=document.pk).update(
            upload_expires_at=timezone.now() + timedelta(minutes=10)
        )
    document.refresh_from_db()
    return document
