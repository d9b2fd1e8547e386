"""`make bench`: the guide's load test on the production topology, and the report of what it measured.

    python -m bench.run            # the figures of record: 100,000 patients, 200 users, saturation
    python -m bench.run --quick    # a smoke check in under 90 s on a small data set

Steps: check PostgreSQL and Redis (never a fallback), create and migrate the bench database, seed it
if patients are missing, count SQL statements per request on a scratch database, start deploy/start.sh
(gunicorn, uvicorn, Celery worker and beat) in a process group of its own, then run Locust headless:
the baseline (GET /healthz), the guide's load shape, and the saturation steps; then the cache's effect
(bench/cache_effect.py: the dashboard cold and warm, GET /patients and /patients/{id} with the response
cache on, then again on a topology restarted with it off), and the audit trail's cost
(bench/audit_effect.py: four endpoints one request at a time, alternately to two topologies
started side by side with AUDIT_TRAIL on and off), and encryption at rest's cost (bench/encryption_cost.py,
in-process on the query counts' scratch database: per value, and three endpoints on against off).
Everything it started is stopped when it ends, fails or is interrupted (Ctrl-C, SIGTERM); then it writes
bench/results/latest.{md,json,html}. It exits 0 only when the report says PASS.
"""

import argparse
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from bench import audit_effect, cache_effect, document_upload, encryption_cost, services, websocket_latency
from bench.loadgen import Load, LoadFailed, run_load
from bench.machine import machine_facts
from bench.monitor import Monitor
from bench.report import write_report
from bench.results import SATURATION_P95_LIMIT_MS, build_results, saturation_step
from bench.topology import ROOT, Topology, TopologyFailed, deferred_signals

POSTGRES = "postgresql://postgres@127.0.0.1:5432/"
# The benchmark database's field key (not a secret: the data set is generated); a fixed value of its
# own, neither the development key nor one derived from SECRET_KEY, so the release check passes.
BENCH_FIELD_ENCRYPTION_KEY = "l7pN_YCEB0x8_5_R3rPArTMV_4dZK4Qkx7Gr1YbvusE="
MESSAGING_STAFF = 40  # the websocket probe's receivers: 200 sockets at 5 per user
SEED_LINE = re.compile(r"added (\d+) patients and (\d+) appointments in ([\d.]+)s \(([\d,]+) rows/s\)")


class SetupFailed(Exception):
    pass


class Interrupted(BaseException):
    """SIGTERM or SIGHUP: unwinds like Ctrl-C, through every `finally` that stops a process."""


@dataclass(frozen=True)
class Plan:
    mode: str
    database_url: str
    redis_url: str
    patients: int
    other_patients: int
    appointments: int
    baseline: Load
    guide: Load
    saturation_users: tuple[int, ...]
    saturation_warmup: float
    saturation_hold: float
    refine: bool
    cache_users: int  # the no-wait users of each cache on/off measurement
    cache_warmup: float
    cache_hold: float
    dashboard_rounds: int
    document_uploads: int  # per file size (1 MiB, 10 MiB)
    ws_sockets: int  # websockets held open while messages are sent (5 per messaging user)
    ws_messages: int
    probe_requests: int  # one-at-a-time requests of each probe's latency figures
    audit_rounds: int  # one-at-a-time rounds of the audit on/off comparison (4 requests each)


def make_plan(quick: bool, env: dict[str, str]) -> Plan:
    redis_url = env.get("BENCH_REDIS_URL") or "redis://127.0.0.1:6379/3"
    if quick:
        return Plan(
            mode="quick",
            database_url=env.get("BENCH_DATABASE_URL") or POSTGRES + "keneyapp_bench_quick",
            redis_url=redis_url,
            patients=int(env.get("BENCH_PATIENTS") or 5_000),
            other_patients=20,
            appointments=int(env.get("BENCH_APPOINTMENTS") or 20_000),
            baseline=Load("baseline", "BaselineUser", 8, 8, warmup=1, hold=4, logs_in=False),
            # 50 users, not 200: each login is an Argon2 check (about 30 ms of CPU here), and the
            # logins plus their spawn time would take much of the 90 s a smoke check may last.
            guide=Load("guide", "KeneyAppUser", 50, 50, warmup=2, hold=6),
            saturation_users=(1, 2, 4, 8),
            saturation_warmup=1,
            saturation_hold=4,
            refine=False,
            cache_users=8,
            cache_warmup=1,
            cache_hold=3,
            dashboard_rounds=5,
            document_uploads=2,
            ws_sockets=50,
            ws_messages=40,
            probe_requests=30,
            audit_rounds=40,
        )
    return Plan(
        mode="full",
        database_url=env.get("BENCH_DATABASE_URL") or POSTGRES + "keneyapp_bench",
        redis_url=redis_url,
        patients=int(env.get("BENCH_PATIENTS") or 100_000),
        other_patients=20,
        appointments=int(env.get("BENCH_APPOINTMENTS") or 500_000),
        baseline=Load("baseline", "BaselineUser", 16, 16, warmup=3, hold=20, logs_in=False),
        guide=Load("guide", "KeneyAppUser", 200, 20, warmup=5, hold=60),
        saturation_users=(1, 2, 4, 8, 16, 32, 64),
        saturation_warmup=3,
        saturation_hold=15,
        refine=True,
        cache_users=8,
        cache_warmup=2,
        cache_hold=10,
        dashboard_rounds=30,
        document_uploads=7,
        ws_sockets=200,
        ws_messages=300,
        probe_requests=300,
        audit_rounds=300,
    )


