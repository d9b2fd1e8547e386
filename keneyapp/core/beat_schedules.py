"""Periodic tasks that exist after `migrate` (django-celery-beat's database scheduler), and stay
editable in the admin (Periodic tasks). Re-running the migration never duplicates them."""

from django.db import migrations


def schedule_every(
    *, name: str, task: str, minutes: int, queue: str, description: str
) -> migrations.RunPython:
    """A migration operation creating (and, reversed, removing) one interval schedule."""

    def create(apps, schema_editor):
        IntervalSchedule = apps.get_model("django_celery_beat", "IntervalSchedule")
        PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
        interval, _ = IntervalSchedule.objects.get_or_create(every=minutes, period="minutes")
        PeriodicTask.objects.get_or_create(
            name=name,
            defaults={"task": task, "interval": interval, "queue": queue, "description": description},
        )

    def remove(apps, schema_editor):
        apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(name=name).delete()

    return migrations.RunPython(create, remove)
