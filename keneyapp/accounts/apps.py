from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "keneyapp.accounts"
    label = "accounts"
    verbose_name = _("Clinics and staff")

    def ready(self) -> None:
        # Imported for what they register: signal receivers (admin_sessions, revocation, mfa_audit)
        # and the schema's bearer scheme (schema).
        from keneyapp.accounts import admin_sessions, mfa_audit, revocation, schema  # noqa: F401
