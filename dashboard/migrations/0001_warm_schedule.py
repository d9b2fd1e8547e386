"""The beat schedule warming the dashboards, every 5 minutes as the guide says."""

from django.db import migrations

from keneyapp.core.beat_schedules import schedule_every


class Migration(migrations.Migration):
    dependencies = [("django_celery_beat", "0019_alter_periodictasks_options")]

    operations = [
        schedule_every(
            name="Warm dashboard cache",
            task="dashboard.warm_dashboard_cache",
            minutes=5,
            queue="low",
            description="Recomputes every active clinic's dashboard figures into the cache.",
        )
    ]
