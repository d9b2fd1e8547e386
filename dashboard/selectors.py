"""The dashboard's figures for one clinic, computed in three SQL statements whatever its size,
and their per-clinic cache.

Invalidation: the patients, appointments and documents writes send core's `clinic_data_changed`,
and `dashboard_invalidate` (connected in DashboardConfig.ready) bumps the clinic's
"tenant:<id>:dashboard" namespace now and after commit, so the cached figures never outlive a write;
the TTL only bounds how long the figures that depend on the clock alone ("today", "next 7 days") may
lag, and beat re-warms them.
"""

from datetime import timedelta
from typing import Any, Literal

from django.db.models import Count, Q
from django.utils import timezone

from appointments.models import AppointmentStatus
from appointments.selectors import appointment_filter, appointment_queryset
from documents.selectors import VISIBLE_DOCUMENTS_COUNTER
from keneyapp.accounts.models import Tenant
from keneyapp.core.caching import bump_on_commit, cache_service, clinic_namespace, get_or_compute
from keneyapp.core.clinic_time import clinic_zone, day_start
from keneyapp.core.row_counts import row_counts
from messaging.selectors import unread_count
from patients.selectors import ACTIVE_PATIENTS_COUNTER, patient_queryset

DASHBOARD_TTL_SECONDS = 300  # the guide's 5 minutes; beat re-warms every 5 minutes too
DASHBOARD_NAMESPACE = "dashboard"
UPCOMING_DAYS = 7
NO_SHOW_WINDOW_DAYS = 30


def dashboard_stats(tenant: Tenant) -> dict[str, Any]:
    """The clinic's figures, in three statements: the active-patient and visible-document counters
    (one read of both), one count of this month's patients, one conditional aggregate over the
    appointments of the window concerned.

    Days and months are the clinic's (its time zone); "next 7 days" is from now, cancelled ones
    left out; the no-show rate is no_show / (completed + no_show) over the last 30 days, None when
    there is neither.
    """
    zone = clinic_zone(tenant)
    now = timezone.now()
    today = now.astimezone(zone).date()
    today_start = day_start(today, zone)
    tomorrow_start = day_start(today + timedelta(days=1), zone)
    month_start = day_start(today.replace(day=1), zone)
    upcoming_end = now + timedelta(days=UPCOMING_DAYS)
    no_show_start = now - timedelta(days=NO_SHOW_WINDOW_DAYS)

    counters = row_counts(tenant=tenant, counters=(ACTIVE_PATIENTS_COUNTER, VISIBLE_DOCUMENTS_COUNTER))
    total_patients = counters[ACTIVE_PATIENTS_COUNTER]
    new_this_month = patient_queryset(tenant=tenant).filter(created_at__gte=month_start).count()

    # One row per status, three windows counted in each: fewer expressions for Django to build
    # than a count per status and window (it was most of the statement's cost). Only the rows of
    # the windows are read, from the (tenant, appointment_date) index that also covers status.
    window = appointment_filter(
        appointment_queryset(tenant=tenant),
        starts_from=min(today_start, no_show_start),
        starts_before=max(tomorrow_start, upcoming_end),
    )
    per_status = {
        row["status"]: row
        for row in window.order_by()
        .values("status")
        .annotate(
            today=Count(
                "id", filter=Q(appointment_date__gte=today_start, appointment_date__lt=tomorrow_start)
            ),
            upcoming=Count("id", filter=Q(appointment_date__gte=now, appointment_date__lt=upcoming_end)),
            recent=Count("id", filter=Q(appointment_date__gte=no_show_start, appointment_date__lt=now)),
        )
    }

    def count(status: str, window_name: Literal["today", "upcoming", "recent"]) -> int:
        return per_status[status][window_name] if status in per_status else 0

    recent_completed = count(AppointmentStatus.COMPLETED, "recent")
    recent_no_show = count(AppointmentStatus.NO_SHOW, "recent")
    seen = recent_completed + recent_no_show
    return {
        "patients": {"total": total_patients, "new_this_month": new_this_month},
        "appointments": {
            "today": {status: count(status, "today") for status in AppointmentStatus.values},
            "next_7_days": sum(
                count(status, "upcoming")
                for status in AppointmentStatus.values
                if status != AppointmentStatus.CANCELLED
            ),
            "no_show_rate_30_days": round(recent_no_show / seen, 4) if seen else None,
        },
        # Not deleted, of active patients (pending uploads and reports included), as the
        # document list counts them: the trigger-maintained counter.
        "documents": {"total": counters[VISIBLE_DOCUMENTS_COUNTER]},
        "computed_at": now,
    }


def dashboard_cache_key(tenant_id: int) -> str | None:
    """The clinic's key: its id in the prefix, versioned by its dashboard namespace (None when
    the shared cache is unreachable: then nothing is cached)."""
    return cache_service.versioned_key(
        f"dashboard:{int(tenant_id)}:stats",
        namespaces=[clinic_namespace(tenant_id, DASHBOARD_NAMESPACE)],
    )


def dashboard_invalidate(sender, *, tenant_id: int, **kwargs) -> None:
    """Receiver of keneyapp.core.signals.clinic_data_changed: the clinic's cached figures miss now
    and again after the writer's transaction commits."""
    bump_on_commit(clinic_namespace(tenant_id, DASHBOARD_NAMESPACE))


def dashboard_stats_cached(tenant: Tenant) -> dict[str, Any]:
    """The clinic's figures from the cache; on a miss one caller computes them (stampede guard)."""
    return get_or_compute(
        dashboard_cache_key(tenant.pk), lambda: dashboard_stats(tenant), DASHBOARD_TTL_SECONDS
    )


def dashboard_warm(tenant: Tenant) -> dict[str, Any]:
    """Recompute the clinic's figures and store them, whatever is cached."""
    stats = dashboard_stats(tenant)
    cache_service.set(dashboard_cache_key(tenant.pk), stats, DASHBOARD_TTL_SECONDS)
    return stats


def active_clinics():
    return Tenant.objects.filter(is_active=True).order_by("pk")


def unread_messages(user) -> int:
    """The caller's unread messages, from the messaging selector (one count on the partial unread
    index). Never cached: it is the caller's own and changes with every message."""
    return unread_count(tenant=user.tenant_id, user=user.pk)
