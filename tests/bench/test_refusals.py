"""What the benchmark and the production start script refuse: unreachable services, SQLite, DEBUG, and
a topology without its secrets. Each answers at once with a message that says what to do."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from bench import services

ROOT = Path(__file__).resolve().parents[2]
NOTHING_LISTENS = "127.0.0.1:9"  # the discard port: nothing answers on loopback


def run_bench(**env) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "bench.run", "--quick", "--out-dir", "/nonexistent/bench-results"],
        cwd=ROOT,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_unreachable_postgres_names_the_service_and_how_to_start_it():
    with pytest.raises(services.ServiceUnavailable) as refused:
        services.require_postgres(f"postgresql://postgres@{NOTHING_LISTENS}/keneyapp_bench")

    message = str(refused.value)
    assert "PostgreSQL is not reachable at 127.0.0.1:9" in message
    assert services.START_POSTGRES in message


def test_unreachable_redis_names_the_service_and_how_to_start_it():
    with pytest.raises(services.ServiceUnavailable) as refused:
        services.require_redis(f"redis://{NOTHING_LISTENS}/3")

    message = str(refused.value)
    assert "Redis is not reachable at 127.0.0.1:9" in message
    assert services.START_REDIS in message


def test_make_bench_stops_when_postgres_is_unreachable():
    result = run_bench(BENCH_DATABASE_URL=f"postgresql://postgres@{NOTHING_LISTENS}/keneyapp_bench")

    assert result.returncode == 2
    assert "PostgreSQL is not reachable" in result.stderr
    assert "pg_ctlcluster" in result.stderr


def test_make_bench_never_runs_on_sqlite():
    result = run_bench(BENCH_DATABASE_URL="sqlite:///bench.sqlite3")

    assert result.returncode == 2
    assert "PostgreSQL only" in result.stderr


@pytest.mark.parametrize("missing", ["SECRET_KEY", "FIELD_ENCRYPTION_KEYS", "DATABASE_URL", "REDIS_URL"])
def test_start_script_refuses_to_start_without_its_settings(missing):
    env = {
        "PATH": os.environ["PATH"],
        "SECRET_KEY": "a-real-secret",
        "FIELD_ENCRYPTION_KEYS": "a-real-key",
        "DATABASE_URL": "postgresql://postgres@127.0.0.1:5432/keneyapp",
        "REDIS_URL": "redis://127.0.0.1:6379/3",
    }
    del env[missing]

    result = subprocess.run(
        [str(ROOT / "deploy" / "start.sh")], env=env, capture_output=True, text=True, timeout=30, check=False
    )

    assert result.returncode == 2
    assert f"refusing to start without {missing}" in result.stderr


@pytest.mark.parametrize(
    ("setting", "value", "complaint"),
    [("DATABASE_URL", "sqlite:///db.sqlite3", "PostgreSQL"), ("DEBUG", "1", "DEBUG off")],
)
def test_start_script_refuses_sqlite_and_debug(setting, value, complaint):
    env = {
        "PATH": os.environ["PATH"],
        "SECRET_KEY": "a-real-secret",
        "FIELD_ENCRYPTION_KEYS": "a-real-key",
        "DATABASE_URL": "postgresql://postgres@127.0.0.1:5432/keneyapp",
        "REDIS_URL": "redis://127.0.0.1:6379/3",
        setting: value,
    }

    result = subprocess.run(
        [str(ROOT / "deploy" / "start.sh")], env=env, capture_output=True, text=True, timeout=30, check=False
    )

    assert result.returncode == 2
    assert complaint in result.stderr
