"""The settings of the fault tests' worker subprocess: the project's own, plus one test-only app
that installs a fault point in the report renderer (tests/faults/holds.py). Nothing else differs:
the worker is `celery -A keneyapp worker` on these settings and the test's environment."""

from keneyapp.settings import *  # noqa: F403

INSTALLED_APPS = [*INSTALLED_APPS, "tests.faults.apps.FaultPointsConfig"]  # noqa: F405
