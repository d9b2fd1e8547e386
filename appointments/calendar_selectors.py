"""Reads of the admin's calendar and front-desk pages: a provider's days, the clinic's day.

The calendar's free slots are `selectors.provider_availability`, the availability API's own
computation (same working hours, time off, booked time and "not in the past"), never a second one.
Every read is a fixed number of queries whatever the number of appointments.
"""

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from django.utils import timezone

from appointments import availability, selectors
from appointments.models import Appointment, AppointmentStatus, TimeOff
from keneyapp.accounts.models import Tenant, User
from keneyapp.accounts.names import person_name
from keneyapp.accounts.roles import CLINICAL_STAFF
from keneyapp.core.clinic_time import day_start

# The columns a calendar cell or a front-desk row shows.
DAY_COLUMNS = (
    "id",
    "appointment_date",
    "ends_at",
    "duration_minutes",
    "status",
    "arrived_at",
    "patient_id",
    "patient__first_name",
    "patient__last_name",
    "patient__mrn",
    "patient__phone_number",
    "provider_id",
    "provider__first_name",
    "provider__last_name",
    "provider__username",
    "provider__role",
)


@dataclass
class ProviderDays:
    """A provider's days (clinic dates), each instant in UTC."""

    provider: User
    days: list[date]
    working: list[availability.Interval]
    time_off: list[availability.Interval]
    appointments: list[dict]
    free_slots: list[availability.Interval]
    slot_minutes: int


def clinic_providers(*, tenant: Tenant | int) -> list[User]:
    """The clinic's active doctors and nurses, by name: one query."""
    return list(
        User.objects.filter(tenant=tenant, role__in=CLINICAL_STAFF, is_active=True)
        .only("id", "first_name", "last_name", "username", "role", "tenant_id")
        .order_by("last_name", "first_name", "id")
    )


def provider_days(
    *, tenant: Tenant, provider: User, date_from: date, date_to: date, slot_minutes: int, zone: ZoneInfo
) -> ProviderDays:
    """Working hours, time off, appointments (with patient and status) and free slots of a provider
    between two clinic dates (inclusive): five queries, whatever the number of appointments."""
    start, end = day_start(date_from, zone), day_start(date_to + timedelta(days=1), zone)
    free = selectors.provider_availability(
        tenant=tenant,
        provider_id=provider.pk,
        date_from=date_from,
        date_to=date_to,
        duration=timedelta(minutes=slot_minutes),
        zone=zone,
    )
    working = selectors.provider_working_intervals(
        tenant=tenant, provider_id=provider.pk, date_from=date_from, date_to=date_to, zone=zone
    )
    away = [
        availability.Interval(row_start, row_end)
        for row_start, row_end in TimeOff.objects.filter(
            tenant=tenant, provider_id=provider.pk, starts_at__lt=end, ends_at__gt=start
        )
        .order_by("starts_at")
        .values_list("starts_at", "ends_at")
    ]
    # Appointment.objects, as availability reads it: a deleted patient's visit still holds time.
    booked = (
        Appointment.objects.filter(
            tenant=tenant, provider_id=provider.pk, appointment_date__lt=end, ends_at__gt=start
        )
        .order_by("appointment_date", "id")
        .values(*DAY_COLUMNS)
    )
    days = [date_from + timedelta(days=n) for n in range((date_to - date_from).days + 1)]
    return ProviderDays(
        provider=provider,
        days=days,
        working=working,
        time_off=away,
        appointments=[day_row(row, zone) for row in booked],
        free_slots=free,
        slot_minutes=slot_minutes,
    )


def clinic_day(*, tenant: Tenant, day: date, zone: ZoneInfo, provider_id: int | None = None) -> list[dict]:
    """The clinic's appointments of one clinic date in time order, per provider or all: one query."""
    queryset = selectors.appointment_filter(
        selectors.appointment_queryset(tenant=tenant),
        starts_from=day_start(day, zone),
        starts_before=day_start(day + timedelta(days=1), zone),
        provider_id=provider_id,
    )
    names: dict[int | None, str] = {}
    rows = queryset.order_by("appointment_date", "id").values(*DAY_COLUMNS)
    return [day_row(row, zone, names) for row in rows]


def day_row(row: dict, zone: ZoneInfo, names: dict[int | None, str] | None = None) -> dict:
    """A row of DAY_COLUMNS with its times in the clinic's zone and its people named (`names`:
    the providers named so far, so a day of 200 visits names each provider once)."""
    row = dict(row)
    for column in ("appointment_date", "ends_at", "arrived_at"):
        if row[column] is not None:
            row[column] = row[column].astimezone(zone)
    row["status_label"] = AppointmentStatus(row["status"]).label
    row["patient_name"] = f"{row['patient__first_name']} {row['patient__last_name']}"
    names = {} if names is None else names
    if row["provider_id"] not in names:
        names[row["provider_id"]] = (
            ""
            if row["provider_id"] is None
            else person_name(
                first_name=row["provider__first_name"],
                last_name=row["provider__last_name"],
                username=row["provider__username"],
                role=row["provider__role"],
            )
        )
    row["provider_name"] = names[row["provider_id"]]
    return row


def appointment_for_desk(*, tenant: Tenant | int, appointment_id: int) -> Appointment | None:
    """An appointment of the clinic (its patient active) that a front-desk action names, or None."""
    return selectors.appointment_queryset(tenant=tenant).filter(pk=appointment_id).first()


def clinic_today(zone: ZoneInfo) -> date:
    """The clinic's date now, in its time zone (not the server's)."""
    return timezone.now().astimezone(zone).date()


def booking_warnings(
    *, tenant: Tenant | int, provider_id: int | None, starts_at: datetime, ends_at: datetime, zone: ZoneInfo
) -> list[str]:
    """What a booking form warns of without refusing: a start in the past, a time outside the
    provider's working hours, or during their time off (codes: past, outside_hours, time_off)."""
    found = []
    if starts_at < timezone.now():
        found.append("past")
    if provider_id is None:
        return found
    local_start, local_end = starts_at.astimezone(zone), ends_at.astimezone(zone)
    working = selectors.provider_working_intervals(
        tenant=tenant,
        provider_id=provider_id,
        date_from=local_start.date(),
        date_to=local_end.date(),
        zone=zone,
    )
    if not availability.is_within(working, starts_at, ends_at):
        found.append("outside_hours")
    if TimeOff.objects.filter(
        tenant=tenant, provider_id=provider_id, starts_at__lt=ends_at, ends_at__gt=starts_at
    ).exists():
        found.append("time_off")
    return found


def next_free_slot(
    *, tenant: Tenant, provider_id: int, after: datetime, minutes: int, zone: ZoneInfo, days: int = 14
) -> availability.Interval | None:
    """The provider's first free slot of `minutes` starting at or after `after`, within `days`
    clinic dates: the availability API's computation (selectors.provider_availability)."""
    first = after.astimezone(zone).date()
    for slot in selectors.provider_availability(
        tenant=tenant,
        provider_id=provider_id,
        date_from=first,
        date_to=first + timedelta(days=days - 1),
        duration=timedelta(minutes=minutes),
        zone=zone,
    ):
        if slot.start >= after:
            return slot
    return None
