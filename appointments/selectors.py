"""Reads of appointments, working hours and availability. Every function takes the clinic."""

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from django.db.models import FilteredRelation, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from appointments import availability
from appointments.models import HOLDS_TIME, Appointment, TimeOff, WorkingHours
from keneyapp.accounts.models import Tenant, User
from keneyapp.accounts.roles import CLINICAL_STAFF
from keneyapp.core.resolvers import resolved
from keneyapp.core.row_counts import row_count

# Columns the list and detail load, joined in the same query as the patient's and provider's names.
APPOINTMENT_COLUMNS = (
    "id",
    "appointment_date",
    "ends_at",
    "duration_minutes",
    "status",
    "reason",
    "notes",
    "patient_id",
    "patient__first_name",
    "patient__last_name",
    "patient__mrn",
    "provider_id",
    "provider__first_name",
    "provider__last_name",
    "provider__username",
    "created_by",
    "cancelled_at",
    "cancellation_reason",
    "reminder_sent_at",
    "created_at",
    "updated_at",
)
APPOINTMENT_ORDERINGS = {
    "appointment_date": ("appointment_date", "id"),
    "-appointment_date": ("-appointment_date", "-id"),
}
DEFAULT_APPOINTMENT_ORDERING = "appointment_date"
UNKNOWN_PROVIDER = _("No such doctor or nurse in this clinic.")  # str() it when used: the request's language
APPOINTMENTS_COUNTER = "appointments.active"
# Columns copied as they are (date-times moved to the clinic's zone) after the nested objects.
_NESTED = ("id", "patient", "provider")
_PLAIN_COLUMNS = tuple(column for column in APPOINTMENT_COLUMNS if not column.startswith(_NESTED))
_DATETIME_COLUMNS = (
    "appointment_date",
    "ends_at",
    "cancelled_at",
    "reminder_sent_at",
    "created_at",
    "updated_at",
)


def appointment_queryset(*, tenant: Tenant | int) -> QuerySet[Appointment]:
    """The clinic's appointments of active patients: the starting point of every appointment read.

    A soft-deleted patient's appointments are gone from the API (list, detail, writes, reports);
    they still hold their provider's time (overlap checks and availability read Appointment
    directly, as the exclusion constraint does), and the admin keeps them as the legal record."""
    return Appointment.objects.filter(tenant=tenant, patient_deleted=False)


def appointment_filter(
    queryset: QuerySet[Appointment],
    *,
    starts_from: datetime | None = None,
    starts_before: datetime | None = None,
    statuses: list[str] | None = None,
    patient_id: int | None = None,
    provider_id: int | None = None,
) -> QuerySet[Appointment]:
    if starts_from is not None:
        queryset = queryset.filter(appointment_date__gte=starts_from)
    if starts_before is not None:
        queryset = queryset.filter(appointment_date__lt=starts_before)
    if statuses:
        queryset = queryset.filter(status__in=statuses)
    if patient_id is not None:
        queryset = queryset.filter(patient_id=patient_id)
    if provider_id is not None:
        queryset = queryset.filter(provider_id=provider_id)
    return queryset


def appointment_count(*, tenant: Tenant) -> int:
    """The clinic's appointments of active patients: the trigger-maintained count (migration 0009),
    one read whatever the number of deleted patients."""
    return row_count(tenant=tenant, counter=APPOINTMENTS_COUNTER)


def appointment_page(
    *,
    queryset: QuerySet[Appointment],
    ordering: tuple[str, ...],
    skip: int,
    limit: int,
    zone: ZoneInfo,
    total: int | None = None,
) -> tuple[list[dict], int]:
    """A page of appointments with their patient and provider: two queries, whatever the size.

    `total` is counted from the queryset unless the caller already knows it.
    """
    if total is None:
        total = queryset.count()
    if skip >= total:
        return [], total
    rows = queryset.order_by(*ordering).values(*APPOINTMENT_COLUMNS)[skip : skip + limit]
    return [appointment_row_as_api(row, zone) for row in rows], total


