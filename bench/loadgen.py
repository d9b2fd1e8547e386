"""One measurement: a headless Locust process (bench/locustfile.py) in a process group of its own.

Its statistics come back from the CSV Locust writes, its whole-run failures from the summary the
bench's shape writes, and the monitor summarizes the measured window from its own samples.
"""

import json
import os
import signal
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from bench.locust_stats import read_stats_csv
from bench.monitor import LOCUST_ROLE, Monitor
from bench.results import Phase
from bench.topology import deferred_signals

ROOT = Path(__file__).resolve().parent.parent
LOCUSTFILE = ROOT / "bench" / "locustfile.py"
LOGIN_WAIT_LIMIT_SECONDS = 120  # as bench/locustfile.py


class LoadFailed(Exception):
    pass


@dataclass(frozen=True)
class Load:
    name: str  # also the file prefix of its CSV files
    user_class: str  # BaselineUser | KeneyAppUser | SaturationUser
    users: int
    spawn_rate: float
    warmup: float
    hold: float
    logs_in: bool = True


def run_load(
    load: Load, *, host: str, out_dir: Path, monitor: Monitor, html: Path | None = None
) -> tuple[Phase, tuple[float, float] | None]:
    """The phase's statistics, and its measured window (wall clock) for `Monitor.summarize`."""
    prefix = out_dir / load.name
    summary_path = out_dir / f"{load.name}_summary.json"
    summary_path.unlink(missing_ok=True)
    command = [sys.executable, "-m", "locust", "-f", str(LOCUSTFILE), load.user_class]
    command += ["--headless", "--host", host, "--users", str(load.users)]
    command += ["--spawn-rate", str(load.spawn_rate)]
    command += ["--bench-warmup", str(load.warmup), "--bench-hold", str(load.hold)]
    command += ["--bench-summary", str(summary_path), "--csv", str(prefix), "--only-summary"]
    command += ["--loglevel", "WARNING", "--exit-code-on-error", "0"]
    if load.logs_in:
        command.append("--bench-wait-logins")
    if html is not None:
        command += ["--html", str(html)]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    log_path = out_dir / f"{load.name}.log"
    budget = load.users / load.spawn_rate + load.warmup + load.hold + 60
    budget += LOGIN_WAIT_LIMIT_SECONDS if load.logs_in else 0
    with log_path.open("wb") as log:
        process = subprocess.Popen(  # noqa: S603 (our own interpreter and arguments)
            command,
            cwd=ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        monitor.watch(process.pid, LOCUST_ROLE)
        try:
            code = process.wait(timeout=budget)
        except subprocess.TimeoutExpired:
            message = f"Locust ({load.name}) did not finish in {budget:.0f}s; see {log_path}"
            raise LoadFailed(message) from None
    finally:
        with deferred_signals():
            stop_group(process)
    if not summary_path.exists() or not Path(f"{prefix}_stats.csv").exists():
        tail = "\n".join(log_path.read_text(errors="replace").splitlines()[-20:])
        raise LoadFailed(f"Locust ({load.name}) exited with {code} and wrote no statistics:\n{tail}")
    summary = json.loads(summary_path.read_text())
    window = None
    if summary.get("measured_from") and summary.get("measured_to"):
        window = (summary["measured_from"], summary["measured_to"])
    phase = Phase(
        name=load.name,
        user_class=load.user_class,
        users=load.users,
        stats=read_stats_csv(Path(f"{prefix}_stats.csv")),
        measured_seconds=summary.get("measured_seconds"),
        failures=summary["failures"],
        user_errors=summary["user_errors"],
        failure_examples=summary["failure_examples"],
        login_seconds=summary.get("login_seconds"),
    )
    return phase, window


def stop_group(process: subprocess.Popen, timeout: float = 10.0) -> None:
    if process.poll() is not None:
        return
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            return
        try:
            process.wait(timeout=timeout)
            return
        except subprocess.TimeoutExpired:
            continue
