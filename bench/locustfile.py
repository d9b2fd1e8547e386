"""What `make bench` hands Locust (bench/run.py starts it headless, one process per measurement).

- `KeneyAppUser`: the guide's user, imported unchanged from tests/load/locustfile.py.
- `SaturationUser`: the same tasks with no wait between them, for the saturation steps (each user
  is then one request in flight at a time, so the user count is the concurrency).
- `BaselineUser`: `GET /healthz` with no wait: a trivial JSON view of the same workers, no database,
  no auth; the mix's throughput is read against it.
- `PatientListUser`, `PatientDetailUser`: one of the guide's reads alone with no wait, for the
  cache's effect (the same load with CACHE_API_RESPONSES on and off, each read against the baseline).
- `BenchShape`: spawn `--users` at `--spawn-rate`, wait until every user has logged in, warm up for
  `--bench-warmup` s, reset the statistics and measure for `--bench-hold` s, then stop. Failed
  requests and user errors of the whole process, warm-up and logins included, are written to
  `--bench-summary`, so a reset never hides a failure.
"""

import json
import time

from locust import FastHttpUser, LoadTestShape, constant, events, task

from tests.load.locustfile import KeneyAppUser

__all__ = [
    "BaselineUser",
    "BenchShape",
    "KeneyAppUser",
    "PatientDetailUser",
    "PatientListUser",
    "SaturationUser",
]

LOGIN_NAME = "/api/v1/auth/login"
LOGIN_WAIT_LIMIT_SECONDS = 120

_totals = {"requests": 0, "failures": 0, "user_errors": 0, "failure_examples": []}


class SaturationUser(KeneyAppUser):
    wait_time = constant(0)


class _OneReadUser(FastHttpUser):
    """Logs in like the guide's user, then makes one of its reads only (a subclass of KeneyAppUser
    would inherit all its tasks: Locust adds a base class's tasks to the subclass's)."""

    abstract = True
    wait_time = constant(0)
    on_start = KeneyAppUser.on_start


class PatientListUser(_OneReadUser):
    @task
    def list_patients(self):
        KeneyAppUser.list_patients(self)


class PatientDetailUser(_OneReadUser):
    @task
    def get_patient(self):
        KeneyAppUser.get_patient(self)


class BaselineUser(FastHttpUser):
    wait_time = constant(0)

    @task
    def healthz(self):
        self.client.get("/healthz")


@events.init_command_line_parser.add_listener
def _bench_options(parser):
    parser.add_argument("--bench-warmup", type=float, default=0.0, help="Seconds before the reset.")
    parser.add_argument("--bench-hold", type=float, default=10.0, help="Seconds measured after it.")
    parser.add_argument("--bench-summary", default="", help="Where to write the whole-run failure counts.")
    parser.add_argument(
        "--bench-wait-logins", action="store_true", help="Start the warm-up once every user has logged in."
    )


@events.request.add_listener
def _count_request(request_type, name, exception, **kwargs):
    _totals["requests"] += 1
    if exception is not None:
        _totals["failures"] += 1
        if len(_totals["failure_examples"]) < 5:
            _totals["failure_examples"].append(f"{request_type} {name}: {exception!r}"[:300])


@events.user_error.add_listener
def _count_user_error(user_instance, exception, tb, **kwargs):
    _totals["user_errors"] += 1
    if len(_totals["failure_examples"]) < 5:
        where = type(user_instance).__name__
        _totals["failure_examples"].append(f"user error in {where}: {exception!r}"[:300])


class BenchShape(LoadTestShape):
    use_common_options = True  # --users and --spawn-rate come from the command line

    def __init__(self):
        super().__init__()
        self.started = None
        self.spawned_at = None
        self.logged_in_at = None
        self.reset_at = None
        self.measured_seconds = 0.0
        self.measured_from = self.measured_to = None  # wall clock, for the benchmark's own samples

    def tick(self):
        options = self.runner.environment.parsed_options
        users, rate = options.num_users, options.spawn_rate
        now = time.monotonic()
        if self.started is None:
            self.started = now
        if self.spawned_at is None:
            if self.runner.user_count < users:
                return users, rate
            self.spawned_at = now
        if self.logged_in_at is None:
            login = self.runner.stats.entries.get((LOGIN_NAME, "POST"))
            logins = login.num_requests if login else 0
            waited = now - self.spawned_at
            if options.bench_wait_logins and logins < users and waited < LOGIN_WAIT_LIMIT_SECONDS:
                return users, rate
            self.logged_in_at = now
        if self.reset_at is None:
            if now - self.logged_in_at < options.bench_warmup:
                return users, rate
            self.runner.stats.reset_all()
            self.reset_at = now
            self.measured_from = time.time()
        self.measured_seconds = now - self.reset_at
        self.measured_to = time.time()
        if self.measured_seconds < options.bench_hold:
            return users, rate
        return None


@events.quitting.add_listener
def _write_summary(environment, **kwargs):
    path = environment.parsed_options.bench_summary if environment.parsed_options else ""
    if not path:
        return
    shape = environment.shape_class
    summary = {
        **_totals,
        "users": environment.parsed_options.num_users,
        "spawn_seconds": _elapsed(shape, "started", "spawned_at"),
        "login_seconds": _elapsed(shape, "spawned_at", "logged_in_at"),
        "measured_seconds": getattr(shape, "measured_seconds", None),
        "measured_from": getattr(shape, "measured_from", None),
        "measured_to": getattr(shape, "measured_to", None),
    }
    with open(path, "w", encoding="utf-8") as handle:
        json.dump(summary, handle, indent=2)


def _elapsed(shape, start: str, end: str) -> float | None:
    if shape is None:
        return None
    begin, finish = getattr(shape, start, None), getattr(shape, end, None)
    return None if begin is None or finish is None else round(finish - begin, 2)
