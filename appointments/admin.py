from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _

from appointments import admin_booking, services
from appointments.admin_calendar import CalendarAdminMixin
from appointments.admin_hours import HoursGridAdminMixin
from appointments.admin_today import TodayAdminMixin
from appointments.models import Appointment, AppointmentStatus, TimeOff, WorkingHours
from keneyapp.core.admin import ClinicRelatedFieldListFilter, TenantScopedAdmin
from keneyapp.core.admin_services import ServiceAdminMixin, ServiceModelForm
from keneyapp.core.clinic_time import clinic_zone
from keneyapp.core.errors import ConflictError
from patients.selectors import patient_filter_search


class AppointmentAdminForm(ServiceModelForm):
    """The API's booking services: no double booking, the status table and the roles table, a
    patient and provider of the appointment's clinic, the end computed in UTC, the live event."""

    service_error_fields = {"patient_id": "patient", "provider_id": "provider"}
    permission_denied_field = "status"  # the booking service checks roles for statuses only

    class Meta:
        model = Appointment
        fields = (
            "tenant", "patient", "provider", "appointment_date", "duration_minutes", "status",
            "reason", "notes", "cancellation_reason",
        )  # fmt: skip

    def save_through_service(self) -> Appointment:
        data = self.cleaned_data
        provider = data["provider"]
        if self.instance.pk is None:
            tenant = data["tenant"]
            self.booking = services.appointment_book(
                tenant=tenant,
                created_by=self.request_user,
                patient_id=data["patient"].pk,
                provider_id=provider.pk if provider else None,
                starts_at=data["appointment_date"],
                duration_minutes=data["duration_minutes"],
                reason=data["reason"],
                notes=data.get("notes", ""),  # left out of the form of a role that may not write it
                status=data["status"],
                cancellation_reason=data.get("cancellation_reason", ""),  # not on the add form
                zone=clinic_zone(tenant),
            )
        else:
            self.booking = services.appointment_update(
                appointment=self.instance,
                actor=self.request_user,
                changes=self._changes(),
                zone=clinic_zone(self.instance.tenant),
            )
        appointment = self.booking.appointment
        # Soft warnings, shown once saved (admin_booking): a new booking, or a new time or provider.
        moved = {"appointment_date", "duration_minutes", "provider"} & set(self.changed_data)
        self.warnings = (
            admin_booking.warning_messages(appointment, clinic_zone(appointment.tenant))
            if self.instance.pk is None or moved
            else []
        )
        return appointment

    def _changes(self) -> dict:
        """The fields changed, as the service names them."""
        changes = {}
        for name in self.changed_data:
            value = self.cleaned_data[name]
            if name in ("patient", "provider"):
                changes[f"{name}_id"] = value.pk if value else None
            else:
                changes[name] = value
        if changes.get("status") == AppointmentStatus.CANCELLED:
            changes.setdefault("cancellation_reason", self.cleaned_data["cancellation_reason"])
        return changes

    def conflict_message(self, error: ConflictError) -> str:
        provider = self.cleaned_data.get("provider") or getattr(self.instance, "provider", None)
        if provider is None:
            return error.detail
        tenant = self.instance.tenant if self.instance.pk else self.cleaned_data["tenant"]
        return admin_booking.double_booking_message(
            error,
            tenant=tenant,
            provider=provider,
            starts_at=self.cleaned_data["appointment_date"],
            minutes=self.cleaned_data["duration_minutes"],
            zone=clinic_zone(tenant),
        )


@admin.register(Appointment)
class AppointmentAdmin(TodayAdminMixin, CalendarAdminMixin, ServiceAdminMixin, TenantScopedAdmin):
    role_resource = "appointments"
    audit_patient = "patient_id"
    form = AppointmentAdminForm
    date_hierarchy = "appointment_date"
    list_display = ("appointment_date", "patient", "provider", "status", "duration_minutes", "reason")
    list_filter = ("status", ("provider", ClinicRelatedFieldListFilter), "appointment_date")
    list_select_related = ("patient", "provider", "tenant")
    search_fields = ("patient__search_text",)  # see get_search_results
    search_help_text = _("Patient name or record number; accents and case are ignored.")
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

    def get_search_results(self, request, queryset, search_term):
        return patient_filter_search(queryset, search_term, path="patient__search_text"), False

    # A new appointment has no times of its own yet and is not cancelled: those fields are hidden.
    def get_readonly_fields(self, request, obj=None):
        return super().get_readonly_fields(request, obj) if obj is not None else ()

    def get_exclude(self, request, obj=None):
        excluded = tuple(super().get_exclude(request, obj) or ())
        return excluded if obj is not None else (*excluded, "cancellation_reason")

    def has_delete_permission(self, request, obj=None):
        return request.user.is_superuser  # appointments are cancelled, not deleted

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        for warning in form.warnings:
            messages.warning(request, warning)


class WorkingHoursAdminForm(ServiceModelForm):
    class Meta:
        model = WorkingHours
        fields = ("tenant", *services.WORKING_HOURS_FIELDS)

    def save_through_service(self) -> WorkingHours:
        if self.instance.pk is None:
            return services.working_hours_create(tenant=self.cleaned_data["tenant"], data=self.cleaned_data)
        changes = {name: self.cleaned_data[name] for name in self.changed_data}
        return services.schedule_entry_update(entry=self.instance, data=changes)


class TimeOffAdminForm(ServiceModelForm):
    class Meta:
        model = TimeOff
        fields = ("tenant", *services.TIME_OFF_FIELDS)

    def save_through_service(self) -> TimeOff:
        if self.instance.pk is None:
            return services.time_off_create(tenant=self.cleaned_data["tenant"], data=self.cleaned_data)
        changes = {name: self.cleaned_data[name] for name in self.changed_data}
        return services.schedule_entry_update(entry=self.instance, data=changes)


class ScheduleAdmin(ServiceAdminMixin, TenantScopedAdmin):
    role_resource = "schedules"
    list_select_related = ("provider", "tenant")
    autocomplete_fields = ("provider",)

    def delete_model(self, request, obj):
        services.schedule_entry_delete(entry=obj)

    def delete_queryset(self, request, queryset):
        for entry in queryset:
            services.schedule_entry_delete(entry=entry)


@admin.register(WorkingHours)
class WorkingHoursAdmin(HoursGridAdminMixin, ScheduleAdmin):
    form = WorkingHoursAdminForm
    list_display = ("provider", "weekday", "starts_at", "ends_at")
    list_filter = ("weekday", ("provider", ClinicRelatedFieldListFilter))
    ordering = ("provider", "weekday", "starts_at")


@admin.register(TimeOff)
class TimeOffAdmin(ScheduleAdmin):
    form = TimeOffAdminForm
    list_display = ("provider", "starts_at", "ends_at", "reason")
    list_filter = (("provider", ClinicRelatedFieldListFilter),)
    date_hierarchy = "starts_at"
