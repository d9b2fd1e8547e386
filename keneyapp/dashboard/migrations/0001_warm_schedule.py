"""The beat schedule warming the dashboards exists after `migrate`, and stays editable in the admin
(Periodic tasks). Re-running the migration never duplicates it."""

from django.db import migrations

TASK_NAME = "Warm dashboard cache"
EVERY_MINUTES = 5


def create_schedule(apps, schema_editor):
    IntervalSchedule = apps.get_model("django_celery_beat", "IntervalSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    interval, _ = IntervalSchedule.objects.get_or_create(every=EVERY_MINUTES, period="minutes")
    PeriodicTask.objects.get_or_create(
        name=TASK_NAME,
        defaults={
            "task": "dashboard.warm_dashboard_cache",
            "interval": interval,
            "queue": "low",
            "description": "Recomputes every active clinic's dashboard figures into the cache.",
        },
    )


def remove_schedule(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(name=TASK_NAME).delete()


class Migration(migrations.Migration):
    dependencies = [("django_celery_beat", "0019_alter_periodictasks_options")]

    operations = [migrations.RunPython(create_schedule, remove_schedule)]
