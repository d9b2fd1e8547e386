"""Brokers for tests of queueing: one that refuses every connection, one that never answers, one
that records messages; and the app pointed at a real one (`broker_at`, tests/task_workers.py).

Both turn eager execution off, so `delay()` goes the way it goes in production: through the
project task base to the broker.
"""

import socket
from contextlib import contextmanager

from keneyapp.celery import app as celery_app


def closed_port() -> int:
    """A local port nothing listens on (bound once, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def broker_at(monkeypatch, url: str):
    """The Celery app publishes to `url`, not eagerly, for the duration."""
    with monkeypatch.context() as patch:
        patch.setitem(celery_app.conf, "task_always_eager", False)
        patch.setitem(celery_app.conf, "broker_url", url)
        patch.setitem(celery_app.conf, "broker_write_url", url)
        # The app keeps its producer pool: drop it so the next publish connects to the new URL.
        patch.setattr(celery_app, "_pool", None)
        patch.setattr(celery_app.amqp, "_producer_pool", None)
        yield url


@contextmanager
def refusing_broker(monkeypatch):
    """The broker URL on a closed port: every publish fails with a refused connection."""
    with broker_at(monkeypatch, f"redis://127.0.0.1:{closed_port()}/0") as url:
        yield url


@contextmanager
def silent_broker(monkeypatch):
    """A broker that accepts connections and never answers (an overloaded or half-dead host): the
    kernel completes the handshake from the listening socket's backlog, nothing ever replies."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(64)
        with broker_at(monkeypatch, f"redis://127.0.0.1:{listener.getsockname()[1]}/0") as url:
            yield url


@contextmanager
def recording_broker(monkeypatch):
    """A broker that takes every message: yields the list of (task name, kwargs) published."""
    published: list[tuple[str, dict]] = []

    def record(producer, name, message, **options):
        _args, kwargs, _embed = message.body
        published.append((name, kwargs))

    with monkeypatch.context() as patch:
        patch.setitem(celery_app.conf, "task_always_eager", False)
        patch.setattr(celery_app.amqp, "send_task_message", record)
        yield published