def free_port(preferred: int) -> int:
    for port in (preferred, 0):
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return probe.getsockname()[1]
    raise SetupFailed("no free TCP port on 127.0.0.1")


def topology_env(plan: Plan, web_port: int, asgi_port: int) -> tuple[dict[str, str], dict]:
    """The environment of every process the bench starts, and the topology's figures for the report.

    Worker counts and pool sizes can be set as for deploy/start.sh; the defaults are the same.
    """
    env = os.environ
    threads = int(env.get("WEB_THREADS") or 2)
    pool = int(env.get("DB_POOL_SIZE") or 2)
    topology = {
        "WEB_WORKERS": int(env.get("WEB_WORKERS") or 4),
        "WEB_THREADS": threads,
        "ASGI_WORKERS": int(env.get("ASGI_WORKERS") or 1),
        "CELERY_CONCURRENCY": int(env.get("CELERY_CONCURRENCY") or 2),
        "DB_POOL_SIZE": pool,
        "DB_MAX_OVERFLOW": int(env.get("DB_MAX_OVERFLOW") or max(threads - pool, 0)),
        "WEB_BIND": f"127.0.0.1:{web_port}",
        "ASGI_BIND": f"127.0.0.1:{asgi_port}",
    }
    child = {
        **env,
        **{key: str(value) for key, value in topology.items()},
        "SECRET_KEY": env.get("BENCH_SECRET_KEY") or secrets.token_urlsafe(50),
        # Fixed, unlike SECRET_KEY: the seeded data set outlives a run, and must stay readable.
        "FIELD_ENCRYPTION_KEYS": env.get("BENCH_FIELD_ENCRYPTION_KEYS") or BENCH_FIELD_ENCRYPTION_KEY,
        "DEBUG": "0",
        "DATABASE_URL": plan.database_url,
        "REDIS_URL": plan.redis_url,
        "CELERY_BROKER_URL": plan.redis_url,
        "CELERY_TASK_ALWAYS_EAGER": "0",
        "DEPLOY_RELEASE": "0",  # the bench runs the release step itself, before seeding
        "LOG_LEVEL": env.get("BENCH_LOG_LEVEL") or "WARNING",
        "WEB_LOG_LEVEL": "warning",
        "VENV_BIN": str(Path(sys.executable).parent),
        "PYTHONPATH": str(ROOT),
    }
    return child, topology


def python(env: dict[str, str], *args: str, timeout: float = 900) -> str:
    """Run our interpreter with `args` in the repository; its output, or SetupFailed."""
    command = [sys.executable, *args]
    result = subprocess.run(  # noqa: S603 (our own interpreter and arguments)
        command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout, check=False
    )
    if result.returncode:
        output = result.stdout[-2000:] + result.stderr[-3000:]
        raise SetupFailed(f"`python {' '.join(args)}` failed:\n{output}")
    return result.stdout


def manage(env: dict[str, str], *args: str) -> str:
    return python(env, "manage.py", *args)


class Clock:
    def __init__(self):
        self.started = time.monotonic()
        self.timings: dict[str, float] = {}

    def say(self, message: str) -> None:
        print(f"[bench {time.monotonic() - self.started:6.1f}s] {message}", flush=True)

    def timed(self, name: str, action, *args, **kwargs):
        began = time.monotonic()
        try:
            return action(*args, **kwargs)
        finally:
            self.timings[name] = round(time.monotonic() - began, 1)


