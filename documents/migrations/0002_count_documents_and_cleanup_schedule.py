"""Keep the number of documents per clinic exact in core_tenantrowcount (database triggers), for the
list's total and the dashboard, and schedule cleanup_old_files (low queue) every 15 minutes."""

from django.db import migrations

from keneyapp.core.beat_schedules import schedule_every
from keneyapp.core.row_counts import CountRowsPerTenant


class Migration(migrations.Migration):
    dependencies = [
        ("documents", "0001_initial"),
        ("core", "0001_initial"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [
        CountRowsPerTenant(counter="documents.active", table="documents_document", flag="is_deleted"),
        schedule_every(
            name="Remove expired direct uploads",
            task="documents.cleanup_old_files",
            minutes=15,
            queue="low",
            description="Deletes direct uploads never confirmed before DOCUMENT_PRESIGN_EXPIRY_SECONDS, and their objects.",
        ),
    ]
