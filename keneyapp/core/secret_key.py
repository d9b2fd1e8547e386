"""The one secret every signature rests on: refuse to run production without a real one.

With DEBUG off, each entry point (manage.py, the WSGI and ASGI applications, the Celery worker and
beat) calls `refuse_insecure_secret_key` before serving anything: a process started without
SECRET_KEY would otherwise sign sessions and access tokens with the development key printed below,
and anyone could mint a token for any user of any clinic.
"""

from django.core.exceptions import ImproperlyConfigured

# For DEBUG and the test suite only. Django's `check --deploy` flags it too (its prefix).
DEVELOPMENT_SECRET_KEY = "django-insecure-keneyapp-development-key-not-for-production"  # noqa: S105
MIN_LENGTH = 50  # Django's own deploy check: at least 50 characters, at least 5 different ones
MIN_UNIQUE_CHARACTERS = 5

# Commands that only read the code (they sign and verify nothing, and CI runs them on a clean
# checkout without secrets).
OFFLINE_COMMANDS = frozenset({"makemigrations", "makemessages", "compilemessages", "help", "version"})


def secret_key_problem(secret_key: str) -> str | None:
    """Why this key must not sign anything in production, or None if it may."""
    if not secret_key or secret_key == DEVELOPMENT_SECRET_KEY:
        return "is not set (settings fall back to the development key)"
    if secret_key.startswith("django-insecure"):
        return "is a development key"
    if len(secret_key) < MIN_LENGTH or len(set(secret_key)) < MIN_UNIQUE_CHARACTERS:
        return f"is too short (at least {MIN_LENGTH} random characters)"
    return None


def refuse_insecure_secret_key(entry_point: str) -> None:
    """Raise ImproperlyConfigured, naming `entry_point`, when DEBUG is off and SECRET_KEY is unfit."""
    from django.conf import settings

    if settings.DEBUG:
        return
    problem = secret_key_problem(settings.SECRET_KEY)
    if problem is not None:
        raise ImproperlyConfigured(
            f"{entry_point} refuses to start with DEBUG off: SECRET_KEY {problem}. Set SECRET_KEY to a "
            "long random value, e.g. python -c 'import secrets; print(secrets.token_urlsafe(50))'."
        )
