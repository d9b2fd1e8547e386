"""The one secret every signature rests on: refuse to run production without a real one.

With DEBUG off, each entry point (manage.py, the WSGI and ASGI applications, the Celery worker and
beat) calls `refuse_insecure_secret_key` before serving anything: a process started without
SECRET_KEY would otherwise sign sessions and access tokens with the development key printed below,
and anyone could mint a token for any user of any clinic.
"""

import base64
import binascii
import hashlib

from django.core.exceptions import ImproperlyConfigured

# For DEBUG and the test suite only. Django's `check --deploy` flags it too (its prefix).
DEVELOPMENT_SECRET_KEY = "django-insecure-keneyapp-development-key-not-for-production"  # noqa: S105
# The same for FIELD_ENCRYPTION_KEYS (keneyapp/core/encrypted_fields.py): fixed, so `make run`'s
# database stays readable from one start to the next.
DEVELOPMENT_FIELD_KEY = base64.urlsafe_b64encode(
    hashlib.sha256(b"keneyapp development field key, not for production").digest()
).decode()
FIELD_KEY_BYTES = 32  # AES-256
MAKE_FIELD_KEY = "python -c 'import base64, os; print(base64.urlsafe_b64encode(os.urandom(32)).decode())'"
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


def decoded_field_key(text: str) -> bytes:
    """A FIELD_ENCRYPTION_KEYS entry (urlsafe base64 of 32 bytes) as bytes; ImproperlyConfigured otherwise."""
    text = text.strip()
    try:
        raw = base64.urlsafe_b64decode(text.encode("ascii") + b"=" * (-len(text) % 4))
    except (ValueError, UnicodeEncodeError, binascii.Error) as exc:
        raise ImproperlyConfigured(
            f"FIELD_ENCRYPTION_KEYS: a key is not urlsafe base64 (make one: {MAKE_FIELD_KEY})"
        ) from exc
    if len(raw) != FIELD_KEY_BYTES:
        raise ImproperlyConfigured(
            f"FIELD_ENCRYPTION_KEYS: a key is {len(raw)} bytes, not {FIELD_KEY_BYTES} "
            f"(make one: {MAKE_FIELD_KEY})"
        )
    return raw


def _derived_from(secret_key: str) -> set[bytes]:
    """Keys someone could derive from SECRET_KEY in an obvious way: a leaked SECRET_KEY must not open them."""
    encoded = secret_key.encode()
    return {
        encoded[:FIELD_KEY_BYTES],
        hashlib.sha256(encoded).digest(),
        hashlib.blake2b(encoded, digest_size=FIELD_KEY_BYTES).digest(),
    }


def field_keys_problem(keys: list[str], secret_key: str, *, encryption_on: bool = True) -> str | None:
    """Why these FIELD_ENCRYPTION_KEYS must not protect production data, or None if they may."""
    if not encryption_on:
        return "FIELD_ENCRYPTION is off: new clinical text would be stored in clear"
    if not keys:
        return "FIELD_ENCRYPTION_KEYS is not set"
    derived = _derived_from(secret_key)
    for position, text in enumerate(keys, start=1):
        if text == DEVELOPMENT_FIELD_KEY:
            return f"FIELD_ENCRYPTION_KEYS key {position} is the development key (settings' fallback)"
        if text.strip() == secret_key.strip():
            return f"FIELD_ENCRYPTION_KEYS key {position} is SECRET_KEY: keep the two apart"
        try:
            raw = decoded_field_key(text)
        except ImproperlyConfigured as exc:
            return f"{exc} (key {position})"
        if raw in derived:
            return f"FIELD_ENCRYPTION_KEYS key {position} is derived from SECRET_KEY: keep the two apart"
    return None