def appointment_detail(*, tenant: Tenant, appointment_id: int, zone: ZoneInfo) -> dict | None:
    row = appointment_queryset(tenant=tenant).filter(pk=appointment_id).values(*APPOINTMENT_COLUMNS).first()
    return None if row is None else appointment_row_as_api(row, zone)


def appointment_get(*, tenant: Tenant, appointment_id: int) -> Appointment | None:
    return (
        appointment_queryset(tenant=tenant)
        .select_related("patient", "provider")
        .filter(pk=appointment_id)
        .first()
    )


def appointment_row_as_api(row: dict, zone: ZoneInfo) -> dict:
    """The API shape: times in the clinic's zone, patient and provider nested."""
    item = {
        "id": row["id"],
        "patient": {
            "id": row["patient_id"],
            "name": f"{row['patient__first_name']} {row['patient__last_name']}",
            "mrn": row["patient__mrn"],
        },
        "provider": None
        if row["provider_id"] is None
        else {
            "id": row["provider_id"],
            "name": f"{row['provider__first_name']} {row['provider__last_name']}".strip()
            or row["provider__username"],
        },
    }
    for column in _PLAIN_COLUMNS:
        value = row[column]
        item[column] = value.astimezone(zone) if column in _DATETIME_COLUMNS and value is not None else value
    return item


def appointment_as_api(appointment: Appointment, zone: ZoneInfo) -> dict:
    """The API shape of a loaded instance (patient and provider already joined)."""
    row = {column: _instance_value(appointment, column) for column in APPOINTMENT_COLUMNS}
    return appointment_row_as_api(row, zone)


def _instance_value(appointment: Appointment, column: str):
    if "__" in column:
        relation, field = column.split("__")
        related = getattr(appointment, relation)
        return None if related is None else getattr(related, field)
    return getattr(appointment, "created_by_id" if column == "created_by" else column)


def overlapping_appointment(
    *,
    tenant: Tenant | int,
    provider_id: int,
    starts_at: datetime,
    ends_at: datetime,
    exclude_id: int | None = None,
) -> Appointment | None:
    """The provider's appointment that holds time overlapping [starts_at, ends_at), if any."""
    clashes = Appointment.objects.filter(
        HOLDS_TIME,
        tenant=tenant,
        provider_id=provider_id,
        appointment_date__lt=ends_at,
        ends_at__gt=starts_at,
    )
    if exclude_id is not None:
        clashes = clashes.exclude(pk=exclude_id)
    return clashes.order_by("appointment_date").first()


def clinical_staff_get(*, tenant: Tenant | int, user_id: int) -> User | None:
    """A doctor or nurse of the clinic (who can be an appointment's provider), or None."""
    return User.objects.filter(pk=user_id, tenant=tenant, role__in=CLINICAL_STAFF, is_active=True).first()


def provider_resolve(*, tenant: Tenant | int, provider_id: int, field: str = "provider_id") -> User:
    """The clinic's active doctor or nurse an id in a request names, or the 400 naming `field`
    (keneyapp/core/resolvers.py)."""
    provider = clinical_staff_get(tenant=tenant, user_id=provider_id)
    return resolved(
        provider, field=field, unknown=str(UNKNOWN_PROVIDER), model="accounts.user", object_id=provider_id
    )


def clinical_staff_weekly_hours(*, tenant: Tenant, provider_id: int) -> list[tuple] | None:
    """A doctor's or nurse's weekly (weekday, start, end) hours, or None if the clinic has no such
    active doctor or nurse: one query (the provider LEFT JOINed to their hours), so checking the
    provider costs the availability screen no query of its own."""
    rows = list(
        User.objects.filter(pk=provider_id, tenant=tenant, role__in=CLINICAL_STAFF, is_active=True)
        .annotate(hours=FilteredRelation("working_hours", condition=Q(working_hours__tenant=tenant)))
        .order_by()
        .values_list("hours__weekday", "hours__starts_at", "hours__ends_at")
    )
    if not rows:
        return None
    return [row for row in rows if row[0] is not None]


