"""Writes of appointments. The clinic comes from the caller; ids in a request are resolved within
that clinic only, so an id of another clinic is simply unknown.

Double booking: a provider's appointments that hold time never overlap. PostgreSQL enforces it
with an exclusion constraint (migration 0002), so concurrent bookings cannot both succeed; the
check before the insert only produces the friendly 409 in the common, non-racing case. SQLite
has no such constraint, but its transactions start IMMEDIATE (settings), which serialises writers:
the check and the insert there happen under the database's write lock.
"""

from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from appointments import events, selectors
from appointments.models import Appointment, AppointmentStatus, TimeOff, Weekday, WorkingHours
from appointments.status_rules import action_for_status, can_transition
from keneyapp.accounts.models import Tenant, User
from keneyapp.accounts.roles import role_can
from keneyapp.core.errors import ConflictError
from keneyapp.core.events import publish_on_commit, staff_group
from keneyapp.core.services import apply_changes, retry_on_contention, update_fields_for
from keneyapp.core.signals import clinic_data_changed
from patients.selectors import patient_resolve

NO_OVERLAP_CONSTRAINT = "appointment_provider_no_overlap"
FINAL_STATUSES = (AppointmentStatus.COMPLETED, AppointmentStatus.CANCELLED, AppointmentStatus.NO_SHOW)
# What an update may name besides `status`; `patient_id` comes from the admin only (the API's
# input has no such field: a booking's patient is fixed there).
UPDATABLE_FIELDS = ("appointment_date", "duration_minutes", "reason", "notes")
# The free texts' limits (the API's since it exists; the notes column has none): admin and API alike.
TEXT_LIMITS = {"notes": 5000}


@dataclass(frozen=True, slots=True)
class BookingResult:
    appointment: Appointment
    outside_working_hours: bool


def _check_texts(values: dict) -> None:
    errors = {
        name: [_("Ensure this field has no more than %(limit)d characters.") % {"limit": limit}]
        for name, limit in TEXT_LIMITS.items()
        if len(values.get(name) or "") > limit
    }
    if errors:
        raise ValidationError(errors)


def _resolve_provider(tenant: Tenant | int, provider_id: int | None) -> User | None:
    """An appointment may have no provider (None); an id must name a doctor or nurse of the clinic."""
    if provider_id is None:
        return None
    return selectors.provider_resolve(tenant=tenant, provider_id=provider_id)


def _conflict(clash: Appointment, zone: ZoneInfo) -> ConflictError:
    return ConflictError(
        _("The provider already has an appointment at that time."),
        code="double_booking",
        extra={
            "conflicting_appointment": {
                "id": clash.pk,
                "appointment_date": clash.appointment_date.astimezone(zone),
                "ends_at": clash.ends_at.astimezone(zone),
            }
        },
    )


def _save_holding_time(appointment: Appointment, zone: ZoneInfo, **save_kwargs) -> None:
    """Save an appointment that may hold a provider's time; a clash is a ConflictError naming it.

    Must run inside a transaction (the callers' @transaction.atomic).
    """
    if appointment.provider_id is None or appointment.status in (
        AppointmentStatus.CANCELLED,
        AppointmentStatus.NO_SHOW,
    ):
        appointment.save(**save_kwargs)
        return
    clash = selectors.overlapping_appointment(
        tenant=appointment.tenant_id,
        provider_id=appointment.provider_id,
        starts_at=appointment.appointment_date,
        ends_at=appointment.ends_at,
        exclude_id=appointment.pk,
    )
    if clash is not None:
        raise _conflict(clash, zone)
    try:
        with transaction.atomic():  # a savepoint: the outer transaction stays usable
            appointment.save(**save_kwargs)
    except IntegrityError as exc:
        if NO_OVERLAP_CONSTRAINT not in str(exc):
            raise
        # Lost a race to a concurrent booking that committed first: name it.
        clash = selectors.overlapping_appointment(
            tenant=appointment.tenant_id,
            provider_id=appointment.provider_id,
            starts_at=appointment.appointment_date,
            ends_at=appointment.ends_at,
            exclude_id=appointment.pk,
        )
        if clash is None:
            raise
        raise _conflict(clash, zone) from None


