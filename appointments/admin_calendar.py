"""The admin's calendar: a provider's day or week, working hours shaded, time off, booked
appointments (patient and status) and free slots, each free slot one click from the booking form
pre-filled with the provider, the start and the default duration.

The free slots are the availability API's (calendar_selectors.provider_days calls
selectors.provider_availability); the booking form saves through the booking service as any add.
"""

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from urllib.parse import urlencode

from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.translation import gettext as _

from appointments import calendar_selectors
from appointments.admin_pages import ClinicPageMixin, PageQuery
from appointments.availability import Interval
from appointments.models import RELEASED_STATUSES, Appointment
from keneyapp.core.clinic_time import InvalidClinicTime, clinic_zone, localize, parse_clinic_datetime

# The booking form's default length: the model's (what a new appointment takes when not told).
DEFAULT_DURATION = Appointment._meta.get_field("duration_minutes").default
DAY_OPENS, DAY_CLOSES = time(8, 0), time(18, 0)  # the grid's least extent, widened to what it shows
VIEWS = ("day", "week")


@dataclass
class Cell:
    working: bool = False
    off: bool = False
    busy: bool = False
    gap: bool = False  # a wall-clock time a daylight-saving change skips
    appointments: list[dict] = field(default_factory=list)
    slots: list[tuple[datetime, str]] = field(default_factory=list)  # (start, booking form URL)


def _overlaps(intervals: list[Interval], start: datetime, end: datetime) -> bool:
    return any(i.start < end and start < i.end for i in intervals)


def _grid_times(data: calendar_selectors.ProviderDays, zone, step: timedelta) -> list[time]:
    """The rows: wall-clock steps covering opening hours and everything shown."""
    opens, closes = DAY_OPENS, DAY_CLOSES
    moments = [(i.start, i.end) for i in data.working]
    moments += [(row["appointment_date"], row["ends_at"]) for row in data.appointments]
    for start, end in moments:
        local_start, local_end = start.astimezone(zone), end.astimezone(zone)
        opens = min(opens, local_start.time())
        closes = max(closes, local_end.time() if local_end.date() == local_start.date() else time.max)
    first = datetime.combine(date.min, time(opens.hour))
    rows, moment = [], first
    while moment.time() < closes and moment.date() == date.min:
        rows.append(moment.time())
        moment += step
    return rows


def booking_url(provider_id: int, start: datetime, minutes: int) -> str:
    query = {
        "provider": provider_id,
        "appointment_date": f"{start:%Y-%m-%dT%H:%M}",
        "duration_minutes": minutes,
    }
    return f"{reverse('admin:appointments_appointment_add')}?{urlencode(query)}"


def calendar_grid(data: calendar_selectors.ProviderDays, zone) -> list[tuple[time, list[Cell]]]:
    step = timedelta(minutes=data.slot_minutes)
    grid = []
    for moment in _grid_times(data, zone, step):
        cells = []
        for day in data.days:
            try:
                start = localize(datetime.combine(day, moment), zone)
            except InvalidClinicTime:
                cells.append(Cell(gap=True))
                continue
            end = start + step
            cell = Cell(
                working=_overlaps(data.working, start, end),
                off=_overlaps(data.time_off, start, end),
            )
            for row in data.appointments:
                if start <= row["appointment_date"] < end:
                    cell.appointments.append(row)
                elif (
                    row["status"] not in RELEASED_STATUSES
                    and row["appointment_date"] < start < row["ends_at"]
                ):
                    cell.busy = True  # a visit that began in an earlier row
            for slot in data.free_slots:
                if start <= slot.start < end:
                    local = slot.start.astimezone(zone)
                    cell.slots.append((local, booking_url(data.provider.pk, local, data.slot_minutes)))
            cells.append(cell)
        grid.append((moment, cells))
    return grid


class CalendarAdminMixin(ClinicPageMixin):
    """Adds /admin/appointments/appointment/calendar/ to the appointments admin."""

    def get_urls(self):
        return [
            path(
                "calendar/",
                self.admin_site.admin_view(self.calendar_view),
                name="appointments_appointment_calendar",
            ),
            *super().get_urls(),
        ]

    def get_changeform_initial_data(self, request):
        """The calendar's "book" link: ?appointment_date=<clinic wall-clock ISO> pre-fills the start
        (Django's own initial data cannot fill a date-and-time field from one value)."""
        initial = super().get_changeform_initial_data(request)
        value = request.GET.get("appointment_date")
        if value and request.user.tenant_id is not None:
            try:
                initial["appointment_date"] = parse_clinic_datetime(value, clinic_zone(request.user.tenant))
            except InvalidClinicTime:
                initial.pop("appointment_date", None)
        return initial

    def calendar_view(self, request):
        tenant, zone = self.clinic_page_checks(request)
        query = PageQuery(request.GET)
        view = request.GET.get("view", "day")
        providers = calendar_selectors.clinic_providers(tenant=tenant)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": _("Calendar"),
            "query": query,
            "providers": providers,
            "view": view if view in VIEWS else "day",
        }
        if not query.is_valid():
            return TemplateResponse(request, "admin/appointments/calendar.html", context, status=400)
        provider = self.page_provider(query.cleaned_data["provider"], providers)
        if provider is None and providers:
            provider = providers[0]
        day = query.cleaned_data["date"] or calendar_selectors.clinic_today(zone)
        first = day - timedelta(days=day.weekday()) if context["view"] == "week" else day
        last = first + timedelta(days=6) if context["view"] == "week" else day
        context.update(provider=provider, day=day, days=[], grid=[])
        if provider is not None:
            data = calendar_selectors.provider_days(
                tenant=tenant,
                provider=provider,
                date_from=first,
                date_to=last,
                slot_minutes=DEFAULT_DURATION,
                zone=zone,
            )
            self.audit_page(request, data.appointments)
            context.update(
                days=data.days,
                grid=calendar_grid(data, zone),
                data=data,
            )
        span = timedelta(days=7 if context["view"] == "week" else 1)
        context.update(
            previous_day=day - span, next_day=day + span, today=calendar_selectors.clinic_today(zone)
        )
        return TemplateResponse(request, "admin/appointments/calendar.html", context)
