"""Warm the dashboard cache of every active clinic by hand, as the beat task does."""

from django.core.management.base import BaseCommand

from dashboard.tasks import warm_all
from keneyapp.core.scoping import scopes_disabled


class Command(BaseCommand):
    help = "Recompute every active clinic's dashboard figures into the cache, one line per clinic."

    # The beat task's fan-out by hand: every active clinic's dashboard, one after the other.
    @scopes_disabled()
    def handle(self, *args, **options):
        def report(tenant, stats):
            self.stdout.write(
                f"clinic {tenant.pk} ({tenant.slug}): {stats['patients']['total']} patients, "
                f"{stats['appointments']['next_7_days']} appointments in the next 7 days"
            )

        warmed = warm_all(report)
        self.stdout.write(self.style.SUCCESS(f"Warmed the dashboard of {warmed} clinic(s)."))
