"""The Celery app. Tasks run eagerly in-process on the embedded defaults (no broker needed);
with REDIS_URL (or CELERY_BROKER_URL) set, a worker and beat run them, as deploy/ describes."""

import os

from celery import Celery
from celery.signals import beat_init, worker_init

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "keneyapp.settings")

# Every task of the project, also those declared with @shared_task, is a ProjectTask (queued after
# the caller's commit, broker errors logged): tests/tasks checks that none escapes it.
app = Celery("keneyapp", task_cls="keneyapp.core.tasks:ProjectTask")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@worker_init.connect
@beat_init.connect
def _refuse_insecure_secret_key(sender=None, **kwargs) -> None:
    from django.core.exceptions import ImproperlyConfigured

    from keneyapp.core.secret_key import refuse_insecure_secret_key

    try:
        refuse_insecure_secret_key("celery")
    except ImproperlyConfigured as refused:
        # Celery logs and ignores exceptions raised by signal handlers; exiting is not ignored.
        raise SystemExit(str(refused)) from None
