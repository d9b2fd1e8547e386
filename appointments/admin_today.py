"""The front desk's today: the clinic's day (its date in its time zone), every appointment in time
order, per provider or all, with one-click Check in, No show, Cancel and Complete.

Only the actions the user's role may take and the appointment's status allows are offered; each
is a POST (CSRF-checked) through the booking services the API uses, so the status table, the
roles table, the arrival time, the dashboard's invalidation and the live event come from one
place. A forced POST of an action the role may not take is a 403, recorded as denied; an
appointment of another clinic is a 404, recorded as an attempt.

The page listens on /ws/notifications/ with a socket ticket (keneyapp/accounts/tokens.py) and
reloads itself when a colleague changes an appointment it shows (appointments/static/appointments/
today.js).
"""

from dataclasses import dataclass
from html import escape
from urllib.parse import urlencode

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import Http404, HttpResponseRedirect
from django.middleware.csrf import get_token
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from appointments import calendar_selectors, services
from appointments.admin_pages import ClinicPageMixin, PageQuery
from appointments.models import AppointmentStatus
from appointments.status_rules import action_for_status, can_transition
from keneyapp.accounts.tokens import issue_socket_ticket
from keneyapp.core import audit
from keneyapp.core.errors import ConflictError


@dataclass(frozen=True)
class DeskAction:
    name: str
    target: str
    label: str


DESK_ACTIONS = {
    action.name: action
    for action in (
        DeskAction("check_in", AppointmentStatus.CHECKED_IN, gettext_lazy("Check in")),
        DeskAction("no_show", AppointmentStatus.NO_SHOW, gettext_lazy("No show")),
        DeskAction("cancel", AppointmentStatus.CANCELLED, gettext_lazy("Cancel")),
        DeskAction("complete", AppointmentStatus.COMPLETED, gettext_lazy("Complete")),
    )
}


def role_may(user, target: str) -> bool:
    """Whether the user's role may move an appointment into `target` (the booking service's rule)."""
    if user.is_superuser and user.tenant_id is None:
        return True
    return user.role_allows(action_for_status(target))


def offered_actions(user, status: str) -> list[DeskAction]:
    return [a for a in DESK_ACTIONS.values() if can_transition(status, a.target) and role_may(user, a.target)]


