from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DashboardConfig(AppConfig):
    """The clinic's dashboard: figures read from every domain through its selectors, cached per
    clinic, and re-warmed by Celery beat. No domain depends on it."""

    name = "dashboard"
    verbose_name = _("Dashboard")
    label = "dashboard"

    def ready(self) -> None:
        from dashboard import selectors
        from keneyapp.core.signals import clinic_data_changed

        clinic_data_changed.connect(selectors.dashboard_invalidate, dispatch_uid="dashboard.invalidate")
