from django.apps import AppConfig


class DashboardConfig(AppConfig):
    """The clinic's dashboard: figures read from every domain through its selectors, cached per
    clinic, and re-warmed by Celery beat. No domain depends on it."""

    name = "dashboard"
    label = "dashboard"
