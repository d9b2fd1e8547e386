import logging

from celery import shared_task
from django_scopes import scope

from dashboard.selectors import active_clinics, dashboard_warm

logger = logging.getLogger(__name__)


def warm_all(report=None) -> int:
    """Recompute every active clinic's figures into the cache; `report(tenant, stats)` after each.
    One clinic failing does not stop the others.

    A fan-out over clinics: it lists the clinics (not clinic-owned rows), then computes each
    clinic's figures inside that clinic's scope, so no figure can count another clinic's rows."""
    warmed = 0
    for tenant in active_clinics().iterator():
        try:
            with scope(tenant=tenant.pk):
                stats = dashboard_warm(tenant)
        except Exception:
            logger.exception("dashboard: warming clinic %s failed", tenant.pk)
            continue
        warmed += 1
        if report is not None:
            report(tenant, stats)
    return warmed


@shared_task(name="dashboard.warm_dashboard_cache")
def warm_dashboard_cache() -> int:
    """Run by Celery beat every 5 minutes (schedule created by migration, editable in the admin),
    on the low queue (see CELERY_TASK_ROUTES): a stale dashboard is only ever a slower one."""
    return warm_all()
