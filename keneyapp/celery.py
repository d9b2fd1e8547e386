"""The Celery app. Tasks run eagerly in-process on the embedded defaults (no broker needed);
with REDIS_URL (or CELERY_BROKER_URL) set, a worker and beat run them, as deploy/ describes."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "keneyapp.settings")

app = Celery("keneyapp")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
