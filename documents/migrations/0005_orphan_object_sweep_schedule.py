"""Schedule sweep_orphan_objects (low queue) once a day: a stored object that no document or
version names (a process died between storing it and writing its row, or the row write and the
compensating delete both failed) is removed once it is DOCUMENT_ORPHAN_GRACE_SECONDS old."""

from django.db import migrations

from keneyapp.core.beat_schedules import schedule_every


class Migration(migrations.Migration):
    dependencies = [
        ("documents", "0004_keep_patient_clinic"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [
        schedule_every(
            name="Remove orphan document objects",
            task="documents.sweep_orphan_objects",
            minutes=24 * 60,
            queue="low",
            description="Deletes stored objects no document or version names, older than DOCUMENT_ORPHAN_GRACE_SECONDS.",
        ),
    ]
