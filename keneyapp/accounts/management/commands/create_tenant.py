import getpass
import os

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.utils.text import slugify

from keneyapp.accounts.services import tenant_create
from keneyapp.core.scoping import scopes_disabled

PASSWORD_ENV = "KENEYAPP_ADMIN_PASSWORD"  # noqa: S105 (the variable's name, not a password)


class Command(BaseCommand):
    help = (
        "Create a clinic and its first administrator. The password is prompted for, or read from "
        f"the {PASSWORD_ENV} environment variable; never from the command line (it would be in "
        "the shell history and the process list)."
    )

    def add_arguments(self, parser):
        parser.add_argument("name", help="The clinic's name.")
        parser.add_argument("--slug", help="URL-safe identifier (default: from the name).")
        parser.add_argument("--timezone", default="UTC", help="IANA time zone, e.g. Africa/Dakar.")
        parser.add_argument("--admin-username", required=True)
        parser.add_argument("--admin-email", default="")

    # Platform administration: it creates a clinic, so there is no clinic scope to enter yet.
    @scopes_disabled()
    def handle(self, *args, name, slug, timezone, admin_username, admin_email, **options):
        password = os.environ.get(PASSWORD_ENV)
        if not password:
            if not os.isatty(0):
                raise CommandError(f"Set {PASSWORD_ENV} or run interactively to be prompted.")
            password = getpass.getpass("Password for the clinic administrator: ")
            if password != getpass.getpass("Again: "):
                raise CommandError("The passwords do not match.")
        try:
            tenant, admin = tenant_create(
                name=name,
                slug=slug or slugify(name),
                timezone_name=timezone,
                admin_username=admin_username,
                admin_email=admin_email,
                admin_password=password,
            )
        except ValidationError as exc:
            raise CommandError(
                "; ".join(f"{k}: {' '.join(v)}" for k, v in exc.message_dict.items())
            ) from None
        self.stdout.write(
            self.style.SUCCESS(f"Created clinic {tenant.name} ({tenant.slug}) with admin {admin.username}.")
        )