def provider_working_intervals(
    *, tenant: Tenant | int, provider_id: int, date_from: date, date_to: date, zone: ZoneInfo
) -> list[availability.Interval]:
    """Working hours over a date range, less time off (which is folded in as busy time)."""
    hours = WorkingHours.objects.filter(tenant=tenant, provider_id=provider_id).values_list(
        "weekday", "starts_at", "ends_at"
    )
    return availability.working_intervals(hours, date_from, date_to, zone)


def provider_busy_intervals(
    *, tenant: Tenant, provider_id: int, starts_at: datetime, ends_at: datetime
) -> list[availability.Interval]:
    """Booked appointments and time off overlapping a range, in one query (UNION ALL)."""
    booked = Appointment.objects.filter(
        HOLDS_TIME,
        tenant=tenant,
        provider_id=provider_id,
        appointment_date__lt=ends_at,
        ends_at__gt=starts_at,
    ).values_list("appointment_date", "ends_at")
    # order_by(): TimeOff's Meta.ordering would put an ORDER BY inside the UNION, which SQLite
    # refuses ("ORDER BY not allowed in subqueries of compound statements").
    away = (
        TimeOff.objects.filter(
            tenant=tenant, provider_id=provider_id, starts_at__lt=ends_at, ends_at__gt=starts_at
        )
        .order_by()
        .values_list("starts_at", "ends_at")
    )
    return [availability.Interval(start, end) for start, end in booked.union(away, all=True)]


def provider_availability(
    *, tenant: Tenant, provider_id: int, date_from: date, date_to: date, duration: timedelta, zone: ZoneInfo
) -> list[availability.Interval]:
    """Free slots of `duration` between two dates (inclusive, in the clinic's zone): two queries.

    `provider_id` is resolved as `provider_resolve` does, with the same 400, but by the query that
    reads the hours (no query of its own)."""
    hours = resolved(
        clinical_staff_weekly_hours(tenant=tenant, provider_id=provider_id),
        field="provider_id",
        unknown=str(UNKNOWN_PROVIDER),
        model="accounts.user",
        object_id=provider_id,
    )
    working = availability.working_intervals(hours, date_from, date_to, zone)
    if not working:
        return []
    busy = provider_busy_intervals(
        tenant=tenant, provider_id=provider_id, starts_at=working[0].start, ends_at=working[-1].end
    )
    free = availability.subtract(working, busy)
    return availability.slots(free, duration, not_before=timezone.now())


def is_within_working_hours(
    *, tenant: Tenant | int, provider_id: int, starts_at: datetime, ends_at: datetime, zone: ZoneInfo
) -> bool:
    """Whether a booking falls inside the provider's working hours and outside their time off."""
    local_start, local_end = starts_at.astimezone(zone), ends_at.astimezone(zone)
    working = provider_working_intervals(
        tenant=tenant,
        provider_id=provider_id,
        date_from=local_start.date(),
        date_to=local_end.date(),
        zone=zone,
    )
    if not availability.is_within(working, starts_at, ends_at):
        return False
    return not TimeOff.objects.filter(
        tenant=tenant, provider_id=provider_id, starts_at__lt=ends_at, ends_at__gt=starts_at
    ).exists()


def working_hours_overlapping(
    *, tenant: Tenant | int, provider_id: int, weekday: int, starts_at, ends_at, exclude_id: int | None = None
) -> WorkingHours | None:
    """The provider's first interval on that weekday that overlaps [starts_at, ends_at), if any."""
    queryset = WorkingHours.objects.filter(
        tenant=tenant, provider_id=provider_id, weekday=weekday, starts_at__lt=ends_at, ends_at__gt=starts_at
    )
    if exclude_id is not None:
        queryset = queryset.exclude(pk=exclude_id)
    return queryset.order_by("starts_at").first()


def provider_week_hours(*, tenant: Tenant | int, provider_id: int) -> dict[int, list[WorkingHours]]:
    """The provider's working hours by weekday (0 = Monday), each day's in time order: one query."""
    week: dict[int, list[WorkingHours]] = {day: [] for day in range(7)}
    for entry in WorkingHours.objects.filter(tenant=tenant, provider_id=provider_id).order_by(
        "weekday", "starts_at"
    ):
        week[entry.weekday].append(entry)
    return week
