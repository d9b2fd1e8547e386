"""Writes of documents. The clinic always comes from the caller (never from a request body).

Bytes and rows are kept in step: an object is stored before its row is written, and removed again if
the row cannot be written; a refused file is never stored at all. So no failure leaves a row without
its object. An object without its row (an orphan) is left only by a process that dies between the
two, or by a row write that fails while S3 cannot take the compensating delete either (both
outages at once); `orphan_objects_remove` (the daily documents.sweep_orphan_objects) finds and
removes those once they are DOCUMENT_ORPHAN_GRACE_SECONDS old.
"""

import hashlib
import logging
import unicodedata
from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from rest_framework.exceptions import ErrorDetail, ValidationError

from documents import selectors, storage
from documents.models import Document, DocumentAccess, DocumentCategory, DocumentStatus, DocumentVersion
from documents.sniffing import HEAD_BYTES, Sniffer, declared_type_matches, normalize_declared_type
from documents.uploads import DocumentTooLarge, StreamedUpload, UnsupportedDocumentType
from keneyapp.accounts.models import Tenant, User
from keneyapp.core.errors import ConflictError
from keneyapp.core.signals import clinic_data_changed
from keneyapp.core.tasks import queue_task
from patients.models import Patient
from patients.selectors import patient_resolve

logger = logging.getLogger("keneyapp.documents")

FILENAME_MAX_LENGTH = 255
FALLBACK_FILENAME = "document"


# --- checks -------------------------------------------------------------------------------------
def clean_display_filename(name: str | None) -> str:
    """The client's file name, safe to display and to put in a Content-Disposition header: no
    directory parts (either slash), no control or format characters, at most 255 characters."""
    name = (name or "").replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in name if unicodedata.category(ch)[0] != "C").strip().strip(".")
    return name[:FILENAME_MAX_LENGTH] or FALLBACK_FILENAME


def allowed_types() -> set[str]:
    return {normalize_declared_type(value) for value in settings.DOCUMENT_ALLOWED_TYPES}


def check_file_type(*, detected: str | None, declared: str | None) -> str:
    """The detected type, if it is allowed and agrees with what the client declared; else 415."""
    if detected is None or detected not in allowed_types():
        raise UnsupportedDocumentType(
            _("This file type is not accepted. Accepted: %(types)s.")
            % {"types": ", ".join(sorted(allowed_types()))},
            "unsupported_file_type",
        )
    if not declared_type_matches(declared, detected):
        raise UnsupportedDocumentType(
            _("The file was declared as %(declared)s but its content is %(detected)s.")
            % {"declared": normalize_declared_type(declared), "detected": detected},
            "file_type_mismatch",
        )
    return detected


def check_upload(upload: StreamedUpload) -> str:
    if upload.size == 0:
        raise ValidationError({"file": [ErrorDetail(_("The file is empty."), code="empty_file")]})
    return check_file_type(detected=upload.detected_type, declared=upload.declared_type)


# The document routes' answer to an unknown patient_id since they exist (kept for their clients).
def unknown_patient() -> ErrorDetail:
    """Made per request: its message in the request's language."""
    return ErrorDetail(_("No such patient."), code="does_not_exist")


def _announce_documents_changed(tenant_id: int) -> None:
    """Announce that the clinic's documents changed (through core: whatever counts them subscribes)."""
    clinic_data_changed.send(sender=Document, tenant_id=tenant_id)


# --- streamed uploads ---------------------------------------------------------------------------
def document_upload(
    *, tenant: Tenant, uploaded_by: User, patient_id: int, category: str, title: str, upload: StreamedUpload
) -> Document:
    """A new document from a streamed upload (already spooled to disk, hashed and sniffed)."""
    patient = patient_resolve(tenant=tenant, patient_id=patient_id, unknown=unknown_patient())
    content_type = check_upload(upload)
    key = storage.save_file(storage.new_storage_key(tenant.pk), upload, content_type=content_type)
    try:
        with transaction.atomic():
            document = Document.objects.create(
                tenant=tenant,
                patient=patient,
                uploaded_by=uploaded_by,
                category=category,
                title=title,
                original_filename=clean_display_filename(upload.name),
                storage_key=key,
                content_type=content_type,
                size=upload.size,
                sha256=upload.sha256,
                status=DocumentStatus.READY,
            )
            _record_version(document)
            _announce_documents_changed(tenant.pk)
    except BaseException:
        storage.delete_object(key)
        raise
    return document


