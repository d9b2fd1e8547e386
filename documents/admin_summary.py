"""The patient's summary in the admin: what staff open a patient for, before the edit form.

Name, age and sex, record number, an allergies banner, upcoming and recent appointments, the
documents with their versions, and the buttons: book (the booking form pre-filled with the
patient), upload a document, ask for the summary report, edit. Clinical notes only for the roles
allowed by roles.FIELD_PERMISSIONS (the patient admin's `denied_fields`, as its forms).

It lives in documents because documents may read patients and appointments (the layers in
pyproject.toml); patients names no domain. `install()` adds the pages to the registered patient
admin and points its changelist's links here.

The upload is the API's: the same streaming handler (documents/uploads.py: counted, hashed,
sniffed, refused past DOCUMENT_MAX_BYTES without reading the rest) and the same service
(documents/services.py::document_upload: type and emptiness checks, storage, the version row).
The report is the API's report_request. Every page is the patient admin's: its clinic-scoped
queryset (another clinic's patient is a 404, recorded as an attempt), its role checks, its audit.
"""

from datetime import date

from django import forms
from django.contrib import messages
from django.contrib.admin.views.main import ChangeList
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import Http404, HttpResponseNotAllowed, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from rest_framework.exceptions import APIException

from appointments.models import AppointmentStatus
from appointments.selectors import appointment_filter, appointment_queryset
from documents import selectors, services
from documents.models import UPLOAD_CATEGORIES, Document, DocumentCategory
from documents.serializers import default_title
from documents.uploads import FILE_FIELD, DocumentTooLarge, DocumentUploadHandler, OneFileOnly
from keneyapp.core import audit
from keneyapp.core.admin import is_platform_admin
from keneyapp.core.clinic_time import clinic_zone
from patients.models import Patient

APPOINTMENTS_SHOWN = 10  # upcoming, and recent: the rest is one click away in the appointments list
DOCUMENTS_SHOWN = 50
TEMPLATE = "admin/documents/patient_summary.html"


class SummaryUploadForm(forms.Form):
    """The upload's other fields; the file itself arrives through the streaming handler."""

    category = forms.ChoiceField(
        label=gettext_lazy("Category"),
        choices=[(value, DocumentCategory(value).label) for value in UPLOAD_CATEGORIES],
    )
    title = forms.CharField(label=gettext_lazy("Title"), max_length=200, required=False)


def age_on(born: date, today: date) -> int:
    return today.year - born.year - ((today.month, today.day) < (born.month, born.day))


def summary_url(patient_id: int) -> str:
    return reverse("admin:patients_patient_summary", args=[patient_id])


def _appointment_rows(patient: Patient, *, upcoming: bool, zone) -> list[dict]:
    """One query: the next (or last) appointments, provider's name joined, times in the clinic's zone."""
    now = timezone.now()
    queryset = appointment_filter(appointment_queryset(tenant=patient.tenant_id), patient_id=patient.pk)
    if upcoming:
        queryset = appointment_filter(queryset, starts_from=now).order_by("appointment_date", "id")
    else:
        queryset = appointment_filter(queryset, starts_before=now).order_by("-appointment_date", "-id")
    rows = list(
        queryset.values(
            "id",
            "appointment_date",
            "ends_at",
            "status",
            "reason",
            "provider__first_name",
            "provider__last_name",
        )[:APPOINTMENTS_SHOWN]
    )
    for row in rows:
        row["starts"] = row["appointment_date"].astimezone(zone)
        row["ends"] = row["ends_at"].astimezone(zone)
        row["status_label"] = AppointmentStatus(row["status"]).label
        row["provider_name"] = " ".join(
            part for part in (row["provider__first_name"], row["provider__last_name"]) if part
        )
    return rows