def _announce(appointment: Appointment, event_type: events.AppointmentEventType) -> None:
    """Tell the clinic's open screens (calendars) after commit; they fetch details from the API."""
    publish_on_commit(
        group=staff_group(appointment.tenant_id), event=events.appointment_changed(appointment, event_type)
    )


def _ends_at(starts_at: datetime, duration_minutes: int) -> datetime:
    # In UTC: adding to a datetime in the clinic's zone is wall-clock arithmetic, which makes a
    # 30-minute visit at 02:30 on the autumn DST night last 90 minutes.
    return starts_at.astimezone(UTC) + timedelta(minutes=duration_minutes)


def _outside_working_hours(appointment: Appointment, zone: ZoneInfo) -> bool:
    if appointment.provider_id is None:
        return False
    return not selectors.is_within_working_hours(
        tenant=appointment.tenant_id,
        provider_id=appointment.provider_id,
        starts_at=appointment.appointment_date,
        ends_at=appointment.ends_at,
        zone=zone,
    )


@retry_on_contention  # one transaction; a deadlock or serialization failure: once more, then 409
def appointment_book(
    *,
    tenant: Tenant,
    created_by: User,
    patient_id: int,
    starts_at: datetime,
    duration_minutes: int = 30,
    provider_id: int | None = None,
    reason: str = "",
    notes: str = "",
    status: str = AppointmentStatus.SCHEDULED,
    cancellation_reason: str = "",
    zone: ZoneInfo,
) -> BookingResult:
    """Book an appointment. Booking outside the provider's working hours is allowed (staff know
    best) but reported, so the screen can flag it.

    `status` other than scheduled (the admin records a visit already completed, say) needs the
    role that moving an appointment into that status needs.
    """
    if status != AppointmentStatus.SCHEDULED:
        _check_role_for_status(status, created_by)
    _check_texts({"notes": notes})
    appointment = Appointment(
        tenant=tenant,
        patient=patient_resolve(tenant=tenant, patient_id=patient_id),
        provider=_resolve_provider(tenant, provider_id),
        appointment_date=starts_at,
        duration_minutes=duration_minutes,
        ends_at=_ends_at(starts_at, duration_minutes),
        reason=reason,
        notes=notes,
        status=status,
        created_by=created_by,
    )
    if status == AppointmentStatus.CANCELLED:
        _apply_cancellation(appointment, cancellation_reason)
    _save_holding_time(appointment, zone)
    clinic_data_changed.send(sender=Appointment, tenant_id=tenant.pk)
    _announce(appointment, "appointment.created")
    return BookingResult(appointment, _outside_working_hours(appointment, zone))


def _check_status_change(appointment: Appointment, target: str, actor: User) -> None:
    if target == appointment.status:
        return
    if not can_transition(appointment.status, target):
        raise ConflictError(
            _("An appointment that is %(current)s cannot become %(target)s.")
            % {"current": appointment.status, "target": target},
            code="invalid_status_transition",
            extra={"current_status": appointment.status, "requested_status": target},
        )
    _check_role_for_status(target, actor)


def _check_role_for_status(target: str, actor: User) -> None:
    action = action_for_status(target)
    # A platform operator (a superuser of no clinic, in the admin only) is outside the roles table.
    if actor.is_superuser and actor.tenant_id is None:
        return
    if not role_can(actor.role, action):
        raise PermissionDenied(
            _("Your role (%(role)s) may not %(action)s.")
            % {"role": actor.role, "action": action.replace(".", " ")}
        )


def _apply_cancellation(appointment: Appointment, reason: str) -> None:
    appointment.status = AppointmentStatus.CANCELLED
    appointment.cancelled_at = timezone.now()
    appointment.cancellation_reason = reason


