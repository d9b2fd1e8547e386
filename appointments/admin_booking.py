"""What the admin's booking form says beyond the booking service's yes or no.

Soft warnings (the booking is saved): a start in the past, outside the provider's working hours,
during their time off. A double booking is still refused by the service (and, on PostgreSQL, by
the exclusion constraint); its message names the patient already booked and offers the provider's
next free slot, from the availability API's computation, as a link to the pre-filled form.
"""

from datetime import datetime
from zoneinfo import ZoneInfo

from django.utils.formats import date_format
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _

from appointments import calendar_selectors
from appointments.admin_calendar import booking_url
from appointments.models import Appointment
from keneyapp.accounts.models import Tenant, User
from keneyapp.core.errors import ConflictError


def warning_messages(appointment: Appointment, zone: ZoneInfo) -> list[str]:
    codes = calendar_selectors.booking_warnings(
        tenant=appointment.tenant_id,
        provider_id=appointment.provider_id,
        starts_at=appointment.appointment_date,
        ends_at=appointment.ends_at,
        zone=zone,
    )
    texts = {
        "past": _("This appointment starts in the past."),
        "outside_hours": _("This appointment is outside the provider's working hours."),
        "time_off": _("This appointment falls during the provider's time off."),
    }
    return [texts[code] for code in codes]


def _when(moment: datetime, zone: ZoneInfo) -> str:
    local = moment.astimezone(zone)
    return f"{date_format(local, 'l j F')} {local:%H:%M}"


def double_booking_message(
    error: ConflictError,
    *,
    tenant: Tenant,
    provider: User,
    starts_at: datetime,
    minutes: int,
    zone: ZoneInfo,
) -> str | SafeString:
    """'Dr Awa Ndiaye already sees Moussa Diop (A0000002) at 09:00-09:30.' and
    the next free slot, as a link to the booking form pre-filled with it."""
    clash = error.extra.get("conflicting_appointment")
    if clash is None:
        return error.detail
    booked = Appointment.objects.filter(tenant=tenant, pk=clash["id"]).select_related("patient").first()
    if booked is None:
        return error.detail
    text = format_html(
        _("{provider} already sees {patient} ({mrn}) at {start}-{end}."),
        provider=provider.display_name,
        patient=booked.patient.full_name,
        mrn=booked.patient.mrn,
        start=_when(clash["appointment_date"], zone),
        end=f"{clash['ends_at'].astimezone(zone):%H:%M}",
    )
    slot = calendar_selectors.next_free_slot(
        tenant=tenant, provider_id=provider.pk, after=starts_at, minutes=minutes, zone=zone
    )
    if slot is None:
        return format_html("{} {}", text, _("No free slot in the next two weeks."))
    local = slot.start.astimezone(zone)
    return format_html(
        '{} {} <a href="{}">{}</a>',
        text,
        _("Next free slot: %(when)s.") % {"when": _when(local, zone)},
        booking_url(provider.pk, local, minutes),
        _("Book it"),
    )
