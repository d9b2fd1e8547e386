"""The load test's requests match the API: a short headless Locust run against a live server, with
zero failures.

Locust runs as a subprocess (it monkey-patches sockets and threads for gevent on import, which must
not happen inside pytest), with bench/locustfile.py's shape: the guide's `KeneyAppUser` next to
`SaturationUser` (the same tasks with no wait, so every task runs many times in a few seconds).
The server answers one request at a time: on SQLite's in-memory test database every request shares
the test's connection.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.contrib.staticfiles.handlers import StaticFilesHandler
from django.core.servers.basehttp import WSGIServer
from django.db import connections
from django.test.testcases import LiveServerThread, QuietWSGIRequestHandler

from bench.locust_stats import AGGREGATED, read_stats_csv
from demo import seeding

ROOT = Path(__file__).resolve().parents[2]
TASK_ENDPOINTS = (
    "GET /dashboard/stats",
    "GET /patients",
    "GET /patients/{id}",
    "POST /patients",
    "GET /appointments",
    "POST /appointments",
)

pytestmark = pytest.mark.live_server_process


class SingleThreadedLiveServer(LiveServerThread):
    def _create_server(self, connections_override=None):
        return WSGIServer((self.host, self.port), QuietWSGIRequestHandler, allow_reuse_address=False)


@pytest.fixture
def server_url(django_db_reset_sequences):
    shared = {c.alias: c for c in connections.all() if c.vendor == "sqlite" and c.is_in_memory_db()}
    thread = SingleThreadedLiveServer("127.0.0.1", StaticFilesHandler, connections_override=shared)
    thread.daemon = True
    for connection in shared.values():
        connection.inc_thread_sharing()
    thread.start()
    thread.is_ready.wait()
    try:
        if thread.error:
            raise thread.error
        yield f"http://127.0.0.1:{thread.port}"
    finally:
        thread.terminate()
        for connection in shared.values():
            connection.dec_thread_sharing()


@pytest.fixture
def demo_data(django_db_reset_sequences):
    # Fresh sequences: the guide's create_appointment books patient id 1, the first clinic's.
    first, _ = (seeding.ensure_clinic(spec) for spec in seeding.DEMO_CLINICS)
    seeding.top_up_patients(tenant=first, target=30)
    return first


def run_locust(
    host: str, out: Path, *, users: int, hold: float, classes=("KeneyAppUser", "SaturationUser")
) -> subprocess.CompletedProcess:
    command = [sys.executable, "-m", "locust", "-f", str(ROOT / "bench" / "locustfile.py")]
    command += [*classes, "--headless", "--host", host]
    command += ["--users", str(users), "--spawn-rate", str(users), "--bench-wait-logins"]
    command += ["--bench-hold", str(hold), "--bench-summary", str(out / "summary.json")]
    command += ["--csv", str(out / "run"), "--only-summary", "--loglevel", "WARNING"]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=60, check=False)


def test_a_short_headless_run_of_the_locustfile_has_no_failures(server_url, demo_data, tmp_path):
    result = run_locust(server_url, tmp_path, users=4, hold=5)

    output = result.stdout[-3000:] + result.stderr[-3000:]
    assert result.returncode == 0, output
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["failures"] == 0, summary["failure_examples"]
    assert summary["user_errors"] == 0, summary["failure_examples"]
    stats = read_stats_csv(tmp_path / "run_stats.csv")
    for endpoint in TASK_ENDPOINTS:
        assert stats[endpoint].requests > 0, f"{endpoint} never ran:\n{output}"
    assert stats[AGGREGATED].failures == 0
    # Every user logged in and read its page of ids before the statistics were reset.
    assert summary["requests"] >= stats[AGGREGATED].requests + 2 * 4
    assert (tmp_path / "run_exceptions.csv").read_text().strip().splitlines()[1:] == []


@pytest.mark.parametrize(
    ("user_class", "endpoint"),
    [("PatientListUser", "GET /patients"), ("PatientDetailUser", "GET /patients/{id}")],
)
def test_the_cache_comparison_users_make_their_one_read_only(
    server_url, demo_data, tmp_path, user_class, endpoint
):
    result = run_locust(server_url, tmp_path, users=2, hold=2, classes=(user_class,))

    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    stats = read_stats_csv(tmp_path / "run_stats.csv")
    measured = {key for key, figures in stats.items() if figures.requests and key != AGGREGATED}
    assert measured == {endpoint}