def seed(plan: Plan, env: dict[str, str], clock: Clock) -> dict:
    output = clock.timed(
        "seed_seconds",
        manage,
        env,
        "seed_demo",
        "--patients",
        str(plan.patients),
        "--other-patients",
        str(plan.other_patients),
        "--appointments",
        str(plan.appointments),
        "--messaging-staff",
        str(MESSAGING_STAFF),
        "--force",
    )
    match = SEED_LINE.search(output)
    if match and (int(match[1]) or int(match[2])):
        patients, appointments, seconds, rate = int(match[1]), int(match[2]), float(match[3]), match[4]
        clock.say(
            f"seeded {patients:,} patients and {appointments:,} appointments "
            f"in {seconds:.1f}s ({rate} rows/s)"
        )
        return {
            "seeded_this_run": patients + appointments,
            "seeded_patients": patients,
            "seeded_appointments": appointments,
            "seed_rows_per_second": int(rate.replace(",", "")),
        }
    return {"seeded_this_run": 0, "seed_rows_per_second": None}


def count_queries(plan: Plan, env: dict[str, str], out_dir: Path, clock: Clock) -> dict:
    url = services.with_database(plan.database_url, services.database_name(plan.database_url) + "_queries")
    services.ensure_database(url)
    output = out_dir / "query_counts.json"
    command = ["-W", "ignore", "-m", "bench.query_counts", "--scratch", "--output", str(output)]
    clock.timed("query_count_seconds", python, {**env, "DATABASE_URL": url}, *command)
    counts = json.loads(output.read_text())
    counts["database"] = services.safe_url(url)
    return counts


