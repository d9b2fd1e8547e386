from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "keneyapp.core"
    label = "core"
    verbose_name = "KeneyApp core"

    def ready(self) -> None:
        from keneyapp.core import monitoring

        monitoring.install_slow_query_logging()
