"""Reads of documents. Every function takes the clinic; nothing here can see another clinic."""

from collections.abc import Mapping
from typing import Any

from django.db.models import Prefetch, QuerySet
from django.utils.translation import gettext

from documents.models import Document, DocumentCategory, DocumentStatus, DocumentVersion
from keneyapp.accounts.models import Tenant
from keneyapp.core.resolvers import resolved
from keneyapp.core.row_counts import row_count

# What the API answers for a document, in order; built from `.values()` (no instances).
DOCUMENT_COLUMNS = (
    "id",
    "patient_id",
    "category",
    "title",
    "original_filename",
    "content_type",
    "size",
    "sha256",
    "status",
    "version",
    "uploaded_by_id",
    "created_at",
    "updated_at",
)
VERSION_COLUMNS = (
    "version",
    "original_filename",
    "content_type",
    "size",
    "sha256",
    "uploaded_by_id",
    "created_at",
)
# Maintained by the triggers of migration documents/0006: the clinic's documents not deleted, of
# patients not deleted (what the API shows).
VISIBLE_DOCUMENTS_COUNTER = "documents.visible"


def document_queryset(*, tenant: Tenant | int) -> QuerySet[Document]:
    """The clinic's documents that are not deleted, of active patients: the starting point of
    every document read (list, detail, versions, download, confirm, report). A soft-deleted
    patient's documents stay in storage and in the admin (the legal record), nowhere else."""
    return Document.objects.filter(tenant=tenant, is_deleted=False, patient_deleted=False)


def document_filter(
    queryset: QuerySet[Document], *, patient_id: int | None = None, category: str | None = None
) -> QuerySet[Document]:
    if patient_id is not None:
        queryset = queryset.filter(patient_id=patient_id)
    if category:
        queryset = queryset.filter(category=category)
    return queryset


def document_count(*, tenant: Tenant | int) -> int:
    """The clinic's documents (not deleted) of active patients: the trigger-maintained count, one
    read."""
    return row_count(tenant=tenant, counter=VISIBLE_DOCUMENTS_COUNTER)


def document_page(
    *, tenant: Tenant, patient_id: int | None, category: str | None, skip: int, limit: int
) -> tuple[list[dict], int]:
    """A page of documents, newest first, and the total behind it: two queries whatever the size
    (the unfiltered total is the trigger-maintained counter)."""
    queryset = document_filter(document_queryset(tenant=tenant), patient_id=patient_id, category=category)
    total = queryset.count() if (patient_id is not None or category) else document_count(tenant=tenant)
    if skip >= total:
        return [], total
    rows = queryset.order_by("-created_at", "-id").values(*DOCUMENT_COLUMNS)[skip : skip + limit]
    return [document_row_as_api(row) for row in rows], total


def document_row_as_api(row: dict) -> dict:
    item = dict(row)
    item["uploaded_by"] = item.pop("uploaded_by_id")
    return item


def document_detail(*, tenant: Tenant, document_id: int) -> dict | None:
    """One document with all its versions (newest first): two queries."""
    row = document_queryset(tenant=tenant).filter(pk=document_id).values(*DOCUMENT_COLUMNS).first()
    if row is None:
        return None
    item = document_row_as_api(row)
    versions = DocumentVersion.objects.filter(tenant=tenant, document_id=document_id).order_by("-version")
    item["versions"] = [document_row_as_api(version) for version in versions.values(*VERSION_COLUMNS)]
    return item


def document_version_resolve(*, document: Document, version: int, field: str = "version") -> DocumentVersion:
    """The version of `document` a number in a request names, or the 400 naming `field`
    (keneyapp/core/resolvers.py)."""
    found = DocumentVersion.objects.filter(tenant=document.tenant_id, document=document, version=version)
    return resolved(found.first(), field=field, unknown=gettext("No such version of this document."))


def document_get(*, tenant: Tenant | int, document_id: int) -> Document | None:
    return document_queryset(tenant=tenant).filter(pk=document_id).first()


def document_as_api(document: Document) -> dict:
    return document_row_as_api({column: getattr(document, column) for column in DOCUMENT_COLUMNS})


def patient_documents_for_report(*, tenant: Tenant | int, patient_id: int) -> list[Mapping[str, Any]]:
    """The patient's ready documents, newest first, for the summary report."""
    return list(
        document_queryset(tenant=tenant)
        .filter(patient_id=patient_id, status=DocumentStatus.READY)
        .order_by("-created_at", "-id")
        .values("title", "category", "content_type", "size", "created_at", "version")
    )


def pending_report(*, tenant: Tenant | int, patient_id: int) -> Document | None:
    return (
        document_queryset(tenant=tenant)
        .filter(patient_id=patient_id, category=DocumentCategory.REPORT, status=DocumentStatus.PENDING)
        .first()
    )


def stale_pending_reports(*, updated_before) -> QuerySet[Document]:
    """Pending summary reports last queued before `updated_before`, across clinics (the sweep):
    their ids only (the partial unique index of pending reports holds exactly these rows)."""
    return (
        Document.objects.filter(
            category=DocumentCategory.REPORT,
            status=DocumentStatus.PENDING,
            is_deleted=False,
            patient_deleted=False,
            updated_at__lt=updated_before,
        )
        .only("pk", "tenant_id", "patient_id")
        .order_by("updated_at")
    )


def expired_pending_uploads(*, now, limit: int = 500) -> QuerySet[Document]:
    """Direct uploads never confirmed before their expiry, across clinics (cleanup_old_files)."""
    return Document.objects.filter(status=DocumentStatus.PENDING, upload_expires_at__lt=now).order_by(
        "upload_expires_at"
    )[:limit]


def patient_documents_with_versions(
    *, tenant: Tenant | int, patient_id: int, limit: int = 50
) -> list[Document]:
    """The patient's documents, newest first, each with its versions (newest first): two queries
    whatever the number of documents (the admin's patient summary)."""
    versions = Prefetch(
        "versions", queryset=DocumentVersion.objects.order_by("-version"), to_attr="versions_newest_first"
    )
    queryset = document_filter(document_queryset(tenant=tenant), patient_id=patient_id)
    return list(queryset.order_by("-created_at", "-id").prefetch_related(versions)[:limit])
