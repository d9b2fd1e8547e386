"""The beat schedule for reminders exists after `migrate`, and stays editable in the admin
(Periodic tasks). Re-running the migration never duplicates it."""

from django.db import migrations

TASK_NAME = "Send appointment reminders"
EVERY_MINUTES = 10


def create_schedule(apps, schema_editor):
    IntervalSchedule = apps.get_model("django_celery_beat", "IntervalSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    interval, _ = IntervalSchedule.objects.get_or_create(every=EVERY_MINUTES, period="minutes")
    PeriodicTask.objects.get_or_create(
        name=TASK_NAME,
        defaults={
            "task": "appointments.send_appointment_reminders",
            "interval": interval,
            "queue": "default",
            "priority": 5,
            "description": "Emails patients whose appointment starts within REMINDER_WINDOW_HOURS.",
        },
    )


def remove_schedule(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(name=TASK_NAME).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("appointments", "0002_provider_no_overlap"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(create_schedule, remove_schedule)]