def saturate(plan: Plan, measure) -> list:
    """Step the no-wait users up until an endpoint's p95 reaches the limit; then, in the full run,
    try once between the last step within it and the first beyond it."""
    steps, within, beyond = [], None, None
    for users in plan.saturation_users:
        phase, window = measure(users)
        steps.append((phase, window))
        if saturation_step(phase, SATURATION_P95_LIMIT_MS)["within_limit"]:
            within = users
        else:
            beyond = users
            break
    if plan.refine and within and beyond and beyond - within > 1:
        steps.append(measure((within + beyond) // 2))
    return sorted(steps, key=lambda step: step[0].users)


def run(plan: Plan, out_dir: Path, clock: Clock) -> int:
    work = out_dir / "run"
    shutil.rmtree(work, ignore_errors=True)  # the previous run's working files
    work.mkdir(parents=True)
    date = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    machine = machine_facts()
    machine["PostgreSQL"] = services.require_postgres(plan.database_url)
    machine["Redis"] = services.require_redis(plan.redis_url)
    clock.say(f"{plan.mode} run on {services.safe_url(plan.database_url)} and {plan.redis_url}")

    if services.ensure_database(plan.database_url):
        clock.say(f"created database {services.database_name(plan.database_url)}")
    web_port, asgi_port = free_port(8100), free_port(8101)
    env, topology_facts = topology_env(plan, web_port, asgi_port)
    clock.timed("migrate_seconds", manage, env, "migrate", "--noinput", "--verbosity", "0")
    static_root = Path(env.get("STATIC_ROOT") or ROOT / "staticfiles")
    if not (static_root / "staticfiles.json").exists():
        clock.say("collecting static files (once; WhiteNoise compresses them, which takes a while)")
        clock.timed("collectstatic_seconds", manage, env, "collectstatic", "--noinput", "--verbosity", "0")
    services.retire_load_test_patients(plan.database_url)
    services.remove_load_test_appointments(plan.database_url)
    clock.say(f"seeding up to {plan.patients:,} patients and {plan.appointments:,} appointments")
    seeded = seed(plan, env, clock)
    dataset = {**services.dataset_facts(plan.database_url), **seeded}
    measured = dataset["patients_by_clinic"].get("keney-demo", 0)
    dataset["summary"] = (
        f"{measured:,} patients in the measured clinic (keney-demo), "
        f"{dataset['appointments'] or 0:,} appointments"
    )
    clock.say("counting SQL statements per request (10 and 1,000 rows)")
    # Emptied before and after the query counts: they run on a scratch database but share this
    # Redis, and a cached user of one (the scratch database's user 1, or the bench database's user 1
    # a previous run's topology cached, each with its own password hash) would otherwise be served
    # to the other for AUTH_USER_CACHE_SECONDS, whose tokens it does not match: every request a 401.
    services.empty_redis_database(plan.redis_url)
    query_counts = count_queries(plan, env, work, clock)
    services.empty_redis_database(plan.redis_url)

    web_url, asgi_url = f"http://127.0.0.1:{web_port}", f"http://127.0.0.1:{asgi_port}"
    cache_load = make_cache_load(plan)
    topology = Topology(env=env, web_url=web_url, asgi_url=asgi_url, log_path=work / "topology.log")
    counter = services.ConnectionCounter(plan.database_url)
    redis = services.RedisWatcher(plan.redis_url)
    monitor = Monitor(topology, counter, redis)
    try:
        clock.say(f"starting deploy/start.sh: web {web_url}, asgi {asgi_url}")
        topology.start()
        clock.timed("topology_start_seconds", topology.wait_ready)
        monitor.start()

        def measure(load: Load, html: Path | None = None):
            clock.say(f"locust {load.name}: {load.users} x {load.user_class}, measuring {load.hold:g}s")
            phase, window = run_load(load, host=web_url, out_dir=work, monitor=monitor, html=html)
            if not topology.alive():
                raise TopologyFailed(f"the topology stopped during {load.name}:\n{topology.log_tail()}")
            mix = phase.total_rps() if load.user_class == "BaselineUser" else phase.mix_rps()
            broken = f"{phase.failures} failed requests, {phase.user_errors} user errors"
            clock.say(f"  {mix:,.1f} req/s, {broken}")
            return phase, window

        baseline, baseline_window = measure(plan.baseline)
        guide, guide_window = measure(plan.guide, html=work / "guide.html")

        def step(users: int):
            name = f"saturation_{users:03d}"
            warmup, hold = plan.saturation_warmup, plan.saturation_hold
            return measure(Load(name, "SaturationUser", users, users, warmup, hold))

        steps = saturate(plan, step)
        for name, window in (("baseline", baseline_window), ("guide", guide_window)):
            if window:
                monitor.summarize(name, *window)
        within = [(p, w) for p, w in steps if saturation_step(p, SATURATION_P95_LIMIT_MS)["within_limit"]]
        best_phase, best_window = max(within or steps[-1:], key=lambda s: s[0].mix_rps())
        if best_window:
            monitor.summarize(f"saturation ({best_phase.users} users)", *best_window)
        resources = {
            "phases": monitor.phases,
            "processes": monitor.processes(),
            "db_pool": {
                "pool_size": topology_facts["DB_POOL_SIZE"],
                "max_overflow": topology_facts["DB_MAX_OVERFLOW"],
                "per_process": topology_facts["DB_POOL_SIZE"] + topology_facts["DB_MAX_OVERFLOW"],
                "processes": monitor.db_processes(),
            },
            "redis": redis.facts(),
        }
        pool = resources["db_pool"]
        pool["capacity"] = pool["per_process"] * pool["processes"]

        clock.say(f"GET /dashboard/stats cold and warm, {plan.dashboard_rounds} rounds")
        cache = {
            "dashboard": cache_effect.dashboard_cold_warm(
                web_url, plan.redis_url, rounds=plan.dashboard_rounds
            )
        }
        clock.say("the response cache on: baseline, GET /patients, GET /patients/{id}")
        cache_on = cache_effect.cache_loads("on", lambda user_class: cache_load(user_class, "on", measure)[0])
        sections = probe_sections(plan, env, web_url, asgi_url, clock)
    finally:
        with deferred_signals():
            monitor.stop()
            clock.say("stopping the topology")
            topology.stop()
            counter.close()
            clock.say("stopped")
    cache_off = measure_cache_off(plan, env, work, clock, web_url, asgi_url, cache_load)
    cache["comparison"] = cache_effect.cache_comparison(cache_on, cache_off)
    audit = measure_audit(plan, work, clock)
    sections["audit"] = {
        "title": "The audit trail's cost",
        "figures": audit,
        "markdown": audit_effect.markdown_rows(audit),
        "failures": audit["failures"],
    }
    if "encryption" in query_counts:
        # Measured in-process by bench/query_counts.py on its scratch database (same run).
        encryption = query_counts.pop("encryption")
        sections["encryption"] = {
            "title": "Encryption at rest's cost",
            "figures": encryption,
            "markdown": encryption_cost.markdown_rows(encryption),
            "failures": encryption["requests"]["failures"],
        }
    sections["cache"] = {
        "title": "The cache's effect",
        "figures": cache,
        "markdown": cache_effect.markdown_rows(cache),
        "failures": cache["dashboard"]["failures"] + cache["comparison"]["failures"],
    }
    removed = services.retire_load_test_patients(plan.database_url)
    clock.say(f"soft-deleted the {removed:,} patients the load test created")

    clock.timings["wall_seconds"] = round(time.monotonic() - clock.started, 1)
    results = build_results(
        mode=plan.mode,
        date=date,
        baseline=baseline,
        guide=guide,
        saturation=[phase for phase, _ in steps],
        resources=resources,
        query_counts=query_counts,
        dataset=dataset,
        machine=machine,
        setup={**clock.timings, "patients_created_by_the_load_test_then_soft_deleted": removed},
        sections=sections,
        topology={**topology_facts, "server": "gunicorn gthread (WSGI), measured directly, no proxy"},
    )
    json_path, md_path = write_report(results, out_dir)
    shutil.copyfile(work / "guide.html", out_dir / "latest.html")  # Locust's charts of the guide's shape
    clock.say(f"wrote {md_path.relative_to(ROOT)}, {json_path.name} and latest.html")
    print_summary(results)
    return 0 if results["status"] == "pass" else 1


def probe_sections(plan: Plan, env: dict[str, str], web_url: str, asgi_url: str, clock: Clock) -> dict:
    """The measurements made one request at a time against the running topology, beside Locust's."""
    clock.say(f"documents: {plan.document_uploads} uploads of 1 MiB and of 10 MiB, then the list")
    documents = document_upload.measure(
        web_url, uploads=plan.document_uploads, list_requests=plan.probe_requests
    )
    failures = sum(row["failures"] for row in documents["upload"].values()) + documents["list"]["failures"]
    clock.say(f"messaging: {plan.ws_sockets} websockets open, {plan.ws_messages} messages one at a time")
    messaging = websocket_latency.measure(
        web_url,
        asgi_url=asgi_url,
        sockets=plan.ws_sockets,
        messages=plan.ws_messages,
        list_requests=plan.probe_requests,
        # The topology's channel layer is its REDIS_URL (CHANNELS_REDIS_URL unset): the bursts are
        # published there, straight to the sockets' groups.
        burst_redis_url=plan.redis_url,
    )
    # The guide's "WebSocket message" row: from the POST's answer to the event on the receiver's socket.
    websocket_row = {**messaging["answer_to_event"], "rps": None, "avg_ms": None}
    return {
        "messaging": {
            "title": f"Messaging and websockets ({messaging['sockets']} open sockets)",
            "figures": messaging,
            "markdown": websocket_latency.markdown_rows(messaging),
            "failures": messaging["post_failures"]
            + messaging["events_lost"]
            + messaging["inbox"]["failures"]
            + sum(row["lost"] + row["out_of_order"] for row in (messaging["bursts"] or {}).values()),
            "endpoints": {"WebSocket message": websocket_row},
        },
        "documents": {
            "title": "Documents (stored in "
            + (
                f"S3 at {env.get('S3_ENDPOINT_URL') or 'AWS'})"
                if env.get("S3_BUCKET")
                else "the local folder)"
            ),
            "figures": documents,
            "markdown": document_upload.markdown_rows(documents),
            "failures": failures,
        },
    }


def make_cache_load(plan: Plan):
    def cache_load(user_class: str, setting: str, measure):
        name = f"cache_{setting}_{user_class.lower()}"
        users = plan.cache_users
        load = Load(
            name, user_class, users, users, plan.cache_warmup, plan.cache_hold, user_class != "BaselineUser"
        )
        return measure(load)

    return cache_load


class _Unmonitored:
    """The restarted topology is measured for throughput only: no resource samples."""

    def watch(self, pid: int, role: str) -> None:
        pass


def measure_cache_off(
    plan: Plan, env: dict, work: Path, clock: Clock, web_url: str, asgi_url: str, cache_load
):
    """The same loads on the same topology restarted with CACHE_API_RESPONSES=0."""
    topology = Topology(
        env={**env, "CACHE_API_RESPONSES": "0"},
        web_url=web_url,
        asgi_url=asgi_url,
        log_path=work / "cache_off.log",
    )

    def measure(load: Load):
        clock.say(f"locust {load.name}: {load.users} x {load.user_class}, measuring {load.hold:g}s")
        phase, window = run_load(load, host=web_url, out_dir=work, monitor=_Unmonitored())
        if not topology.alive():
            raise TopologyFailed(f"the topology stopped during {load.name}:\n{topology.log_tail()}")
        clock.say(f"  {phase.total_rps():,.1f} req/s, {phase.failures} failed requests")
        return phase, window

    try:
        clock.say("restarting deploy/start.sh with the response cache off")
        topology.start()
        topology.wait_ready()
        return cache_effect.cache_loads("off", lambda user_class: cache_load(user_class, "off", measure)[0])
    finally:
        with deferred_signals():
            topology.stop()


def measure_audit(plan: Plan, work: Path, clock: Clock) -> dict:
    """The audit trail on against off: two topologies started side by side, one with AUDIT_TRAIL=1
    and one with 0, asked alternately (bench/audit_effect.py), then stopped. Both fresh: the
    topology that ran the load test answered several milliseconds slower than a fresh one whatever
    its setting (two fresh ones, both on, differ by less than a millisecond)."""
    topologies = {}
    for setting, offset in (("1", 0), ("0", 2)):
        web_port, asgi_port = free_port(8102 + offset), free_port(8103 + offset)
        env, _ = topology_env(plan, web_port, asgi_port)
        topologies[setting] = Topology(
            env={**env, "AUDIT_TRAIL": setting},
            web_url=f"http://127.0.0.1:{web_port}",
            asgi_url=f"http://127.0.0.1:{asgi_port}",
            log_path=work / f"audit_{setting}.log",
        )
    try:
        clock.say("starting two deploy/start.sh side by side, the audit trail on and off")
        for topology in topologies.values():
            topology.start()
        for topology in topologies.values():
            topology.wait_ready()
        clock.say(f"the audit trail on and off: {plan.audit_rounds} rounds of 4 requests each, alternately")
        measured = audit_effect.measure(
            topologies["1"].web_url, topologies["0"].web_url, rounds=plan.audit_rounds
        )
    finally:
        with deferred_signals():
            for topology in topologies.values():
                topology.stop()
    return audit_effect.comparison(measured["on"], measured["off"])


def print_summary(results: dict) -> None:
    print()
    status, baseline, mix = results["status"].upper(), results["baseline_rps"], results["mix_rps"]
    print(f"{status}: baseline {baseline:,.1f} req/s, mix {mix:,.1f} req/s")
    print(
        f"  saturation {results['saturation']['rps']:,.1f} req/s at {results['saturation']['users']} users,"
        f" failures {results['failures']}, user errors {results['user_errors']}"
    )
    for key, figures in results["endpoints"].items():
        print(
            f"  {key}: p50 {figures['p50_ms']} / p95 {figures['p95_ms']} / p99 {figures['p99_ms']} ms,"
            + (f" {figures['rps']} req/s," if figures["rps"] is not None else "")
            + f" {figures['failures']} failures ({figures['status']})"
        )
    for section in results.get("sections", {}).values():
        print(f"  {section['title']}:")
        for line in section["markdown"]:
            if line.startswith("|") and not line.startswith("|---"):
                print(f"    {line}")
    for problem in results["problems"]:
        print(f"  problem: {problem}")


def _interrupted(signum, frame):
    raise Interrupted(signal.Signals(signum).name)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Run the load-test benchmark and write its report.")
    parser.add_argument("--quick", action="store_true", help="a smoke run: small data set, short windows")
    parser.add_argument("--out-dir", type=Path, default=ROOT / "bench" / "results")
    args = parser.parse_args(argv)
    # Ctrl-C raises KeyboardInterrupt even where the shell started us with SIGINT ignored.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, _interrupted)
    signal.signal(signal.SIGHUP, _interrupted)
    clock = Clock()
    try:
        code = run(make_plan(args.quick, dict(os.environ)), args.out_dir.resolve(), clock)
    except services.ServiceUnavailable as exc:
        print(f"bench: {exc}", file=sys.stderr)
        return 2
    except (SetupFailed, TopologyFailed, LoadFailed) as exc:
        print(f"bench: FAILED: {exc}", file=sys.stderr)
        return 1
    except (KeyboardInterrupt, Interrupted) as exc:
        signal_name = str(exc) or "SIGINT"
        print(f"bench: interrupted ({signal_name}); every process it started is stopped", file=sys.stderr)
        return 130
    clock.say(f"done in {time.monotonic() - clock.started:.0f}s")
    return code


if __name__ == "__main__":
    sys.exit(main())
