from django import forms
from django.contrib import admin, messages

from keneyapp.core.admin import ConstraintValidatingFormMixin, TenantScopedAdmin
from patients import selectors, services
from patients.cache import invalidate_patients
from patients.models import Patient


class PatientAdminForm(ConstraintValidatingFormMixin, forms.ModelForm):
    # The active-email constraint reads is_deleted, which the form leaves out.
    validated_constraints = {"patient_unique_active_email": "email"}

    class Meta:
        model = Patient
        fields = (
            "tenant", "mrn", "first_name", "last_name", "date_of_birth", "sex", "email",
            "phone_number", "address", "emergency_contact", "allergies", "notes",
        )  # fmt: skip


@admin.register(Patient)
class PatientAdmin(TenantScopedAdmin):
    role_resource = "patients"
    form = PatientAdminForm
    list_display = ("mrn", "last_name", "first_name", "date_of_birth", "sex", "phone_number", "email")
    list_display_links = ("mrn", "last_name")
    list_filter = ("sex",)
    list_select_related = ("tenant",)
    search_fields = ("search_text",)  # see get_search_results
    search_help_text = "Name, email, phone or record number; accents and case are ignored."
    ordering = ("last_name", "first_name", "id")
    list_per_page = 50
    show_full_result_count = False  # one COUNT per page, not two
    readonly_fields = ("created_at", "updated_at", "created_by")
    fieldsets = (
        (None, {"fields": ("tenant", "mrn", ("first_name", "last_name"), ("date_of_birth", "sex"))}),
        ("Contact", {"fields": ("email", "phone_number", "address", "emergency_contact")}),
        ("Clinical", {"fields": ("allergies", "notes")}),
        ("Record", {"fields": ("created_at", "updated_at", "created_by"), "classes": ("collapse",)}),
    )

    def get_queryset(self, request):
        # Soft-deleted patients are gone for everyone, as in the API.
        return super().get_queryset(request).filter(is_deleted=False)

    def get_search_results(self, request, queryset, search_term):
        # The API's search: every word, case- and accent-insensitive, on one indexed column.
        return selectors.patient_filter_search(queryset, search_term), False

    def save_model(self, request, obj, form, change):
        if not change:
            obj.created_by = request.user
        services.patient_prepare_admin_save(obj)
        # The save invalidates the clinic's cached reads; when a platform admin moves the patient
        # to another clinic, the former clinic's reads must miss too.
        moved_from = None
        if change and "tenant" in form.changed_data:
            moved_from = Patient.objects.filter(pk=obj.pk).values_list("tenant_id", flat=True).first()
        super().save_model(request, obj, form, change)
        if moved_from is not None and moved_from != obj.tenant_id:
            invalidate_patients(tenant_id=moved_from, patient_id=obj.pk)

    def delete_model(self, request, obj):
        services.patient_soft_delete(patient=obj)

    def delete_queryset(self, request, queryset):
        for patient in queryset:
            services.patient_soft_delete(patient=patient)
        messages.info(request, "Deleted patients are hidden but kept in the record.")
