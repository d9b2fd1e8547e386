"""The admin's working hours as a weekly grid, per doctor or nurse.

One row per weekday, a few intervals per day (08:00-12:00 and 14:00-18:00); "Copy Monday to
Monday-Friday" fills Tuesday to Friday with Monday's intervals. Saving replaces the provider's week
through services.working_hours_set_week, which refuses an end before its start and overlapping
intervals with a sentence naming the day and the hours (never a constraint's name). Anyone who may
view schedules sees the grid; only the roles that may change them (roles table: schedules.change)
save it. Working hours name no patient: nothing is recorded in the audit trail.
"""

from datetime import time
from urllib.parse import urlencode

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponseNotAllowed, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from appointments import calendar_selectors, selectors, services
from appointments.admin_pages import ClinicPageMixin
from appointments.models import Weekday
from keneyapp.core import audit

MIN_SLOTS = 3  # empty intervals offered per day beyond those set
WEEKDAYS = range(5)  # what "copy to Monday-Friday" fills from Monday
COPY_BUTTON = "copy_monday"


def field_name(weekday: int, slot: int, end: str) -> str:
    return f"d{weekday}_{slot}_{end}"


class WeekForm(forms.Form):
    """Start and end times per weekday and interval; an interval is both or neither."""

    provider = forms.IntegerField(min_value=1, max_value=2**63 - 1, widget=forms.HiddenInput)

    def __init__(self, *args, slots: int, **kwargs):
        super().__init__(*args, **kwargs)
        self.slots = slots
        for weekday in Weekday.values:
            for slot in range(slots):
                for end in ("start", "end"):
                    self.fields[field_name(weekday, slot, end)] = forms.TimeField(
                        required=False,
                        widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
                        label=f"{Weekday(weekday).label} {slot + 1} {end}",
                    )

    def clean(self):
        cleaned = super().clean()
        for weekday in Weekday.values:
            for slot in range(self.slots):
                start = cleaned.get(field_name(weekday, slot, "start"))
                end = cleaned.get(field_name(weekday, slot, "end"))
                if (start is None) != (end is None):
                    raise ValidationError(
                        _("%(day)s: give both the start and the end of each interval, or neither.")
                        % {"day": Weekday(weekday).label}
                    )
        return cleaned

    def week(self) -> dict[int, list[tuple[time, time]]]:
        data = self.cleaned_data
        week: dict[int, list[tuple[time, time]]] = {}
        for weekday in Weekday.values:
            week[weekday] = [
                (data[field_name(weekday, slot, "start")], data[field_name(weekday, slot, "end")])
                for slot in range(self.slots)
                if data.get(field_name(weekday, slot, "start")) is not None
            ]
        return week

    def rows(self):
        """(weekday label, [(start field, end field), ...]) for the template."""
        return [
            (
                Weekday(weekday).label,
                [
                    (self[field_name(weekday, slot, "start")], self[field_name(weekday, slot, "end")])
                    for slot in range(self.slots)
                ],
            )
            for weekday in Weekday.values
        ]


def initial_week(week_hours: dict, slots: int) -> dict:
    initial = {}
    for weekday, entries in week_hours.items():
        for slot, entry in enumerate(entries[:slots]):
            initial[field_name(weekday, slot, "start")] = entry.starts_at
            initial[field_name(weekday, slot, "end")] = entry.ends_at
    return initial


class HoursGridAdminMixin(ClinicPageMixin):
    """Adds /admin/appointments/workinghours/week/ to the working hours admin."""

    grid_title = gettext_lazy("Working hours by week")

    def get_urls(self):
        return [
            path(
                "week/",
                self.admin_site.admin_view(self.week_view),
                name="appointments_workinghours_week",
            ),
            *super().get_urls(),
        ]

    def week_view(self, request):
        if request.method not in ("GET", "HEAD", "POST"):
            return HttpResponseNotAllowed(["GET", "POST"])
        tenant, _zone = self.clinic_page_checks(request, action=audit.Action.VIEW)
        providers = calendar_selectors.clinic_providers(tenant=tenant)
        source = request.POST if request.method == "POST" else request.GET
        try:
            provider_id = int(source.get("provider", "")) if source.get("provider") else None
        except ValueError:
            provider_id = -1  # not a number: no such provider (404 below)
        provider = self.page_provider(provider_id, providers) if provider_id is not None else None
        if provider is None and providers:
            provider = providers[0]
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": self.grid_title,
            "providers": providers,
            "provider": provider,
            "may_change": self._role_allows(request, "change"),
            "copy_button": COPY_BUTTON,
        }
        if provider is None:
            return TemplateResponse(request, "admin/appointments/hours.html", context)
        week_hours = selectors.provider_week_hours(tenant=tenant, provider_id=provider.pk)
        slots = max(MIN_SLOTS, *(len(entries) + 1 for entries in week_hours.values()))
        if request.method != "POST":
            form = WeekForm(initial={"provider": provider.pk, **initial_week(week_hours, slots)}, slots=slots)
            return TemplateResponse(request, "admin/appointments/hours.html", {**context, "form": form})

        if not context["may_change"]:
            raise PermissionDenied
        posted_slots = _posted_slots(request.POST, slots)
        form = WeekForm(request.POST, slots=posted_slots)
        if form.is_valid():
            week = form.week()
            copying = COPY_BUTTON in request.POST
            if copying:
                week.update({weekday: list(week[0]) for weekday in WEEKDAYS})
            try:
                services.working_hours_set_week(tenant=tenant, provider_id=provider.pk, week=week)
            except ValidationError as error:
                for problems in error.message_dict.values():
                    for problem in problems:
                        form.add_error(None, problem)
            else:
                saved = (
                    _("Monday's hours copied to Monday-Friday and saved for %(name)s.")
                    if copying
                    else _("Working hours saved for %(name)s.")
                )
                messages.success(request, saved % {"name": provider.display_name})
                url = reverse("admin:appointments_workinghours_week")
                return HttpResponseRedirect(f"{url}?{urlencode({'provider': provider.pk})}")
        return TemplateResponse(
            request, "admin/appointments/hours.html", {**context, "form": form}, status=400
        )


def _posted_slots(data, at_least: int) -> int:
    """How many intervals per day the posted grid had (a page rendered before a new interval was
    set elsewhere may have fewer or more than the grid would offer now)."""
    slots = at_least
    while any(field_name(weekday, slots, "start") in data for weekday in Weekday.values):
        slots += 1
    return slots
