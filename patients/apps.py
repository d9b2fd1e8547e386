from django.apps import AppConfig


class PatientsConfig(AppConfig):
    name = "patients"

    def ready(self):
        from patients import cache  # noqa: F401 (connects the invalidation on every save and delete)
