"""Unusual access, flagged for the clinic's administrators (the core.flag_unusual_access beat task,
hourly; the flags are in the admin, "Unusual access flags").

Two signs, per user and per hour (UTC): more distinct patients than
AUDIT_UNUSUAL_PATIENTS_PER_HOUR viewed, listed or changed (someone browsing records they do not
treat, or a scraper); and any attempted access (an id of another clinic or of no row: someone
guessing ids). A flag is one row per (clinic, user, sign, hour), written again with the latest
count, so a run that repeats an hour (beat catching up, two runs) changes nothing twice.
"""

from datetime import datetime, timedelta
from typing import cast

from django.apps import apps
from django.conf import settings
from django.db.models import Count
from django.utils import timezone

from keneyapp.core.models import AuditEvent, AuditFlag
from keneyapp.core.scoping import scope


def hour_start(moment: datetime) -> datetime:
    return moment.replace(minute=0, second=0, microsecond=0)


def flag_clinic_hour(*, tenant_id: int, hour: datetime) -> int:
    """Flag the clinic's unusual users of `hour`: two indexed reads on (tenant, -at), then one
    write per flag. Runs inside the clinic's scope. Returns how many flags it wrote."""
    events = AuditEvent.objects.filter(tenant_id=tenant_id, at__gte=hour, at__lt=hour + timedelta(hours=1))
    events = events.exclude(user_id=None).order_by()
    many = (
        events.filter(outcome=AuditEvent.Outcome.ALLOWED)
        .exclude(patient_id=None)
        .values("user_id")
        .annotate(n=Count("patient_id", distinct=True))
        .filter(n__gt=settings.AUDIT_UNUSUAL_PATIENTS_PER_HOUR)
    )
    attempts = (
        events.filter(outcome=AuditEvent.Outcome.ATTEMPTED)
        .values("user_id")
        .annotate(n=Count("id"))
        .filter(n__gt=0)
    )
    flags = [(AuditFlag.Reason.MANY_PATIENTS, row) for row in many]
    flags += [(AuditFlag.Reason.CROSS_CLINIC, row) for row in attempts]
    for reason, row in flags:
        user_id = cast(int, row["user_id"])  # never None: excluded above
        AuditFlag.objects.update_or_create(
            tenant_id=tenant_id,
            user_id=user_id,
            reason=reason,
            hour=hour,
            defaults={"count": row["n"]},
        )
    return len(flags)


def flag_unusual_access(*, now: datetime | None = None) -> int:
    """Every clinic's last complete hour and the current one so far, each in its clinic's scope."""
    now = now or timezone.now()
    current = hour_start(now)
    # The clinics are read from accounts by name (core imports no account module).
    clinics = (
        apps.get_model("accounts", "Tenant")._default_manager.order_by("pk").values_list("pk", flat=True)
    )
    flagged = 0
    for tenant_id in clinics:
        with scope(tenant=tenant_id):
            for hour in (current - timedelta(hours=1), current):
                flagged += flag_clinic_hour(tenant_id=tenant_id, hour=hour)
    return flagged
