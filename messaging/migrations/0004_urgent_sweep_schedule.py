"""Schedule sweep_urgent_notifications (high queue) every minute: the email of an urgent message
whose queueing was lost to a broker outage, or whose worker died mid-send, is queued again."""

from django.db import migrations

from keneyapp.core.beat_schedules import schedule_every


class Migration(migrations.Migration):
    dependencies = [
        ("messaging", "0003_urgent_claim"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [
        schedule_every(
            name="Queue owed urgent notifications again",
            task="messaging.sweep_urgent_notifications",
            minutes=1,
            queue="high",
            description=(
                "Queues send_urgent_notification again for urgent messages still unread and not notified "
                "URGENT_NOTIFY_SWEEP_DELAY_SECONDS after they were written, up to URGENT_NOTIFY_MAX_AGE_SECONDS."
            ),
        ),
    ]