def document_add_version(*, document: Document, uploaded_by: User, upload: StreamedUpload) -> Document:
    """Store a new file for an existing document; the previous versions stay (rows and objects)."""
    if document.status != DocumentStatus.READY or document.category == DocumentCategory.REPORT:
        raise ConflictError(_("Only a ready, uploaded document takes a new version."), code="not_versionable")
    content_type = check_upload(upload)
    key = storage.save_file(storage.new_storage_key(document.tenant_id), upload, content_type=content_type)
    try:
        with transaction.atomic():
            # The row lock serialises two new versions of one document (distinct version numbers).
            locked = Document.objects.select_for_update().get(pk=document.pk)
            locked.version += 1
            locked.original_filename = clean_display_filename(upload.name)
            locked.storage_key = key
            locked.content_type = content_type
            locked.size = upload.size
            locked.sha256 = upload.sha256
            locked.uploaded_by = uploaded_by
            locked.save()
            _record_version(locked)
    except BaseException:
        storage.delete_object(key)
        raise
    return locked


def _record_version(document: Document) -> DocumentVersion:
    return DocumentVersion.objects.create(
        tenant_id=document.tenant_id,
        document=document,
        version=document.version,
        original_filename=document.original_filename,
        storage_key=document.storage_key,
        content_type=document.content_type,
        size=document.size,
        sha256=document.sha256,
        uploaded_by_id=document.uploaded_by_id,
    )


# --- direct uploads (presigned POST, then confirm) ----------------------------------------------
def document_presign(
    *,
    tenant: Tenant,
    uploaded_by: User,
    patient_id: int,
    category: str,
    title: str,
    filename: str,
    content_type: str,
    size: int,
) -> tuple[Document, dict]:
    """A pending document and the presigned POST that uploads its bytes straight to storage."""
    # A foreign id: 400 first.
    patient = patient_resolve(tenant=tenant, patient_id=patient_id, unknown=unknown_patient())
    if not storage.uses_s3():
        raise ConflictError(
            _("Direct uploads need S3 storage; use POST /api/v1/documents/upload."),
            code="direct_upload_unavailable",
        )
    content_type = normalize_declared_type(content_type)
    if content_type not in allowed_types():
        raise UnsupportedDocumentType(
            _("This file type is not accepted. Accepted: %(types)s.")
            % {"types": ", ".join(sorted(allowed_types()))},
            "unsupported_file_type",
        )
    if size > settings.DOCUMENT_MAX_BYTES:
        raise DocumentTooLarge(settings.DOCUMENT_MAX_BYTES)
    expires_in = settings.DOCUMENT_PRESIGN_EXPIRY_SECONDS
    key = storage.new_storage_key(tenant.pk)
    with transaction.atomic():
        document = Document.objects.create(
            tenant=tenant,
            patient=patient,
            uploaded_by=uploaded_by,
            category=category,
            title=title,
            original_filename=clean_display_filename(filename),
            storage_key=key,
            content_type=content_type,
            size=size,
            status=DocumentStatus.PENDING,
            upload_expires_at=timezone.now() + timedelta(seconds=expires_in),
        )
        _announce_documents_changed(tenant.pk)
    post = storage.presigned_upload(
        key, content_type=content_type, max_bytes=settings.DOCUMENT_MAX_BYTES, expires_in=expires_in
    )
    return document, post