class PatientSummary:
    """The summary's views, bound to the registered patient admin (a TenantScopedAdmin)."""

    def __init__(self, patient_admin):
        self.patient_admin = patient_admin

    def urls(self):
        site = self.patient_admin.admin_site
        return [
            path(
                "<id:object_id>/summary/", site.admin_view(self.summary_view), name="patients_patient_summary"
            ),
            path(
                "<id:object_id>/summary/upload/",
                site.admin_view(self.upload_view),
                name="patients_patient_summary_upload",
            ),
            path(
                "<id:object_id>/summary/report/",
                site.admin_view(self.report_view),
                name="patients_patient_summary_report",
            ),
        ]

    # --- checks ---
    def _may(self, request, action: str) -> bool:
        return is_platform_admin(request) or request.user.role_allows(action)

    def _patient(self, request, object_id) -> Patient:
        """The caller's clinic's patient (the admin's queryset; get_object records the view or the
        attempt); 404 for another clinic's or an unknown one; 403 for a role that may not view."""
        admin = self.patient_admin
        if not admin.has_view_permission(request):
            admin._denied(request, audit.Action.VIEW, object_id)
            raise PermissionDenied
        patient = admin.get_object(request, str(object_id))
        if patient is None:
            raise Http404(_("No such patient in this clinic."))
        return patient

    def _require(self, request, patient: Patient, action: str, audit_action: str) -> None:
        if not self._may(request, action):
            self.patient_admin._audit(audit_action, patient, outcome=audit.Outcome.DENIED)
            raise PermissionDenied

    # --- the page ---
    def summary_view(self, request, object_id):
        if request.method not in ("GET", "HEAD"):
            return HttpResponseNotAllowed(["GET"])
        patient = self._patient(request, object_id)
        return self.render(request, patient)

    def render(
        self, request, patient: Patient, *, upload_form=None, upload_error: str = "", status: int = 200
    ):
        admin = self.patient_admin
        if request.method not in ("GET", "HEAD"):
            admin._audit(audit.Action.VIEW, patient)  # a refused upload shows the page again
        zone = clinic_zone(patient.tenant)
        today = timezone.localtime(timezone.now(), zone).date()
        may_documents = self._may(request, "documents.view")
        context = {
            **admin.admin_site.each_context(request),
            "opts": admin.model._meta,
            "title": patient.full_name,
            "patient": patient,
            "age": age_on(patient.date_of_birth, today),
            "show_notes": "notes" not in admin.denied_fields(request),
            "upcoming": _appointment_rows(patient, upcoming=True, zone=zone),
            "recent": _appointment_rows(patient, upcoming=False, zone=zone),
            "may_documents": may_documents,
            "documents": (
                selectors.patient_documents_with_versions(
                    tenant=patient.tenant_id, patient_id=patient.pk, limit=DOCUMENTS_SHOWN
                )
                if may_documents
                else []
            ),
            "change_url": reverse("admin:patients_patient_change", args=[patient.pk]),
            "may_edit": admin.has_change_permission(request, patient),
            "book_url": f"{reverse('admin:appointments_appointment_add')}?patient={patient.pk}",
            "may_book": self._may(request, "appointments.add"),
            "appointments_url": (
                f"{reverse('admin:appointments_appointment_changelist')}?patient__id__exact={patient.pk}"
            ),
            "may_upload": self._may(request, "documents.add"),
            "upload_form": upload_form or SummaryUploadForm(),
            "upload_error": upload_error,
            "file_field": FILE_FIELD,
            "may_report": self._may(request, "documents.report"),
        }
        return TemplateResponse(request, TEMPLATE, context, status=status)

    # --- upload: the API's streaming handler and service ---
    @csrf_exempt  # checked by csrf_protect below, once the streaming handler is in place
    def upload_view(self, request, object_id):
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        # Before anything reads the body: the file streams to a temporary file, never into memory.
        handler = DocumentUploadHandler(request)
        request.upload_handlers = [handler]
        try:
            return csrf_protect(self._upload)(request, object_id)
        except (DocumentTooLarge, OneFileOnly) as error:
            # Raised while the body streamed (the CSRF check reads it first): nothing was stored.
            handler.discard()
            patient = self._patient(request, object_id)
            self._require(request, patient, "documents.add", audit.Action.CREATE)
            return self.render(request, patient, upload_error=str(error.detail), status=error.status_code)
        except BaseException:
            handler.discard()
            raise

    def _upload(self, request, object_id):
        patient = self._patient(request, object_id)
        self._require(request, patient, "documents.add", audit.Action.CREATE)
        form = SummaryUploadForm(request.POST)
        upload = request.FILES.get(FILE_FIELD)
        if not form.is_valid() or upload is None:
            error = "" if upload is not None else _("Choose a file to upload.")
            return self.render(request, patient, upload_form=form, upload_error=error, status=400)
        try:
            with transaction.atomic():
                document = services.document_upload(
                    tenant=patient.tenant,
                    uploaded_by=request.user,
                    patient_id=patient.pk,
                    category=form.cleaned_data["category"],
                    title=default_title(
                        form.cleaned_data["title"], services.clean_display_filename(upload.name)
                    ),
                    upload=upload,
                )
                self._record_write(audit.Action.CREATE, Document, document.pk, patient)
        except APIException as error:
            # The service's refusals (a type not accepted, a declared type the content belies, an
            # empty file; storage down: 503): the API's status and words, on the page.
            return self.render(
                request,
                patient,
                upload_form=form,
                upload_error=_plain(error.detail),
                status=error.status_code,
            )
        messages.success(request, _("Document “%(title)s” uploaded.") % {"title": document.title})
        return HttpResponseRedirect(summary_url(patient.pk))

    # --- the summary report: the API's report_request ---
    def report_view(self, request, object_id):
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        patient = self._patient(request, object_id)
        self._require(request, patient, "documents.report", audit.Action.REPORT)
        with transaction.atomic():
            _report, created = services.report_request(
                tenant=patient.tenant, requested_by=request.user, patient=patient
            )
            self._record_write(audit.Action.REPORT, Patient, patient.pk, patient)
        if created:
            messages.success(request, _("The summary report is being prepared; it appears under Documents."))
        else:
            messages.info(
                request, _("A summary report is already being prepared; it appears under Documents.")
            )
        return HttpResponseRedirect(summary_url(patient.pk))

    def _record_write(self, action: str, model, object_id: int, patient: Patient) -> None:
        """Recorded and stored inside the write's transaction, as the admin's own writes are."""
        audit.record(action, model, object_id=object_id, patient_id=patient.pk, tenant_id=patient.tenant_id)
        trail = audit.current()
        if trail is not None:
            trail.flush()


def _plain(detail) -> str:
    """A DRF error's detail (a string, a list or a field mapping) as one sentence."""
    if isinstance(detail, dict):
        return " ".join(_plain(value) for value in detail.values())
    if isinstance(detail, list):
        return " ".join(_plain(value) for value in detail)
    return str(detail)


class SummaryLinkChangeList(ChangeList):
    """The patient list's links open the summary; the summary links to the edit form."""

    def url_for_result(self, result) -> str:
        return summary_url(result.pk)


def install(patient_admin) -> None:
    """Add the summary pages to the registered patient admin (see documents/admin.py)."""
    summary = PatientSummary(patient_admin)
    get_urls = patient_admin.get_urls
    patient_admin.get_urls = lambda: [*summary.urls(), *get_urls()]
    patient_admin.get_changelist = lambda request, **kwargs: SummaryLinkChangeList
    patient_admin.summary = summary
