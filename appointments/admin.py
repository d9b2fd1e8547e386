from datetime import timedelta

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.utils import timezone

from appointments import selectors
from appointments.models import Appointment, AppointmentStatus, TimeOff, WorkingHours
from appointments.status_rules import action_for_status, can_transition
from keneyapp.accounts.roles import role_can
from keneyapp.core.admin import ClinicRelatedFieldListFilter, TenantScopedAdmin
from keneyapp.core.signals import clinic_data_changed
from patients.selectors import patient_filter_search

FINAL_STATUSES = (AppointmentStatus.COMPLETED, AppointmentStatus.CANCELLED, AppointmentStatus.NO_SHOW)


class AppointmentAdminForm(forms.ModelForm):
    """The API's booking rules in the admin: no double booking, allowed status changes only."""

    class Meta:
        model = Appointment
        fields = (
            "tenant", "patient", "provider", "appointment_date", "duration_minutes", "status",
            "reason", "notes", "cancellation_reason",
        )  # fmt: skip

    def clean(self):
        cleaned = super().clean()
        patient = cleaned.get("patient")
        if patient is not None and patient.is_deleted and "patient" in self.changed_data:
            # The clinic's queryset still holds soft-deleted patients; the API refuses them too.
            self.add_error("patient", "This patient has been deleted.")
        # Staff have only their clinic to choose from; a superuser picks the clinic, and the
        # patient and provider must belong to it.
        tenant = cleaned.get("tenant")
        for name in ("patient", "provider"):
            chosen = cleaned.get(name)
            if tenant is not None and chosen is not None and chosen.tenant_id != tenant.pk:
                self.add_error(name, f"This {name} belongs to another clinic.")
        starts_at, duration = cleaned.get("appointment_date"), cleaned.get("duration_minutes")
        if starts_at is None or duration is None:
            return cleaned
        self.instance.ends_at = starts_at + timedelta(minutes=duration)
        status = cleaned.get("status")
        adding = self.instance.pk is None
        # A new appointment's status needs the role too (a receptionist cannot add one completed).
        if status and (adding or "status" in self.changed_data):
            current = None if adding else self.initial["status"]
            if current is not None and not can_transition(current, status):
                self.add_error("status", f"An appointment that is {current} cannot become {status}.")
            elif not self.request_user.is_superuser and not role_can(
                self.request_user.role, action_for_status(status)
            ):
                self.add_error("status", "Your role may not set this status.")
        current = None if adding else self.initial["status"]
        if current in FINAL_STATUSES and set(self.changed_data) - {"notes", "status"}:
            # As in the API (appointment_closed): a finished visit is history, only notes change.
            raise ValidationError(
                f"An appointment that is {current} can no longer be rescheduled or reassigned.",
                code="appointment_closed",
            )
        provider = cleaned.get("provider")
        if provider is not None and status not in ("cancelled", "no_show"):
            clash = selectors.overlapping_appointment(
                tenant=provider.tenant_id,
                provider_id=provider.pk,
                starts_at=starts_at,
                ends_at=self.instance.ends_at,
                exclude_id=self.instance.pk,
            )
            if clash is not None:
                raise ValidationError(
                    f"{provider.display_name} already has appointment {clash.pk} at that time "
                    f"({clash.appointment_date:%Y-%m-%d %H:%M}).",
                    code="double_booking",
                )
        return cleaned


@admin.register(Appointment)
class AppointmentAdmin(TenantScopedAdmin):
    role_resource = "appointments"
    form = AppointmentAdminForm
    date_hierarchy = "appointment_date"
    list_display = ("appointment_date", "patient", "provider", "status", "duration_minutes", "reason")
    list_filter = ("status", ("provider", ClinicRelatedFieldListFilter), "appointment_date")
    list_select_related = ("patient", "provider", "tenant")
    search_fields = ("patient__search_text",)  # see get_search_results
    search_help_text = "Patient name or record number; accents and case are ignored."
    autocomplete_fields = ("patient", "provider")
    ordering = ("-appointment_date",)
    list_per_page = 50
    show_full_result_count = False
    readonly_fields = (
        "ends_at",
        "cancelled_at",
        "reminder_sent_at",
        "created_by",
        "created_at",
        "updated_at",
    )

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change, **kwargs)
        form.request_user = request.user
        return form

    def get_search_results(self, request, queryset, search_term):
        return patient_filter_search(queryset, search_term, path="patient__search_text"), False

    def has_delete_permission(self, request, obj=None):
        return request.user.is_superuser  # appointments are cancelled, not deleted

    def save_model(self, request, obj, form, change):
        if not change:
            obj.created_by = request.user
        if obj.status == "cancelled" and obj.cancelled_at is None:
            obj.cancelled_at = timezone.now()
        super().save_model(request, obj, form, change)
        clinic_data_changed.send(sender=Appointment, tenant_id=obj.tenant_id)  # as the booking services do


class ScheduleAdmin(TenantScopedAdmin):
    role_resource = "schedules"
    list_select_related = ("provider", "tenant")
    autocomplete_fields = ("provider",)


@admin.register(WorkingHours)
class WorkingHoursAdmin(ScheduleAdmin):
    list_display = ("provider", "weekday", "starts_at", "ends_at")
    list_filter = ("weekday", ("provider", ClinicRelatedFieldListFilter))
    ordering = ("provider", "weekday", "starts_at")


@admin.register(TimeOff)
class TimeOffAdmin(ScheduleAdmin):
    list_display = ("provider", "starts_at", "ends_at", "reason")
    list_filter = (("provider", ClinicRelatedFieldListFilter),)
    date_hierarchy = "starts_at"
