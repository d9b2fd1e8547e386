"""Every email the app sends is built by one of its builders, which are tested for carrying no
health data (tests/messaging/test_urgent_email.py, tests/reminders/test_reminder_email.py).

A new `send_mail` or `EmailMessage` elsewhere would skip those tests: it fails here until it is
a builder (with its own test) listed below.
"""

import ast
import logging
from pathlib import Path

from django.conf import settings
from django.utils.log import AdminEmailHandler

ROOT = Path(settings.BASE_DIR)
# Modules that may build emails, and the one that sends the reminders' batch on one connection.
BUILDERS = {"keneyapp/core/emails.py", "messaging/emails.py", "appointments/emails.py"}
CONNECTION_ONLY = {"get_connection"}
SKIPPED = {".venv", "tests", "bench", "node_modules", ".git"}


def project_modules():
    for path in ROOT.rglob("*.py"):
        relative = path.relative_to(ROOT)
        if relative.parts[0] not in SKIPPED and "site-packages" not in relative.parts:
            yield relative.as_posix(), path


def mail_names_imported(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("django.core.mail"):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module == "django.core":
            names.update(alias.name for alias in node.names if alias.name == "mail")
        elif isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names if alias.name.startswith("django.core.mail"))
    return names


def test_emails_are_built_only_by_the_builders():
    outside = {
        name: sorted(imported - CONNECTION_ONLY)
        for name, path in project_modules()
        if name not in BUILDERS and (imported := mail_names_imported(path)) - CONNECTION_ONLY
    }
    assert outside == {}


def test_the_builders_are_found():
    # The walk above sees the project (a walk that finds nothing would pass vacuously).
    modules = dict(project_modules())
    for name in BUILDERS:
        assert "EmailMessage" in mail_names_imported(modules[name]), name


def test_errors_are_not_emailed():
    # Django's default "mail_admins" handler would email a 500's request (its body, its query
    # string) to ADMINS: the settings' LOGGING replaces it, and ADMINS is empty.
    assert settings.ADMINS == []
    for name in ("django", "django.request", "django.security"):
        logger = logging.getLogger(name)
        while logger is not None:
            assert not any(isinstance(h, AdminEmailHandler) for h in logger.handlers), logger.name
            logger = logger.parent if logger.propagate else None
