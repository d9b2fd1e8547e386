"""Run callables at the same moment, each in its own thread and database connection."""

import contextvars
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any

from django.db import connections


def run_at_once(
    functions: Sequence[Callable[[], Any]], *, timeout: float = 60, barrier_timeout: float = 10
) -> list:
    """Call each function in its own thread, all released together by one barrier; return their
    results in order.

    A thread's exception would otherwise vanish (the test would only see a missing result), so the
    first one, by position, is raised here; a thread still running after `timeout` seconds is an
    error too, not a silent None. Each thread closes its database connections: one left open keeps
    the test database from being flushed (or dropped) after the test. Each function runs in a copy
    of the caller's context, as an asyncio task would: a clinic scope (or `scopes_disabled()`) the
    caller is in holds in the threads too.
    """
    barrier = threading.Barrier(len(functions))
    contexts = [contextvars.copy_context() for _ in functions]
    results: list = [None] * len(functions)
    errors: dict[int, BaseException] = {}

    def run(index: int, function: Callable[[], Any]) -> None:
        try:
            barrier.wait(timeout=barrier_timeout)
            results[index] = contexts[index].run(function)
        except BaseException as exc:  # raised in the caller below
            errors[index] = exc
        finally:
            connections.close_all()

    # Daemon threads: one stuck past the timeout fails the test without also hanging the run.
    threads = [
        threading.Thread(target=run, args=(index, function), daemon=True)
        for index, function in enumerate(functions)
    ]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + timeout
    for thread in threads:
        thread.join(timeout=max(0.0, deadline - time.monotonic()))
    running = [index for index, thread in enumerate(threads) if thread.is_alive()]
    if running:
        raise TimeoutError(f"threads {running} of {len(threads)} still running after {timeout} s")
    if errors:
        first, *others = (errors[index] for index in sorted(errors))
        if others:
            first.add_note(f"{len(others)} other thread(s) failed too: {others!r}")
        raise first
    return results


class _ContentionCause(Exception):
    """Stands for psycopg's DeadlockDetected / SerializationFailure: what Django's OperationalError
    keeps as __cause__, whose sqlstate keneyapp.core.errors.is_contention reads."""

    def __init__(self, sqlstate: str):
        super().__init__(sqlstate)
        self.sqlstate = sqlstate


def contended(function: Callable, times: int, sqlstate: str = "40P01"):
    """A stand-in for `function` that raises the database's contention error (a deadlock by
    default) on its first `times` calls, then calls it; `.calls` counts the calls."""
    from django.db import OperationalError

    def stand_in(*args, **kwargs):
        stand_in.calls += 1
        if stand_in.calls <= times:
            error = OperationalError("deadlock detected" if sqlstate == "40P01" else "could not serialize")
            error.__cause__ = _ContentionCause(sqlstate)
            raise error
        return function(*args, **kwargs)

    stand_in.calls = 0
    return stand_in
