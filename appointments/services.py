"""Writes of appointments. The clinic comes from the caller; ids in a request are resolved within
that clinic only, so an id of another clinic is simply unknown.

Double booking: a provider's appointments that hold time never overlap. PostgreSQL enforces it
with an exclusion constraint (migration 0002), so concurrent bookings cannot both succeed; the
check before the insert only produces the friendly 409 in the common, non-racing case. SQLite
has no such constraint, but its transactions start IMMEDIATE (settings), which serialises writers:
the check and the insert there happen under the database's write lock.
"""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from appointments import events, selectors
from appointments.models import Appointment, AppointmentStatus
from appointments.status_rules import action_for_status, can_transition
from keneyapp.accounts.models import Tenant, User
from keneyapp.accounts.roles import role_can
from keneyapp.core.caching import bump_on_commit, clinic_namespace
from keneyapp.core.errors import ConflictError
from keneyapp.core.events import publish_on_commit, staff_group
from patients.selectors import patient_get

NO_OVERLAP_CONSTRAINT = "appointment_provider_no_overlap"


@dataclass(frozen=True, slots=True)
class BookingResult:
    appointment: Appointment
    outside_working_hours: bool


def _resolve_patient(tenant: Tenant, patient_id: int):
    patient = patient_get(tenant=tenant, patient_id=patient_id)
    if patient is None:
        raise ValidationError({"patient_id": ["No such patient in this clinic."]})
    return patient


def _resolve_provider(tenant: Tenant, provider_id: int | None) -> User | None:
    if provider_id is None:
        return None
    provider = selectors.clinical_staff_get(tenant=tenant, user_id=provider_id)
    if provider is None:
        raise ValidationError({"provider_id": ["No such doctor or nurse in this clinic."]})
    return provider


def _conflict(clash: Appointment, zone: ZoneInfo) -> ConflictError:
    return ConflictError(
        "The provider already has an appointment at that time.",
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


@transaction.atomic
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
    zone: ZoneInfo,
) -> BookingResult:
    """Book an appointment. Booking outside the provider's working hours is allowed (staff know
    best) but reported, so the screen can flag it."""
    appointment = Appointment(
        tenant=tenant,
        patient=_resolve_patient(tenant, patient_id),
        provider=_resolve_provider(tenant, provider_id),
        appointment_date=starts_at,
        duration_minutes=duration_minutes,
        ends_at=_ends_at(starts_at, duration_minutes),
        reason=reason,
        notes=notes,
        created_by=created_by,
    )
    _save_holding_time(appointment, zone)
    bump_on_commit(clinic_namespace(tenant.pk, "dashboard"))
    _announce(appointment, "appointment.created")
    return BookingResult(appointment, _outside_working_hours(appointment, zone))


def _check_status_change(appointment: Appointment, target: str, actor: User) -> None:
    if target == appointment.status:
        return
    if not can_transition(appointment.status, target):
        raise ConflictError(
            f"An appointment that is {appointment.status} cannot become {target}.",
            code="invalid_status_transition",
            extra={"current_status": appointment.status, "requested_status": target},
        )
    action = action_for_status(target)
    if not role_can(actor.role, action):
        raise PermissionDenied(f"Your role ({actor.role}) may not {action.replace('.', ' ')}.")


def _apply_cancellation(appointment: Appointment, reason: str) -> None:
    appointment.status = AppointmentStatus.CANCELLED
    appointment.cancelled_at = timezone.now()
    appointment.cancellation_reason = reason


@transaction.atomic
def appointment_update(
    *, appointment: Appointment, actor: User, changes: dict, zone: ZoneInfo
) -> BookingResult:
    """Reschedule, reassign, edit or change the status of an appointment (one PATCH)."""
    appointment = (
        Appointment.objects.select_for_update(of=("self",))
        .select_related("patient", "provider")
        .get(pk=appointment.pk)
    )
    if "status" in changes:
        _check_status_change(appointment, changes["status"], actor)
    if appointment.status in (
        AppointmentStatus.COMPLETED,
        AppointmentStatus.CANCELLED,
        AppointmentStatus.NO_SHOW,
    ):
        editable_when_final = {"notes"}
        frozen = set(changes) - editable_when_final - {"status"}
        if frozen:
            raise ConflictError(
                f"An appointment that is {appointment.status} can no longer be rescheduled or reassigned.",
                code="appointment_closed",
                extra={"current_status": appointment.status},
            )
    if "provider_id" in changes:
        appointment.provider = _resolve_provider(appointment.tenant_id, changes["provider_id"])
    for name in ("appointment_date", "duration_minutes", "reason", "notes"):
        if name in changes:
            setattr(appointment, name, changes[name])
    appointment.ends_at = _ends_at(appointment.appointment_date, appointment.duration_minutes)
    if (
        changes.get("status") == AppointmentStatus.CANCELLED
        and appointment.status != AppointmentStatus.CANCELLED
    ):
        _apply_cancellation(appointment, changes.get("cancellation_reason", ""))
    elif "status" in changes:
        appointment.status = changes["status"]
    _save_holding_time(appointment, zone)
    bump_on_commit(clinic_namespace(appointment.tenant_id, "dashboard"))
    _announce(appointment, "appointment.updated")
    return BookingResult(appointment, _outside_working_hours(appointment, zone))


@transaction.atomic
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
        bump_on_commit(clinic_namespace(appointment.tenant_id, "dashboard"))
        _announce(appointment, "appointment.updated")
    return appointment
