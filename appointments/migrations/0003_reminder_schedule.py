"""The beat schedule for reminders, every 10 minutes."""

from django.db import migrations

from keneyapp.core.beat_schedules import schedule_every


class Migration(migrations.Migration):
    dependencies = [
        ("appointments", "0002_provider_no_overlap"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [
        schedule_every(
            name="Send appointment reminders",
            task="appointments.send_appointment_reminders",
            minutes=10,
            queue="default",
            description="Emails patients whose appointment starts within REMINDER_WINDOW_HOURS.",
        )
    ]
