from django.core.management.base import BaseCommand, CommandError

from keneyapp.accounts import mfa
from keneyapp.accounts.models import User
from keneyapp.core import audit
from keneyapp.core.scoping import scopes_disabled


class Command(BaseCommand):
    help = (
        "Reset a user's second factor (authenticator app and recovery codes): their sessions and "
        "tokens end, and they enrol again at their next login. For a platform superuser who lost "
        "both, since no clinic admin can reset a superuser's (another superuser can, in the admin)."
    )

    def add_arguments(self, parser):
        parser.add_argument("username")

    # Platform administration: it reads an account, which belongs to no clinic scope (accounts.User
    # is not clinic-scoped; superusers may have no clinic).
    @scopes_disabled()
    def handle(self, *args, username, **options):
        user = User.objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"No user {username!r}.")
        # The command's door: the reset's audit event (keneyapp/accounts/mfa_audit.py) names it.
        with audit.audited(audit.Door.COMMAND, route="reset_second_factor"):
            mfa.second_factor_reset(user=user, by=None)
        self.stdout.write(
            self.style.SUCCESS(f"Second factor of {username} reset: they enrol again at their next login.")
        )
