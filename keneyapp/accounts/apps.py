from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "keneyapp.accounts"
    label = "accounts"
    verbose_name = "Clinics and staff"
