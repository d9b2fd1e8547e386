"""Remove audit events older than AUDIT_RETENTION_DAYS: the one DELETE the trail allows."""

from datetime import timedelta

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction
from django.utils import timezone

from keneyapp.core import audit
from keneyapp.core.models import AuditEvent
from keneyapp.core.scoping import scopes_disabled

# The transaction-local setting the append-only trigger reads (migration core/0002): a DELETE may
# remove rows older than the cutoff it holds, nothing else, and only in this command's transaction.
RETENTION_SETTING = "keneyapp.audit_retention"


class Command(BaseCommand):
    help = (
        "Delete audit events older than AUDIT_RETENTION_DAYS (default six years), every clinic's, "
        "and record the run in the trail. Run it daily (cron or a scheduler)."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--days", type=int, default=None, help="Keep this many days (default AUDIT_RETENTION_DAYS)."
        )

    # Retention is the platform's duty over every clinic's trail; it deletes by age only.
    @scopes_disabled()
    def handle(self, *args, days=None, **options):
        days = settings.AUDIT_RETENTION_DAYS if days is None else days
        if days < 1:
            raise CommandError("--days must be at least 1.")
        cutoff = timezone.now() - timedelta(days=days)
        with audit.open_trail(audit.Door.COMMAND, route="audit_retention") as trail, transaction.atomic():
            if connection.vendor == "postgresql":
                with connection.cursor() as cursor:
                    cursor.execute("SELECT set_config(%s, %s, true)", [RETENTION_SETTING, cutoff.isoformat()])
            deleted, _ = AuditEvent.objects.filter(at__lt=cutoff).delete()
            if trail is not None:
                # The run itself is recorded, in the same transaction as the deletion.
                trail.record(audit.Action.PURGE, AuditEvent, params=["days"])
                trail.flush()
        self.stdout.write(
            f"Deleted {deleted} audit events older than {cutoff:%Y-%m-%d %H:%M} UTC ({days} days)."
        )
