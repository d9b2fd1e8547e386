from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "keneyapp.accounts"
    label = "accounts"
    verbose_name = "Clinics and staff"

    def ready(self) -> None:
        from keneyapp.accounts import (
            revocation,  # noqa: F401 (connects its receivers)
            schema,  # noqa: F401 (registers the schema's bearer scheme)
        )
