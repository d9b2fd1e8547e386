from django.contrib import admin, messages
from django.http import Http404, HttpResponseRedirect
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext

from documents import admin_summary, downloads, services
from documents.models import Document, DocumentAccess, DocumentVersion
from keneyapp.core import audit
from keneyapp.core.admin import TenantScopedAdmin, is_platform_admin
from keneyapp.core.admin_services import SoftDeleteAdminMixin
from keneyapp.core.errors import ConflictError
from patients.models import Patient


def _download_link(document: Document) -> str:
    if document.pk is None or document.status != "ready":
        return "-"
    url = reverse("admin:documents_document_download", args=[document.pk])
    return format_html('<a href="{}">{}</a>', url, pgettext("link to a document's file", "Download"))


class ReadOnlyRowsMixin:
    """Documents enter through the API's checked upload paths only; the admin reads them."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class DocumentVersionInline(admin.TabularInline):
    model = DocumentVersion
    fields = ("version", "original_filename", "content_type", "size", "sha256", "uploaded_by", "created_at")
    readonly_fields = fields
    extra = 0
    can_delete = False
    ordering = ("-version",)

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Document)
class DocumentAdmin(ReadOnlyRowsMixin, SoftDeleteAdminMixin, TenantScopedAdmin):
    role_resource = "documents"
    audit_patient = "patient_id"
    list_display = (
        "title",
        "patient",
        "category",
        "status",
        "content_type",
        "size",
        "version",
        "created_at",
        "download",
    )
    list_filter = ("category", "status")
    list_select_related = ("tenant", "patient")
    search_fields = ("title", "original_filename", "patient__search_text")
    ordering = ("-created_at", "-id")
    list_per_page = 50
    show_full_result_count = False
    soft_delete_message = _("Deleted documents are hidden but kept in the record.")
    fields = (
        "patient", "category", "title", "original_filename", "content_type", "size", "sha256", "status",
        "version", "uploaded_by", "created_at", "updated_at", "download",
    )  # fmt: skip
    readonly_fields = fields
    inlines = [DocumentVersionInline]

    @admin.display(description=_("file"))
    def download(self, document: Document) -> str:
        return _download_link(document)

    def get_queryset(self, request):
        # Deleted documents are gone for everyone, as in the API.
        return super().get_queryset(request).filter(is_deleted=False)

    def soft_delete(self, obj: Document) -> None:
        services.document_soft_delete(document=obj)

    def get_urls(self):
        download = self.admin_site.admin_view(self.download_view)
        return [
            path("<id:object_id>/download/", download, name="documents_document_download"),
            *super().get_urls(),
        ]

    def download_view(self, request, object_id: int):
        """The same checks as the API: the caller's clinic (get_queryset) and role; else 404."""
        document = self.get_queryset(request).filter(pk=object_id).first()
        if document is None:
            self._audit(audit.Action.DOWNLOAD, object_id=object_id, outcome=audit.Outcome.ATTEMPTED)
            raise Http404
        if not self._role_allows(request, "download"):
            self._audit(audit.Action.DOWNLOAD, document, outcome=audit.Outcome.DENIED)
            raise Http404
        try:
            response = downloads.download_response(document=document, user=request.user, through="admin")
            self._audit(audit.Action.DOWNLOAD, document)
            return response
        except ConflictError as error:
            messages.error(request, error.detail)
            return HttpResponseRedirect(reverse("admin:documents_document_changelist"))


@admin.register(DocumentAccess)
class DocumentAccessAdmin(ReadOnlyRowsMixin, TenantScopedAdmin):
    """Who downloaded what: clinic administrators only (roles table), read-only for everyone."""

    role_resource = "document_access"
    list_display = ("accessed_at", "user", "document", "version", "through")
    list_filter = ("through",)
    list_select_related = ("tenant", "user", "document")
    ordering = ("-accessed_at", "-id")
    list_per_page = 100
    show_full_result_count = False
    date_hierarchy = "accessed_at"

    def has_delete_permission(self, request, obj=None):
        return is_platform_admin(request)


class PatientDocumentInline(admin.TabularInline):
    """The patient's documents on the patient's page (read-only, newest first)."""

    model = Document
    fk_name = "patient"
    role_resource = "documents"
    fields = ("title", "category", "status", "content_type", "size", "version", "created_at", "download")
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True
    ordering = ("-created_at", "-id")
    verbose_name_plural = _("documents")

    @admin.display(description=_("file"))
    def download(self, document: Document) -> str:
        return _download_link(document)

    def get_queryset(self, request):
        return super().get_queryset(request).filter(is_deleted=False)

    def has_view_permission(self, request, obj=None):
        return DocumentAdmin._role_allows(self, request, "view")

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


# The patient's page shows its documents, but patients must not import documents (dependencies
# point one way: documents may refer to patients, never the reverse). So documents adds its inline
# to the already registered patient admin here; patients' admin is registered first because
# "patients" comes before "documents" in INSTALLED_APPS (admin autodiscovery follows that order).
_patient_admin = admin.site._registry[Patient]
_patient_admin.inlines = [*_patient_admin.inlines, PatientDocumentInline]
_patient_get_inline_instances = _patient_admin.get_inline_instances


def _patient_inline_instances(request, obj=None):
    # Shown on the change page only (a new patient has no documents), and only when the page is
    # read: the inline is read-only, so a save has nothing to take from it, and a patient form
    # posted without the inline's management form (an API-less script, a test) must still save.
    instances = _patient_get_inline_instances(request, obj)
    shown = obj is not None and request.method in ("GET", "HEAD")
    return [inline for inline in instances if shown or not isinstance(inline, PatientDocumentInline)]


_patient_admin.get_inline_instances = _patient_inline_instances

# The patient's summary (documents/admin_summary.py): the patient list's links open it.
admin_summary.install(_patient_admin)
