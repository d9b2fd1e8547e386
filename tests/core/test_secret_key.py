"""With DEBUG off, every entry point refuses to start without a real SECRET_KEY; access tokens are
signed with a key derived for them, not with SECRET_KEY itself."""

import os
import secrets
import subprocess
import sys
from pathlib import Path

import jwt
import pytest

from keneyapp.accounts import tokens
from keneyapp.accounts.models import User
from keneyapp.core.secret_key import DEVELOPMENT_SECRET_KEY, secret_key_problem

ROOT = Path(__file__).resolve().parent.parent.parent
BIN = Path(sys.executable).parent
GOOD_KEY = secrets.token_urlsafe(50)

UNFIT_KEYS = {
    "unset": "",
    "the development key": DEVELOPMENT_SECRET_KEY,
    "another django-insecure key": "django-insecure-" + "x1y2z3" * 10,
    "too short": "s3cr3t-but-only-thirty-characters",
    "too few different characters": "ab" * 40,
}

# Each entry point, as a command that either refuses at once or (given a fit key) starts and
# returns quickly: manage.py check, the WSGI and ASGI applications imported as their servers do,
# and the start-up signals of a Celery worker and of beat (what `celery worker` and `celery beat`
# send before they serve; a real worker's refusal is tested below).
ENTRY_POINTS = {
    "manage.py": [sys.executable, "manage.py", "check"],
    "wsgi": [sys.executable, "-c", "import keneyapp.wsgi"],
    "asgi": [sys.executable, "-c", "import keneyapp.asgi"],
    "celery worker": [
        sys.executable,
        "-c",
        "from celery.signals import worker_init; import keneyapp.celery; worker_init.send(sender=None)",
    ],
    "celery beat": [
        sys.executable,
        "-c",
        "from celery.signals import beat_init; import keneyapp.celery; beat_init.send(sender=None)",
    ],
}


def run(command: list[str], **env: str) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if k not in {"SECRET_KEY", "DEBUG", "DATABASE_URL"}}
    return subprocess.run(
        command, cwd=ROOT, env={**clean, "DEBUG": "0", **env}, capture_output=True, text=True, timeout=60
    )


@pytest.mark.parametrize("entry_point", ENTRY_POINTS)
def test_each_entry_point_refuses_to_start_without_a_key_with_debug_off(entry_point):
    result = run(ENTRY_POINTS[entry_point], SECRET_KEY="")
    assert result.returncode != 0
    assert "refuses to start with DEBUG off: SECRET_KEY is not set" in result.stderr


def test_a_short_key_is_refused_too():
    result = run(ENTRY_POINTS["manage.py"], SECRET_KEY=UNFIT_KEYS["too short"])
    assert result.returncode != 0
    assert "SECRET_KEY is too short" in result.stderr


@pytest.mark.parametrize("entry_point", ENTRY_POINTS)
def test_each_entry_point_starts_with_a_real_key(entry_point):
    result = run(ENTRY_POINTS[entry_point], SECRET_KEY=GOOD_KEY)
    assert result.returncode == 0, result.stderr


def test_a_real_celery_worker_refuses_to_start():
    command = [str(BIN / "celery"), "-A", "keneyapp", "worker", "--pool=solo", "--loglevel=warning"]
    result = run(command, SECRET_KEY="", CELERY_BROKER_URL="memory://")
    assert result.returncode != 0
    assert "celery refuses to start with DEBUG off: SECRET_KEY is not set" in result.stderr


def test_debug_allows_the_development_key():
    result = run(ENTRY_POINTS["manage.py"], DEBUG="1")
    assert result.returncode == 0, result.stderr


def test_build_commands_run_without_secrets():
    # CI checks the migrations on a clean checkout that holds no secrets.
    result = run([sys.executable, "manage.py", "makemigrations", "--check", "--dry-run"])
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize("unfit", UNFIT_KEYS)
def test_unfit_keys_are_named(unfit):
    assert secret_key_problem(UNFIT_KEYS[unfit]) is not None


def test_a_random_key_is_fit():
    assert secret_key_problem(GOOD_KEY) is None


def test_access_tokens_are_not_signed_with_the_raw_secret_key(settings):
    token = tokens.issue_access_token(user=User(pk=1, tenant_id=2))
    with pytest.raises(jwt.InvalidSignatureError):
        jwt.decode(token, settings.SECRET_KEY, algorithms=["HS256"])
    # ...and a token someone signed with SECRET_KEY itself is refused.
    forged = jwt.encode(
        {
            "sub": "1",
            "tid": 2,
            "fp": User(pk=1, tenant_id=2).credentials_fingerprint(),
            "typ": "access",
            "iat": 0,
            "exp": 4_000_000_000,
        },
        settings.SECRET_KEY,
        algorithm="HS256",
    )
    with pytest.raises(tokens.InvalidToken):
        tokens.read_access_token(forged)


def test_tokens_of_a_former_key_stay_valid_while_it_is_a_fallback(settings):
    old_key = settings.SECRET_KEY
    token = tokens.issue_access_token(user=User(pk=1, tenant_id=2))
    settings.SECRET_KEY = secrets.token_urlsafe(50)
    with pytest.raises(tokens.InvalidToken):
        tokens.read_access_token(token)
    settings.SECRET_KEY_FALLBACKS = [old_key]
    assert tokens.read_access_token(token).user_id == 1
