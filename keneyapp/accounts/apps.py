from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "keneyapp.accounts"
    label = "accounts"
    verbose_name = "Clinics and staff"

    def ready(self) -> None:
        # Imported for the receivers they connect.
        from keneyapp.accounts import admin_sessions, revocation  # noqa: F401