@retry_on_contention  # one transaction; a deadlock or serialization failure: once more, then 409
def appointment_update(
    *, appointment: Appointment, actor: User, changes: dict, zone: ZoneInfo
) -> BookingResult:
    """Reschedule, reassign, edit or change the status of an appointment (one PATCH, one admin
    save). Only what differs from the stored appointment is written; nothing differs: no UPDATE,
    no dashboard invalidation, no live event."""
    appointment = (
        Appointment.objects.select_for_update(of=("self",))
        .select_related("patient", "provider")
        .get(pk=appointment.pk)
    )
    _check_texts(changes)
    if "status" in changes:
        _check_status_change(appointment, changes["status"], actor)
    if appointment.status in FINAL_STATUSES:
        editable_when_final = {"notes"}
        frozen = set(changes) - editable_when_final - {"status"}
        if frozen:
            raise ConflictError(
                _("An appointment that is %(current)s can no longer be rescheduled or reassigned.")
                % {"current": appointment.status},
                code="appointment_closed",
                extra={"current_status": appointment.status},
            )
    cancelling = (
        changes.get("status") == AppointmentStatus.CANCELLED
        and appointment.status != AppointmentStatus.CANCELLED
    )
    if "cancellation_reason" in changes and not cancelling:
        raise ValidationError(
            {"cancellation_reason": [_("Only with status 'cancelled' (or use POST .../cancel).")]}
        )
    changed = []
    if "patient_id" in changes and changes["patient_id"] != appointment.patient_id:
        appointment.patient = patient_resolve(tenant=appointment.tenant_id, patient_id=changes["patient_id"])
        changed.append("patient")
    if "provider_id" in changes and changes["provider_id"] != appointment.provider_id:
        appointment.provider = _resolve_provider(appointment.tenant_id, changes["provider_id"])
        changed.append("provider")
    changed += apply_changes(instance=appointment, fields=UPDATABLE_FIELDS, data=changes)
    ends_at = _ends_at(appointment.appointment_date, appointment.duration_minutes)
    if ends_at != appointment.ends_at:
        appointment.ends_at = ends_at
        changed.append("ends_at")
    if {"appointment_date", "duration_minutes"} & set(changed):
        # The reminder told the patient the old time: a rescheduled visit is due a new one. A
        # reminder of the old time being sent right now (claimed, perhaps after this row was read)
        # finds its claim gone and does not mark the appointment reminded: the next run reminds
        # the patient of the new time.
        appointment.reminder_sent_at = None
        appointment.reminder_claimed_at = None
        changed += ["reminder_sent_at", "reminder_claimed_at"]
    if cancelling:
        _apply_cancellation(appointment, changes.get("cancellation_reason", ""))
        changed += ["status", "cancelled_at", "cancellation_reason"]
    elif changes.get("status", appointment.status) != appointment.status:
        appointment.status = changes["status"]
        changed.append("status")
        if appointment.status == AppointmentStatus.CHECKED_IN:
            appointment.arrived_at = timezone.now()  # the front desk's "arrived at"
            changed.append("arrived_at")
    if changed:
        _save_holding_time(appointment, zone, update_fields=update_fields_for(appointment, changed))
        clinic_data_changed.send(sender=Appointment, tenant_id=appointment.tenant_id)
        _announce(appointment, "appointment.updated")
    return BookingResult(appointment, _outside_working_hours(appointment, zone))


@retry_on_contention  # one transaction; a deadlock or serialization failure: once more, then 409
def appointment_cancel(*, appointment: Appointment, actor: User, reason: str) -> Appointment:
    appointment = (
        Appointment.objects.select_for_update(of=("self",))
        .select_related("patient", "provider")
        .get(pk=appointment.pk)
    )
    _check_status_change(appointment, AppointmentStatus.CANCELLED, actor)
    if appointment.status != AppointmentStatus.CANCELLED:
        _apply_cancellation(appointment, reason)
        appointment.save(update_fields=["status", "cancelled_at", "cancellation_reason", "updated_at"])
        clinic_data_changed.send(sender=Appointment, tenant_id=appointment.tenant_id)
        _announce(appointment, "appointment.updated")
    return appointment


# --- providers' schedules (written in the admin; the API reads them) ---------------------------
WORKING_HOURS_FIELDS = ("provider", "weekday", "starts_at", "ends_at")
TIME_OFF_FIELDS = ("provider", "starts_at", "ends_at", "reason")