def document_confirm(*, document: Document) -> Document:
    """Check the directly uploaded object against what was declared, then mark the document ready.

    Not uploaded yet: 409, and the pending document stays until its upload expires (the client may
    still upload). Uploaded with another size or type: the object and the pending row are removed
    (400 / 415), as if the upload had never happened.
    """
    if document.status == DocumentStatus.READY:
        return document  # confirming twice is harmless
    if document.status != DocumentStatus.PENDING or document.upload_expires_at is None:
        raise ConflictError(
            _("This document is not a direct upload awaiting confirmation."), code="not_pending"
        )
    if document.upload_expires_at <= timezone.now():
        raise ConflictError(
            _("This upload has expired; ask for a new presigned upload."), code="upload_expired"
        )
    try:
        size = storage.object_size(document.storage_key)
    except storage.ObjectMissing:
        raise ConflictError(_("Nothing was uploaded for this document yet."), code="not_uploaded") from None
    if size != document.size:
        _discard_direct_upload(document)
        raise ValidationError(
            {
                "size": [
                    ErrorDetail(
                        _("Declared %(declared)s bytes, uploaded %(size)s.")
                        % {"declared": document.size, "size": size},
                        code="size_mismatch",
                    )
                ]
            }
        )
    digest, sniffer = hashlib.sha256(), Sniffer()
    for chunk in storage.iter_object(document.storage_key):
        digest.update(chunk)
        sniffer.feed(chunk)
    try:
        check_file_type(detected=sniffer.detected_type(), declared=document.content_type)
    except UnsupportedDocumentType:
        _discard_direct_upload(document)
        raise
    with transaction.atomic():
        locked = Document.objects.select_for_update().get(pk=document.pk)
        if locked.status == DocumentStatus.READY:  # a concurrent confirm won
            return locked
        locked.sha256 = digest.hexdigest()
        locked.status = DocumentStatus.READY
        locked.upload_expires_at = None
        locked.save(update_fields=["sha256", "status", "upload_expires_at", "updated_at"])
        _record_version(locked)
    return locked


def _discard_direct_upload(document: Document) -> None:
    storage.delete_object(document.storage_key)
    with transaction.atomic():
        Document.objects.filter(pk=document.pk, status=DocumentStatus.PENDING).delete()
        _announce_documents_changed(document.tenant_id)


def cleanup_expired_uploads(*, now=None, batch_size: int = 500) -> int:
    """Remove direct uploads never confirmed before expiry: their objects, then their rows."""
    now = now or timezone.now()
    removed = 0
    while True:
        batch = list(selectors.expired_pending_uploads(now=now, limit=batch_size))
        if not batch:
            return removed
        for document in batch:
            storage.delete_object(document.storage_key)
            with transaction.atomic():
                Document.objects.filter(pk=document.pk, status=DocumentStatus.PENDING).delete()
                _announce_documents_changed(document.tenant_id)
            removed += 1
        if len(batch) < batch_size:
            return removed


def orphan_objects_remove(*, now: datetime | None = None) -> int:
    """Remove stored objects that no document or version names and that were stored more than
    DOCUMENT_ORPHAN_GRACE_SECONDS ago; returns how many. The caller disables scopes (every clinic).

    The grace is far longer than the seconds between storing an object and committing its row, so
    an upload in flight is never taken for an orphan. Soft-deleted documents still name their
    objects (the medical record), and direct uploads are named by their pending row before any
    byte arrives, so only true orphans are removed. Objects outside the documents prefix are not
    looked at. One query per listing page, on the unique storage_key indexes.
    """
    now = now or timezone.now()
    stored_before = now - timedelta(seconds=settings.DOCUMENT_ORPHAN_GRACE_SECONDS)
    removed = 0
    for page in storage.list_stored():
        candidates = {key for key, stored_at in page if stored_at < stored_before}
        if not candidates:
            continue
        named = set(Document.objects.filter(storage_key__in=candidates).values_list("storage_key", flat=True))
        named |= set(
            DocumentVersion.objects.filter(storage_key__in=candidates).values_list("storage_key", flat=True)
        )
        for key in sorted(candidates - named):
            logger.warning("orphan document object %s (no row names it): removed", key)
            storage.delete_object(key)
            removed += 1
    return removed


# --- deletion and downloads ---------------------------------------------------------------------
def document_soft_delete(*, document: Document) -> None:
    """Hide the document from every read; the rows and stored objects stay (medical record)."""
    now = timezone.now()
    Document.objects.filter(pk=document.pk, is_deleted=False).update(
        is_deleted=True, deleted_at=now, updated_at=now
    )
    document.is_deleted = True
    document.deleted_at = now
    _announce_documents_changed(document.tenant_id)


def record_download(
    *, document: Document, user: User, through: str, version: int | None = None
) -> DocumentAccess:
    return DocumentAccess.objects.create(
        tenant_id=document.tenant_id,
        document=document,
        version=version or document.version,
        user=user,
        through=through,
    )


