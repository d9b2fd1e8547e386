from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from keneyapp.core.admin import TenantScopedAdmin
from keneyapp.core.admin_services import ServiceAdminMixin, ServiceModelForm, SoftDeleteAdminMixin
from patients import selectors, services
from patients.models import Patient


class PatientAdminForm(ServiceModelForm):
    """The API's patient services: record numbers, unique email and number per clinic, search text,
    and the rules on each value (a date of birth not in the future...)."""

    class Meta:
        model = Patient
        fields = ("tenant", *services.PATIENT_WRITABLE_FIELDS)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk is None and "mrn" in self.fields:
            self.fields["mrn"].help_text = _(
                "Leave empty: the clinic's next record number is assigned on saving."
            )

    def save_through_service(self) -> Patient:
        if self.instance.pk is None:
            return services.patient_create(
                tenant=self.cleaned_data["tenant"], created_by=self.request_user, data=self.cleaned_data
            )
        changes = {name: self.cleaned_data[name] for name in self.changed_data}
        return services.patient_update(patient=self.instance, data=changes)


@admin.register(Patient)
class PatientAdmin(ServiceAdminMixin, SoftDeleteAdminMixin, TenantScopedAdmin):
    role_resource = "patients"
    audit_patient = "pk"
    form = PatientAdminForm
    list_display = ("mrn", "last_name", "first_name", "date_of_birth", "sex", "phone_number", "email")
    list_display_links = ("mrn", "last_name")
    list_filter = ("sex",)
    list_select_related = ("tenant",)
    search_fields = ("search_text",)  # see get_search_results
    search_help_text = _("Name, email, phone or record number; accents and case are ignored.")
    ordering = ("last_name", "first_name", "id")
    list_per_page = 50
    show_full_result_count = False  # one COUNT per page, not two
    soft_delete_message = _("Deleted patients are hidden but kept in the record.")
    readonly_fields = ("created_at", "updated_at", "created_by")
    fieldsets = (
        (None, {"fields": ("tenant", "mrn", ("first_name", "last_name"), ("date_of_birth", "sex"))}),
        (_("Contact"), {"fields": ("email", "phone_number", "address", "emergency_contact")}),
        (_("Clinical"), {"fields": ("allergies", "notes")}),
        (_("Record"), {"fields": ("created_at", "updated_at", "created_by"), "classes": ("collapse",)}),
    )

    def get_fieldsets(self, request, obj=None):
        fieldsets = super().get_fieldsets(request, obj)
        # A new record has no dates nor author yet.
        return (
            fieldsets
            if obj is not None
            else [(n, o) for n, o in fieldsets if "created_at" not in o["fields"]]
        )

    def get_queryset(self, request):
        # Soft-deleted patients are gone for everyone, as in the API.
        return super().get_queryset(request).filter(is_deleted=False)

    def get_search_results(self, request, queryset, search_term):
        # The API's search: every word, case- and accent-insensitive, on one indexed column.
        return selectors.patient_filter_search(queryset, search_term), False

    def soft_delete(self, obj: Patient) -> None:
        services.patient_soft_delete(patient=obj)
