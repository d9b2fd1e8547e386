from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DemoConfig(AppConfig):
    """Demo and benchmark data (`manage.py seed_demo`). Knows every domain; nothing depends on it."""

    name = "demo"
    verbose_name = _("Demo data")
    label = "demo"
