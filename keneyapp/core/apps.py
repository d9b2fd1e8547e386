from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    name = "keneyapp.core"
    label = "core"
    verbose_name = _("KeneyApp core")

    def ready(self) -> None:
        from django.urls import register_converter

        from keneyapp.core import checks, monitoring  # noqa: F401 (checks: registers them)
        from keneyapp.core.url_converters import ObjectIdConverter

        monitoring.install_slow_query_logging()
        # Here, not in the root URLconf: every app's urls.py uses <id:pk>, whichever is imported first.
        register_converter(ObjectIdConverter, "id")
