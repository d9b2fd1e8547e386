from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from keneyapp.core.encrypted_fields import EncryptedCharField, EncryptedTextField
from keneyapp.core.scoping import ClinicScopedManager

MIN_DURATION_MINUTES = 5
MAX_DURATION_MINUTES = 480


class AppointmentStatus(models.TextChoices):
    SCHEDULED = "scheduled", _("Scheduled")
    CONFIRMED = "confirmed", _("Confirmed")
    CHECKED_IN = "checked_in", _("Checked in")
    COMPLETED = "completed", _("Completed")
    CANCELLED = "cancelled", _("Cancelled")
    NO_SHOW = "no_show", _("No show")


# Appointments in these statuses no longer hold their provider's time.
RELEASED_STATUSES = (AppointmentStatus.CANCELLED, AppointmentStatus.NO_SHOW)
# Appointments in these statuses still get a reminder.
REMINDABLE_STATUSES = (AppointmentStatus.SCHEDULED, AppointmentStatus.CONFIRMED)
HOLDS_TIME = ~Q(status__in=RELEASED_STATUSES)


class Appointment(models.Model):
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
    provider = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,
        limit_choices_to={"role__in": ["doctor", "nurse"]},
        verbose_name=_("provider"),
        help_text=_("The doctor or nurse seeing the patient; empty for an unassigned request."),
    )
    # The patient's is_deleted, kept by the database (core.migration_operations.MirrorPatientDeleted):
    # reads leave a deleted patient's appointments out by this column, in the list's partial index
    # and the trigger-kept count, instead of joining patients.
    patient_deleted = models.BooleanField(
        _("patient deleted"), default=False, db_default=False, editable=False
    )
    appointment_date = models.DateTimeField(_("starts at"))
    duration_minutes = models.PositiveSmallIntegerField(
        _("duration (minutes)"),
        default=30,
        validators=[MinValueValidator(MIN_DURATION_MINUTES), MaxValueValidator(MAX_DURATION_MINUTES)],
    )
    # appointment_date + duration, written by the booking service. Stored (not computed in queries)
    # because the no-overlap constraint and the calendar's range queries index it.
    ends_at = models.DateTimeField(_("ends at"), editable=False)
    status = models.CharField(
        _("status"), max_length=20, choices=AppointmentStatus.choices, default=AppointmentStatus.SCHEDULED
    )
    # Clinical free text, stored encrypted (keneyapp/core/encrypted_fields.py); max_length is the
    # text's limit. TimeOff.reason below is a provider's, not a patient's: it stays in clear.
    reason = EncryptedCharField(_("reason"), max_length=255, blank=True)
    notes = EncryptedTextField(_("notes"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("created by"),
    )
    cancelled_at = models.DateTimeField(_("cancelled at"), null=True, blank=True)
    # When the patient was checked in at the front desk (the move to checked_in, by the service).
    arrived_at = models.DateTimeField(_("arrived at"), null=True, blank=True, editable=False)
    cancellation_reason = EncryptedCharField(_("cancellation reason"), max_length=255, blank=True)
    reminder_sent_at = models.DateTimeField(_("reminder sent at"), null=True, blank=True)
    # A reminder being sent is claimed first (appointments/reminders.py): for REMINDER_CLAIM_SECONDS
    # no other run sends it; a worker killed before it marked it sent leaves a claim that expires.
    reminder_claimed_at = models.DateTimeField(
        _("reminder claimed at"), null=True, blank=True, editable=False
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    objects = ClinicScopedManager()

    class Meta:
        verbose_name = _("appointment")
        verbose_name_plural = _("appointments")
        constraints = [
            models.CheckConstraint(
                name="appointment_duration_in_range",
                condition=Q(
                    duration_minutes__gte=MIN_DURATION_MINUTES, duration_minutes__lte=MAX_DURATION_MINUTES
                ),
            ),
            models.CheckConstraint(
                name="appointment_ends_after_start", condition=Q(ends_at__gt=models.F("appointment_date"))
            ),
            # The provider no-overlap rule is an exclusion constraint on PostgreSQL, created in
            # migration 0002 (SQLite cannot express it; the booking service checks it there).
        ]
        indexes = [
            # The guide's (tenant_id, appointment_date): the clinic's list and date filters.
            # Covers status too (PostgreSQL): the dashboard's conditional counts over a window of
            # dates read the index alone instead of one heap page per appointment. Partial: every
            # read through appointments.selectors.appointment_queryset leaves deleted patients out.
            models.Index(
                fields=["tenant", "appointment_date", "id"],
                name="idx_appointment_tenant_date",
                include=["status"],
                condition=Q(patient_deleted=False),
            ),
            # The guide's status index, tenant first: lists filtered by status.
            models.Index(fields=["tenant", "status", "appointment_date"], name="idx_appointment_status"),
            # A provider's calendar (availability, overlap checks) and a patient's history.
            models.Index(fields=["tenant", "provider", "appointment_date"], name="idx_appointment_provider"),
            models.Index(fields=["tenant", "patient", "appointment_date"], name="idx_appointment_patient"),
            # The guide's appointment_date index, as the reminder task reads it: due and not yet
            # reminded, across clinics. Partial, so it holds only the few rows still to remind.
            models.Index(
                fields=["appointment_date"],
                name="idx_appointment_date",
                condition=Q(reminder_sent_at__isnull=True, status__in=REMINDABLE_STATUSES),
            ),
        ]

    def __str__(self) -> str:
        # Shown in the admin (titles, breadcrumbs, messages): the status label, lower-case as the code was.
        return _("appointment %(id)s at %(when)s (%(status)s)") % {
            "id": self.pk,
            "when": f"{self.appointment_date:%Y-%m-%d %H:%M}",
            "status": str(self.get_status_display()).lower(),
        }


class Weekday(models.IntegerChoices):
    MONDAY = 0, _("Monday")
    TUESDAY = 1, _("Tuesday")
    WEDNESDAY = 2, _("Wednesday")
    THURSDAY = 3, _("Thursday")
    FRIDAY = 4, _("Friday")
    SATURDAY = 5, _("Saturday")
    SUNDAY = 6, _("Sunday")


class WorkingHours(models.Model):
    """One working interval of a provider on a weekday, in the clinic's time zone.

    Several per day are allowed (08:00-12:00 and 14:00-18:00).
    """

    tenant = models.ForeignKey(
        "accounts.Tenant",
        on_delete=models.CASCADE,
        related_name="+",
        db_index=False,
        verbose_name=_("clinic"),
    )
    provider = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="working_hours",
        limit_choices_to={"role__in": ["doctor", "nurse"]},
        verbose_name=_("provider"),
    )
    weekday = models.PositiveSmallIntegerField(_("weekday"), choices=Weekday.choices)
    starts_at = models.TimeField(_("starts at"))
    ends_at = models.TimeField(_("ends at"))

    objects = ClinicScopedManager()

    class Meta:
        verbose_name = _("working hours")
        verbose_name_plural = _("working hours")
        ordering = ["provider", "weekday", "starts_at"]
        constraints = [
            models.CheckConstraint(
                name="working_hours_end_after_start", condition=Q(ends_at__gt=models.F("starts_at"))
            ),
        ]
        indexes = [models.Index(fields=["tenant", "provider", "weekday"], name="idx_working_hours_provider")]

    def __str__(self) -> str:
        return f"{self.get_weekday_display()} {self.starts_at:%H:%M}-{self.ends_at:%H:%M}"


class TimeOff(models.Model):
    """A dated exception to a provider's working hours: leave, training, a closed day."""

    tenant = models.ForeignKey(
        "accounts.Tenant",
        on_delete=models.CASCADE,
        related_name="+",
        db_index=False,
        verbose_name=_("clinic"),
    )
    provider = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="time_off",
        limit_choices_to={"role__in": ["doctor", "nurse"]},
        verbose_name=_("provider"),
    )
    starts_at = models.DateTimeField(_("starts at"))
    ends_at = models.DateTimeField(_("ends at"))
    reason = models.CharField(_("reason"), max_length=255, blank=True)

    objects = ClinicScopedManager()

    class Meta:
        verbose_name = _("time off")
        verbose_name_plural = _("time off")
        ordering = ["-starts_at"]
        constraints = [
            models.CheckConstraint(
                name="time_off_end_after_start", condition=Q(ends_at__gt=models.F("starts_at"))
            ),
        ]
        indexes = [models.Index(fields=["tenant", "provider", "starts_at"], name="idx_time_off_provider")]

    def __str__(self) -> str:
        return _("time off %(start)s to %(end)s") % {
            "start": f"{self.starts_at:%Y-%m-%d}",
            "end": f"{self.ends_at:%Y-%m-%d}",
        }