# --- patient summary report ---------------------------------------------------------------------
def report_request(*, tenant: Tenant, requested_by: User, patient: Patient) -> tuple[Document, bool]:
    """The patient's pending report, or a new one queued for generate_report; (document, created).

    The partial unique constraint (one pending report per patient) decides between two concurrent
    requests: the loser finds the winner's document. A pending report that has waited longer than
    REPORT_STALE_AFTER_SECONDS is queued again (its first queueing may have been lost).
    """
    existing = selectors.pending_report(tenant=tenant, patient_id=patient.pk)
    if existing is not None:
        report_requeue_if_stale(document=existing)
        return existing, False
    today = timezone.localdate()
    try:
        with transaction.atomic():
            document = Document.objects.create(
                tenant=tenant,
                patient=patient,
                uploaded_by=requested_by,
                category=DocumentCategory.REPORT,
                title=_("Patient summary, %(date)s")
                % {"date": f"{today:%Y-%m-%d}"},  # the requester's language
                original_filename=clean_display_filename(f"summary-{patient.mrn}-{today:%Y%m%d}.pdf"),
                storage_key=storage.new_storage_key(tenant.pk),
                content_type="application/pdf",
                status=DocumentStatus.PENDING,
            )
            _announce_documents_changed(tenant.pk)
    except IntegrityError:
        existing = selectors.pending_report(tenant=tenant, patient_id=patient.pk)
        if existing is None:
            raise
        return existing, False
    _queue_report(document)
    return document, True


def _queue_report(document: Document) -> None:
    queue_task("documents.generate_report", clinic_id=document.tenant_id, patient_id=document.patient_id)


def report_requeue_if_stale(*, document: Document, now: datetime | None = None) -> bool:
    """Queue generate_report again if this pending report was last queued (its `updated_at`)
    more than REPORT_STALE_AFTER_SECONDS ago; True if it was.

    The conditional UPDATE both checks and claims: of two sweeps or requests at the same moment,
    one moves `updated_at` and queues, the other finds the report fresh. A report queued twice
    anyway renders once (report_store stores only a report still pending).
    """
    now = now or timezone.now()
    stale_before = now - timedelta(seconds=settings.REPORT_STALE_AFTER_SECONDS)
    claimed = Document.objects.filter(
        pk=document.pk, status=DocumentStatus.PENDING, updated_at__lt=stale_before
    ).update(updated_at=now)
    if not claimed:
        return False
    document.updated_at = now
    logger.warning("patient summary report %s was still pending: queued again", document.pk)
    _queue_report(document)
    return True


def reports_requeue_stale(*, now: datetime | None = None) -> int:
    """Queue again every pending report of every clinic that has waited too long (the sweep's
    work; the caller disables scopes). Returns how many were queued."""
    now = now or timezone.now()
    stale_before = now - timedelta(seconds=settings.REPORT_STALE_AFTER_SECONDS)
    stale = list(selectors.stale_pending_reports(updated_before=stale_before))  # read all, then claim
    return sum(report_requeue_if_stale(document=document, now=now) for document in stale)


def report_store(*, document: Document, pdf_path: str) -> Document:
    """Store the rendered PDF of a pending report and mark it ready.

    A report rendered twice at once (a delivery that outlived REPORT_STALE_AFTER_SECONDS and its
    re-queued copy) is stored once: each rendering goes to a key of its own, and only the one
    that finds the locked row still pending records it; the other removes its object again.
    """
    digest, size = hashlib.sha256(), 0
    with open(pdf_path, "rb") as handle:
        head = handle.read(HEAD_BYTES)
        handle.seek(0)
        while chunk := handle.read(settings.DOCUMENT_UPLOAD_CHUNK_BYTES):
            digest.update(chunk)
            size += len(chunk)
        handle.seek(0)
        if not head.startswith(b"%PDF-"):
            raise ValueError("the report renderer wrote no PDF")
        key = storage.save_file(
            storage.new_storage_key(document.tenant_id), handle, content_type="application/pdf"
        )
    try:
        with transaction.atomic():
            locked = Document.objects.select_for_update().get(pk=document.pk)
            if locked.status != DocumentStatus.PENDING:
                storage.delete_object(key)
                return locked
            locked.storage_key = key
            locked.size = size
            locked.sha256 = digest.hexdigest()
            locked.status = DocumentStatus.READY
            locked.save(update_fields=["storage_key", "size", "sha256", "status", "updated_at"])
            _record_version(locked)
    except BaseException:
        storage.delete_object(key)
        raise
    return locked


def report_reject(*, document: Document) -> None:
    """Mark a report that could not be rendered rejected (unless another delivery stored it)."""
    Document.objects.filter(pk=document.pk, status=DocumentStatus.PENDING).update(
        status=DocumentStatus.REJECTED, updated_at=timezone.now()
    )
