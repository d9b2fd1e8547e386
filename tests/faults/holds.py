"""Fault points of the worker subprocess in the fault tests: a place in the code where the worker
waits, on request, so that the test can kill it there, before the effect.

The test process and the worker share a folder (KENEYAPP_FAULT_DIR). `hold(name)` does nothing
unless the file `hold/<name>` exists there; if it does, it writes `held/<name>.<pid>` (so the test
knows the process to kill: the prefork pool child running the task) and waits until the test
removes `hold/<name>`. Test-only: installed in the worker by tests/faults/worker_settings.py, never
imported by the project.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

HOLD_LIMIT_SECONDS = 120  # a test that forgot its hold fails instead of hanging the worker forever


def fault_dir() -> Path | None:
    value = os.environ.get("KENEYAPP_FAULT_DIR")
    return Path(value) if value else None


def hold(name: str) -> None:
    folder = fault_dir()
    if folder is None:
        return
    gate = folder / "hold" / name
    if not gate.exists():
        return
    held = folder / "held"
    held.mkdir(parents=True, exist_ok=True)
    (held / f"{name}.{os.getpid()}").write_text("")
    deadline = time.monotonic() + HOLD_LIMIT_SECONDS
    while gate.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