class TodayAdminMixin(ClinicPageMixin):
    """Adds /admin/appointments/appointment/today/ and its actions to the appointments admin."""

    def get_urls(self):
        return [
            path(
                "today/", self.admin_site.admin_view(self.today_view), name="appointments_appointment_today"
            ),
            path(
                "<id:object_id>/desk/<slug:action>/",
                self.admin_site.admin_view(require_POST(self.desk_action_view)),
                name="appointments_appointment_desk_action",
            ),
            *super().get_urls(),
        ]

    def today_view(self, request):
        tenant, zone = self.clinic_page_checks(request)
        query = PageQuery(request.GET)
        providers = calendar_selectors.clinic_providers(tenant=tenant)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": _("Today at the front desk"),
            "query": query,
            "providers": providers,
            "rows": [],
        }
        if not query.is_valid():
            return TemplateResponse(request, "admin/appointments/today.html", context, status=400)
        provider = self.page_provider(query.cleaned_data["provider"], providers)
        day = query.cleaned_data["date"] or calendar_selectors.clinic_today(zone)
        rows = calendar_selectors.clinic_day(
            tenant=tenant, day=day, zone=zone, provider_id=provider.pk if provider else None
        )
        # What every row's form carries back: the CSRF token, the page's date and provider.
        form_fields = format_html(
            '<input type="hidden" name="csrfmiddlewaretoken" value="{}">'
            '<input type="hidden" name="date" value="{}">{}',
            get_token(request),
            day.isoformat(),
            format_html('<input type="hidden" name="provider" value="{}">', provider.pk) if provider else "",
        )
        self._prepare_rows(request, rows, form_fields)
        self.audit_page(request, rows)
        context.update(
            rows=rows,
            provider=provider,
            day=day,
            zone=zone.key,
            socket_ticket=issue_socket_ticket(user=request.user),
        )
        return TemplateResponse(request, "admin/appointments/today.html", context)

    def _prepare_rows(self, request, rows: list[dict], form_fields: str) -> None:
        """Each row's table cells as HTML, made here (every value escaped) instead of by some twenty
        template nodes per row: a day of 200 appointments renders in a fraction of the time
        (bench/today_page.py). `form_fields` is our own markup, its values escaped."""
        base = reverse("admin:appointments_appointment_changelist")
        offers: dict[str, list[tuple[str, str]]] = {}
        for row in rows:
            status = row["status"]
            if status not in offers:
                offers[status] = [(a.name, str(a.label)) for a in offered_actions(request.user, status)]
            row["actions"] = offers[status]
            buttons = " ".join(
                f'<button type="submit" class="button" formaction="{base}{row["id"]}/desk/{name}/" '
                f'name="do" value="{name}">{escape(label)}</button>'
                for name, label in offers[status]
            )
            form = f'<form method="post">{form_fields}{buttons}</form>' if buttons else ""
            arrived = f"{row['arrived_at']:%H:%M}" if row["arrived_at"] else ""
            # Every value from the database or a translation is escaped (html.escape: quotes too).
            row["cells"] = mark_safe(  # noqa: S308 (built from escaped values and our own markup)
                f'<td><a href="{base}{row["id"]}/change/">{row["appointment_date"]:%H:%M}-'
                f"{row['ends_at']:%H:%M}</a></td>"
                f"<td>{escape(row['patient_name'])} <small>{escape(row['patient__mrn'])}</small></td>"
                f"<td>{escape(row['patient__phone_number'])}</td>"
                f"<td>{escape(row['provider_name'] or '—')}</td>"
                f"<td>{escape(str(row['status_label']))}</td><td>{arrived}</td><td>{form}</td>"
            )

    def desk_action_view(self, request, object_id: int, action: str):
        tenant, zone = self.clinic_page_checks(request, action=audit.Action.CHANGE)
        appointment = calendar_selectors.appointment_for_desk(tenant=tenant, appointment_id=object_id)
        if appointment is None or action not in DESK_ACTIONS:
            self._audit(audit.Action.CHANGE, object_id=object_id, outcome=audit.Outcome.ATTEMPTED)
            raise Http404(_("No such appointment in this clinic."))
        desk = DESK_ACTIONS[action]
        if not role_may(request.user, desk.target):
            self._audit(audit.Action.CHANGE, appointment, outcome=audit.Outcome.DENIED)
            raise PermissionDenied
        try:
            with transaction.atomic():
                if desk.target == AppointmentStatus.CANCELLED:
                    changed = services.appointment_cancel(
                        appointment=appointment, actor=request.user, reason=""
                    )
                else:
                    changed = services.appointment_update(
                        appointment=appointment,
                        actor=request.user,
                        changes={"status": desk.target},
                        zone=zone,
                    ).appointment
                fields = (
                    ["status", "arrived_at"] if desk.target == AppointmentStatus.CHECKED_IN else ["status"]
                )
                self._audit_write(audit.Action.CHANGE, changed, fields=fields)
        except ConflictError as error:
            messages.error(request, error.detail)
        else:
            messages.success(
                request,
                _("%(patient)s: %(status)s.")
                % {"patient": changed.patient.full_name, "status": changed.get_status_display()},
            )
        return HttpResponseRedirect(self._today_url(request))

    def _today_url(self, request) -> str:
        """Back to the page the action was taken on (its date and provider, if they parse)."""
        query = PageQuery(request.POST)
        params = {}
        if query.is_valid():
            params = {name: value for name, value in query.cleaned_data.items() if value is not None}
        url = reverse("admin:appointments_appointment_today")
        return f"{url}?{urlencode(params)}" if params else url
