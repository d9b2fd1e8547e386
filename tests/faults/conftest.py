"""Fixtures of the fault tests: a private Redis broker the test may stop, real `celery -A keneyapp
worker` (and beat) subprocesses on it and on the test database, tasks not eager, and a folder the
worker's test email backend writes each email to (tests/faults/email_backend.py).

Their delays are short so each test takes seconds: the worker's visibility timeout, claims and
sweep delays are set through the environment of the subprocesses, as an operator would set them.
"""

from __future__ import annotations

import os
import shutil
import signal
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from django.db import connection

from tests.brokers import broker_at
from tests.live_servers import CeleryProcess, PrivateRedis, server_env

# Seconds, in the worker subprocess. The visibility timeout outlives the longest countdown a task
# retries with here (the urgent claim, + 1 s), as deploy/README.md asks of production.
VISIBILITY_TIMEOUT = 6
CLAIM_SECONDS = 3


@pytest.fixture
def worker_processes_possible():
    """Skips the test unless a worker subprocess can share its database and a broker can be
    started. Not autouse: other tests of this folder may need neither."""
    if connection.vendor != "postgresql":
        pytest.skip("worker processes need PostgreSQL (the SQLite test database lives in memory)")
    if shutil.which("redis-server") is None:
        pytest.skip("needs redis-server (a private broker the test stops and starts)")


@pytest.fixture
def faults(tmp_path) -> Path:
    folder = tmp_path / "faults"
    (folder / "hold").mkdir(parents=True)
    return folder


@pytest.fixture
def broker(worker_processes_possible, tmp_path):
    redis = PrivateRedis(tmp_path)
    redis.start()
    yield redis
    redis.stop()


@pytest.fixture
def publishing(broker, monkeypatch):
    """This process queues tasks on the private broker (not eagerly), as a web process does."""
    with broker_at(monkeypatch, broker.url):
        yield broker


@pytest.fixture
def worker_env(broker, faults, tmp_path) -> dict[str, str]:
    env = server_env(
        CELERY_BROKER_URL=broker.url,
        CELERY_TASK_ALWAYS_EAGER="0",
        DJANGO_SETTINGS_MODULE="tests.faults.worker_settings",
        EMAIL_BACKEND="tests.faults.email_backend.EmailBackend",
        KENEYAPP_FAULT_DIR=str(faults),
        CELERY_VISIBILITY_TIMEOUT_SECONDS=str(VISIBILITY_TIMEOUT),
        URGENT_NOTIFY_CLAIM_SECONDS=str(CLAIM_SECONDS),
        REMINDER_CLAIM_SECONDS=str(CLAIM_SECONDS),
        URGENT_NOTIFY_SWEEP_DELAY_SECONDS="1",
        REPORT_STALE_AFTER_SECONDS="2",
        DOCUMENTS_ROOT=str(tmp_path / "worker-documents"),
        LOG_LEVEL="INFO",
    )
    for name in ("S3_BUCKET", "S3_ENDPOINT_URL", "S3_ACCESS_KEY_ID", "S3_SECRET_ACCESS_KEY"):
        env.pop(name, None)  # the worker's documents go to a local folder the test can count
    return env


@pytest.fixture
def celery(worker_processes_possible, transactional_db, worker_env, tmp_path) -> Callable[..., CeleryProcess]:
    """celery(name, kind="worker") -> a started worker (or beat); all stopped at teardown, before
    the test database is flushed (hence transactional_db)."""
    started: list[CeleryProcess] = []

    def start(name: str, kind: str = "worker") -> CeleryProcess:
        process = CeleryProcess(name, tmp_path, worker_env, kind=kind)
        started.append(process)
        return process.wait_ready()

    yield start
    for process in started:
        process.stop()


def hold(faults: Path, name: str) -> None:
    """Make the worker wait at fault point `name` (tests/faults/holds.py)."""
    (faults / "hold" / name).write_text("")


def release(faults: Path, name: str) -> None:
    (faults / "hold" / name).unlink(missing_ok=True)


def wait_held(faults: Path, name: str, worker: CeleryProcess, timeout: float = 60) -> int:
    """Wait until a process of the worker waits at fault point `name`; return its pid."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        held = sorted((faults / "held").glob(f"{name}.*")) if (faults / "held").exists() else []
        if held:
            path = held[0]
            path.unlink()
            return int(path.suffix.lstrip("."))
        time.sleep(0.05)
    raise AssertionError(f"nothing reached fault point {name} within {timeout}s:\n{worker.log()}")


def eventually(check: Callable[[], object], *, timeout: float, what: str, log: Callable[[], str]):
    """Poll `check` until it returns something true; fail with the worker's log after `timeout`."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = check()
        if result:
            return result
        time.sleep(0.2)
    raise AssertionError(f"{what}: not within {timeout}s\n{log()}")


def kill_child(pid: int) -> None:
    os.kill(pid, signal.SIGKILL)  #: the pool child dies where it stands, inside the send
