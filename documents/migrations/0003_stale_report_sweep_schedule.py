"""Schedule sweep_stale_reports (low queue) every 5 minutes: a report whose queueing was lost to a
broker outage is queued again once it has been pending REPORT_STALE_AFTER_SECONDS."""

from django.db import migrations

from keneyapp.core.beat_schedules import schedule_every


class Migration(migrations.Migration):
    dependencies = [
        ("documents", "0002_count_documents_and_cleanup_schedule"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [
        schedule_every(
            name="Queue stale patient reports again",
            task="documents.sweep_stale_reports",
            minutes=5,
            queue="low",
            description="Queues generate_report again for reports pending longer than REPORT_STALE_AFTER_SECONDS.",
        ),
    ]
