"""The project's Celery task classes: every task of the project is one of these.

`ProjectTask` (the Celery app's default task class, keneyapp/celery.py):
- `delay()` / `apply_async()` called inside a transaction queue the task once it commits, so a
  worker never looks for a row that is not committed yet, and a rolled-back change queues
  nothing; outside a transaction they queue at once. (As pretix's TransactionAwareTask.)
- A broker that cannot be reached is logged, never raised: the caller's change is committed
  already, and a 500 would tell the client it failed. Publishing is bounded (settings:
  CELERY_BROKER_TRANSPORT_OPTIONS, CELERY_TASK_PUBLISH_RETRY_POLICY), so this takes seconds at
  worst. Work that such a loss could strand has a periodic sweep that queues it again
  (documents.sweep_stale_reports, messaging.sweep_urgent_notifications). Without a broker (eager
  tasks, the embedded defaults) the task runs in the caller's process, and its failure is logged
  the same way.

`ClinicTask` (`@shared_task(base=ClinicTask)`) is for work on one clinic's rows: it is called with
the keyword argument `clinic_id` and runs its body inside `django_scopes.scope(tenant=clinic_id)`,
as an API request does (pretix's EventTask). A clinic-owned model queried in the body without it
would raise.

Tasks take ids, never model instances (arguments travel as JSON), and load their rows themselves:
by the time a worker runs the task the row may have changed or gone.

Imports go one way: a domain's tasks.py is a door, like its api.py, and calls its services; a
service never imports its tasks module, it queues follow-up work by the task's registered name
with `queue_task` (the name is already the task's contract: CELERY_TASK_ROUTES and the beat
schedules use it).
"""

from __future__ import annotations

import logging
import time
from typing import Any

import redis.exceptions
from celery import Task, current_app, shared_task  # type: ignore[import-untyped]
from django.db import transaction
from django_scopes import scope
from kombu.exceptions import OperationalError

from keneyapp.core import audit

logger = logging.getLogger("keneyapp.tasks")

# What publishing raises when the broker is down or unreachable (kombu wraps the transport's
# connection errors in OperationalError once its publish retries are exhausted).
BROKER_ERRORS = (
    OperationalError,
    redis.exceptions.ConnectionError,
    redis.exceptions.TimeoutError,
    ConnectionError,
    TimeoutError,
)


# After a publish failed on a broker, tasks for it are logged as not queued without trying it for
# this long: with the broker frozen each try waits its read timeout (2 s), on every request that
# queues work. Keyed by broker URL; monotonic time of the last failure.
BROKER_RETRY_SECONDS = 2.0
_broker_failed_at: dict[str, float] = {}


def _broker_resting(url: str) -> bool:
    failed_at = _broker_failed_at.get(url)
    return failed_at is not None and time.monotonic() - failed_at < BROKER_RETRY_SECONDS


class ProjectTask(Task):
    """Queued after the caller's commit; a broker error is logged instead of raised."""

    def apply_async(self, args=None, kwargs=None, **options):
        """Queue now outside a transaction (returns the AsyncResult, or None if the broker failed);
        inside one, on commit (returns None: nothing is queued yet)."""
        if transaction.get_connection().in_atomic_block:
            transaction.on_commit(lambda: self._publish(args, kwargs, options))
            return None
        return self._publish(args, kwargs, options)

    def _publish(self, args, kwargs, options):
        broker = "" if self.app.conf.task_always_eager else str(self.app.conf.broker_url)
        if broker and _broker_resting(broker):
            logger.error(
                "could not queue task %s (args=%r, kwargs=%r); the broker is unreachable (it failed "
                "less than %.0f s ago: not tried)",
                self.name, args, kwargs, BROKER_RETRY_SECONDS,
            )  # fmt: skip
            return None
        try:
            return super().apply_async(args, kwargs, **options)
        except BROKER_ERRORS:
            if broker:
                _broker_failed_at[broker] = time.monotonic()
            logger.exception(
                "could not queue task %s (args=%r, kwargs=%r); the broker is unreachable",
                self.name, args, kwargs,
            )  # fmt: skip
            return None
        except Exception:
            if not self.app.conf.task_always_eager:
                raise
            # Without a broker the task ran here, in the caller's process, standing in for a
            # worker: its failure is the worker's to log, never the (committed) caller's error.
            logger.exception("task %s (args=%r, kwargs=%r) failed", self.name, args, kwargs)
            return None


class ClinicTask(ProjectTask):
    """Work on one clinic's rows: called with `clinic_id=`, run inside that clinic's scope."""

    def apply_async(self, args=None, kwargs=None, **options):
        self._clinic_id(kwargs)  # a mistake at the call site, caught there rather than in a worker
        return super().apply_async(args, kwargs, **options)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        clinic_id = self._clinic_id(kwargs)
        # The task door of the audit trail: what the body records (audit.record) is stored in one
        # INSERT when it ends (keneyapp.core.audit.audited).
        with scope(tenant=clinic_id), audit.audited(audit.Door.TASK, route=self.name, tenant_id=clinic_id):
            return super().__call__(*args, **kwargs)

    def _clinic_id(self, kwargs: dict | None) -> int:
        if not kwargs or kwargs.get("clinic_id") is None:
            raise TypeError(f"{self.name} is a clinic task: call it with clinic_id=...")
        return kwargs["clinic_id"]


def queue_task(name: str, **kwargs: Any) -> None:
    """Queue the project task registered as `name` with these keyword arguments, after the
    current transaction commits (at once outside one); a broker error is logged (ProjectTask)."""
    tasks = current_app.tasks
    if name not in tasks:
        # A web process imports no tasks module by itself: import every app's, once. (Not
        # loader.import_default_modules(), a worker's start-up: it re-runs django.setup() and
        # the system checks.)
        current_app.autodiscover_tasks(force=True)
    tasks[name].apply_async(kwargs=kwargs)


@shared_task(name="core.flag_unusual_access")
def flag_unusual_access() -> int:
    """Beat, hourly (migration core/0002), low queue: flag users whose accesses look unusual. A
    fan-out over clinics: it lists the clinics, then reads each clinic's trail inside that
    clinic's scope (keneyapp.core.audit_flags)."""
    from keneyapp.core.audit_flags import flag_unusual_access as flag  # models: after Django's setup

    return flag()