def _check_schedule_entry(entry: WorkingHours | TimeOff) -> None:
    # The provider comes from a form or a script: only a doctor or nurse of the entry's clinic.
    if selectors.clinical_staff_get(tenant=entry.tenant_id, user_id=entry.provider_id) is None:
        raise ValidationError({"provider": [_("No such doctor or nurse in this clinic.")]})
    # Also the models' check constraints (the database's last word), said in the desk's words.
    # Both times of day (working hours) or both instants (time off); mypy sees the union of each.
    if entry.ends_at <= entry.starts_at:  # type: ignore[operator]
        raise ValidationError({"ends_at": [_("The end must be after the start.")]})
    if isinstance(entry, WorkingHours):
        clash = selectors.working_hours_overlapping(
            tenant=entry.tenant_id,
            provider_id=entry.provider_id,
            weekday=entry.weekday,
            starts_at=entry.starts_at,
            ends_at=entry.ends_at,
            exclude_id=entry.pk,
        )
        if clash is not None:
            raise ValidationError({"starts_at": [working_hours_overlap_message(clash)]})


def working_hours_overlap_message(clash: WorkingHours) -> str:
    return _(
        "These hours overlap hours already set for this person on %(weekday)s, %(start)s to %(end)s."
    ) % {
        "weekday": clash.get_weekday_display(),
        "start": f"{clash.starts_at:%H:%M}",
        "end": f"{clash.ends_at:%H:%M}",
    }


@transaction.atomic
def working_hours_create(*, tenant: Tenant, data: dict) -> WorkingHours:
    entry = WorkingHours(tenant=tenant, **{name: data[name] for name in WORKING_HOURS_FIELDS})
    _check_schedule_entry(entry)
    entry.save()
    return entry


@transaction.atomic
def time_off_create(*, tenant: Tenant, data: dict) -> TimeOff:
    entry = TimeOff(tenant=tenant, **{name: data[name] for name in TIME_OFF_FIELDS if name in data})
    _check_schedule_entry(entry)
    entry.save()
    return entry


@transaction.atomic
def schedule_entry_update(*, entry: WorkingHours | TimeOff, data: dict) -> WorkingHours | TimeOff:
    """Write what differs from the stored working hours or time off (nothing: no UPDATE)."""
    fields = WORKING_HOURS_FIELDS if isinstance(entry, WorkingHours) else TIME_OFF_FIELDS
    changed = apply_changes(instance=entry, fields=fields, data=data)
    if changed:
        _check_schedule_entry(entry)
        entry.save(update_fields=update_fields_for(entry, changed))
    return entry


@transaction.atomic
def working_hours_set_week(
    *, tenant: Tenant, provider_id: int, week: dict[int, list[tuple[time, time]]]
) -> list[WorkingHours]:
    """Replace a provider's working hours on the weekdays given (the admin's weekly grid): every
    interval checked first (an end after its start, no two of a day overlapping), refused whole
    with one plain message per day, else the day's old intervals deleted and the new ones written."""
    provider = selectors.clinical_staff_get(tenant=tenant, user_id=provider_id)
    if provider is None:
        raise ValidationError({"provider": ["No such doctor or nurse in this clinic."]})
    errors: dict[str, list[str]] = {}
    for weekday, intervals in sorted(week.items()):
        day = Weekday(weekday).label
        ordered = sorted(intervals)
        if any(end <= start for start, end in ordered):
            errors[str(weekday)] = [_("%(day)s: each end must be after its start.") % {"day": day}]
            continue
        for (start, end), (next_start, next_end) in pairwise(ordered):
            if next_start < end:
                errors[str(weekday)] = [
                    _("%(day)s: %(first)s and %(second)s overlap.")
                    % {
                        "day": day,
                        "first": f"{start:%H:%M}-{end:%H:%M}",
                        "second": f"{next_start:%H:%M}-{next_end:%H:%M}",
                    }
                ]
                break
    if errors:
        raise ValidationError(errors)
    WorkingHours.objects.filter(tenant=tenant, provider=provider, weekday__in=list(week)).delete()
    return WorkingHours.objects.bulk_create(
        WorkingHours(tenant=tenant, provider=provider, weekday=weekday, starts_at=start, ends_at=end)
        for weekday, intervals in sorted(week.items())
        for start, end in sorted(intervals)
    )


def schedule_entry_delete(*, entry: WorkingHours | TimeOff) -> None:
    entry.delete()
