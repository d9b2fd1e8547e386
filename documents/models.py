from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from keneyapp.core.scoping import ClinicScopedManager

ACTIVE = Q(is_deleted=False)
# What every API read shows: not deleted, of a patient not deleted (see Document.patient_deleted).
VISIBLE = Q(is_deleted=False, patient_deleted=False)


class DocumentCategory(models.TextChoices):
    LAB_RESULT = "lab_result", _("Lab result")
    IMAGING = "imaging", _("Imaging")
    REFERRAL = "referral", _("Referral letter")
    CONSENT = "consent", _("Consent form")
    PRESCRIPTION = "prescription", _("Prescription")
    REPORT = "report", _("Patient summary report")
    OTHER = "other", _("Other")


# Categories a client may upload into; `report` is written by the report task only.
UPLOAD_CATEGORIES = tuple(value for value in DocumentCategory.values if value != DocumentCategory.REPORT)


class DocumentStatus(models.TextChoices):
    PENDING = "pending", _("Pending")  # presigned and not confirmed yet, or a report being rendered
    READY = "ready", _("Ready")
    REJECTED = "rejected", _("Rejected")  # a report that could not be rendered


class Document(models.Model):
    """A file of a patient's record. The file fields describe the current (latest) version;
    every version, the current one included, is also a DocumentVersion row."""

    # No single-column tenant index: the composite indexes below all lead with it.
    tenant = models.ForeignKey(
        "accounts.Tenant",
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
        verbose_name=_("clinic"),
    )
    patient = models.ForeignKey(
        "patients.Patient",
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
        verbose_name=_("patient"),
    )
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("uploaded by"),
    )
    category = models.CharField(_("category"), max_length=20, choices=DocumentCategory.choices)
    title = models.CharField(_("title"), max_length=200)
    # The client's file name, cleaned of path parts and control characters: for display only,
    # never used to build a path or a key.
    original_filename = models.CharField(_("original file name"), max_length=255, blank=True)
    # Chosen by the server ("documents/<clinic>/<random>"), never derived from the client's name.
    storage_key = models.CharField(_("storage key"), max_length=255, unique=True)
    content_type = models.CharField(_("type detected from the bytes"), max_length=100, blank=True)
    size = models.PositiveBigIntegerField(_("size"), default=0)
    sha256 = models.CharField(_("SHA-256"), max_length=64, blank=True)
    status = models.CharField(
        _("status"), max_length=10, choices=DocumentStatus.choices, default=DocumentStatus.READY
    )
    version = models.PositiveIntegerField(_("version"), default=1)
    # A pending direct upload not confirmed by then is removed (cleanup_old_files).
    upload_expires_at = models.DateTimeField(_("upload expires at"), null=True, blank=True)
    is_deleted = models.BooleanField(_("deleted"), default=False)
    # The patient's is_deleted, kept by the database (core.migration_operations.MirrorPatientDeleted):
    # reads leave a deleted patient's documents out by this column (the list's partial indexes, the
    # trigger-kept count) instead of joining patients.
    patient_deleted = models.BooleanField(
        _("patient deleted"), default=False, db_default=False, editable=False
    )
    deleted_at = models.DateTimeField(_("deleted at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    objects = ClinicScopedManager()

    class Meta:
        verbose_name = _("document")
        verbose_name_plural = _("documents")
        constraints = [
            # "Asking twice while one is pending returns the pending one": one pending report per
            # patient, enforced by the database so two concurrent requests cannot both create one.
            models.UniqueConstraint(
                fields=["tenant", "patient"],
                condition=Q(
                    category=DocumentCategory.REPORT, status=DocumentStatus.PENDING, is_deleted=False
                ),
                name="document_one_pending_report_per_patient",
            ),
        ]
        indexes = [
            # The clinic's list (newest first) and a patient's documents.
            models.Index(
                fields=["tenant", "-created_at", "-id"], name="idx_document_tenant_created", condition=VISIBLE
            ),
            models.Index(
                fields=["tenant", "patient", "-created_at", "-id"],
                name="idx_document_patient",
                condition=VISIBLE,
            ),
            # cleanup_old_files: the few pending direct uploads, across clinics.
            models.Index(
                fields=["upload_expires_at"],
                name="idx_document_pending_upload",
                condition=Q(status=DocumentStatus.PENDING, upload_expires_at__isnull=False),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.title} ({self.get_category_display()}, v{self.version})"


class DocumentVersion(models.Model):
    """One stored file of a document. Older versions stay downloadable in storage and listed here."""

    tenant = models.ForeignKey(
        "accounts.Tenant",
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
        verbose_name=_("clinic"),
    )
    document = models.ForeignKey(
        Document, on_delete=models.CASCADE, related_name="versions", verbose_name=_("document")
    )
    version = models.PositiveIntegerField(_("version"))
    original_filename = models.CharField(_("original file name"), max_length=255, blank=True)
    storage_key = models.CharField(_("storage key"), max_length=255, unique=True)
    content_type = models.CharField(_("content type"), max_length=100)
    size = models.PositiveBigIntegerField(_("size"))
    sha256 = models.CharField(_("SHA-256"), max_length=64)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("uploaded by"),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    objects = ClinicScopedManager()

    class Meta:
        verbose_name = _("document version")
        verbose_name_plural = _("document versions")
        constraints = [
            models.UniqueConstraint(fields=["document", "version"], name="document_version_unique_number"),
        ]

    def __str__(self) -> str:
        return _("version %(version)s of document %(id)s") % {"version": self.version, "id": self.document_id}


class DocumentAccess(models.Model):
    """Who downloaded which document, and when: written on every download (API and admin)."""

    tenant = models.ForeignKey(
        "accounts.Tenant",
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
        verbose_name=_("clinic"),
    )
    document = models.ForeignKey(
        Document, on_delete=models.PROTECT, related_name="+", verbose_name=_("document")
    )
    version = models.PositiveIntegerField(_("version"))
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("user")
    )
    accessed_at = models.DateTimeField(_("accessed at"), auto_now_add=True)
    through = models.CharField(
        _("through"), max_length=10, choices=[("api", _("API")), ("admin", _("Admin"))]
    )

    objects = ClinicScopedManager()

    class Meta:
        verbose_name = _("document download")
        verbose_name_plural = _("document downloads")
        indexes = [models.Index(fields=["tenant", "-accessed_at"], name="idx_document_access_tenant")]

    def __str__(self) -> str:
        return _("document %(id)s downloaded by user %(user)s (%(through)s)") % {
            "id": self.document_id,
            "user": self.user_id,
            "through": self.get_through_display(),
        }
