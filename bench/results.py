"""From measurements to verdicts: the figures of bench/results/latest.json and every status in them.

The guide's Target Metrics table is the floor: at the guide's load shape (200 users, 1 to 3 s
between tasks) an endpoint passes when its p95 is at most a quarter of its target, and meets the
aim at a tenth. A run with any failed request is never a pass, whatever its figures.
"""

from dataclasses import dataclass, field

from bench.locust_stats import AGGREGATED, EndpointStats

QUARTER, TENTH = 4, 10
SATURATION_P95_LIMIT_MS = 50.0


@dataclass(frozen=True)
class Target:
    endpoint: str  # as in the guide's table, and as locust_stats.endpoint_key names it
    target_ms: float
    # False while the endpoint does not exist: the row stays "to do". The issue that builds the
    # endpoint adds its task to tests/load/locustfile.py and flips this.
    built: bool = True


GUIDE_TARGETS = (
    Target("GET /patients", 200),
    Target("GET /patients/{id}", 100),
    Target("POST /patients", 300),
    Target("GET /dashboard/stats", 500),
    Target("GET /appointments", 200),
    Target("WebSocket message", 50),  # measured by bench/websocket_latency.py, not Locust
)
# Requests a user makes once, in on_start, before its tasks: not part of the mix.
SETUP_ENDPOINTS = ("POST /auth/login", "GET /patients?fields=id&limit=100")


@dataclass
class Phase:
    """One headless Locust process: its statistics after the warm-up, and its whole-run failures."""

    name: str
    user_class: str
    users: int
    stats: dict[str, EndpointStats]
    measured_seconds: float | None = None
    failures: int = 0  # failed requests of the whole process: logins and warm-up included
    user_errors: int = 0  # exceptions raised in a user's code (a login that answered no token)
    failure_examples: list[str] = field(default_factory=list)
    login_seconds: float | None = None  # from the last user spawned to the last login answered

    def mix(self) -> dict[str, EndpointStats]:
        return {key: s for key, s in self.stats.items() if key != AGGREGATED and key not in SETUP_ENDPOINTS}

    def mix_rps(self) -> float:
        return sum(s.rps for s in self.mix().values())

    def total_rps(self) -> float:
        aggregated = self.stats.get(AGGREGATED)
        return aggregated.rps if aggregated else sum(s.rps for s in self.stats.values())

    def broken(self) -> int:
        return self.failures + self.user_errors


def _ratio(value: float | None, baseline: float | None) -> float | None:
    return round(value / baseline, 4) if value is not None and baseline else None


def _round(value: float | None, digits: int = 2) -> float | None:
    return None if value is None else round(value, digits)


def endpoint_figures(stats: EndpointStats, target_ms: float | None) -> dict:
    return {
        "p50_ms": stats.p50_ms,
        "p95_ms": stats.p95_ms,
        "p99_ms": stats.p99_ms,
        "rps": round(stats.rps, 2),
        "failures": stats.failures,
        "target_ms": target_ms,
        "requests": stats.requests,
        "avg_ms": _round(stats.avg_ms),
        "max_ms": _round(stats.max_ms),
    }


def target_status(figures: dict | None, target: Target, run_failed: bool) -> str:
    """aim | pass | fail | failed_requests | not_a_pass | not_built | missing."""
    if figures is None or not figures["requests"]:
        return "missing" if target.built else "not_built"
    if figures["failures"]:
        return "failed_requests"
    if figures["p95_ms"] is None or figures["p95_ms"] > target.target_ms / QUARTER:
        return "fail"
    if run_failed:
        return "not_a_pass"
    return "aim" if figures["p95_ms"] <= target.target_ms / TENTH else "pass"


def saturation_step(phase: Phase, limit_ms: float) -> dict:
    mix = phase.mix()
    p95 = {key: s.p95_ms for key, s in mix.items()}
    within = bool(mix) and not phase.broken() and all(v is not None and v < limit_ms for v in p95.values())
    return {
        "users": phase.users,
        "mix_rps": round(phase.mix_rps(), 2),
        "p95_ms": p95,
        "failures": phase.failures,
        "user_errors": phase.user_errors,
        "within_limit": within,
        "measured_seconds": _round(phase.measured_seconds),
    }


def build_results(
    *,
    mode: str,
    date: str,
    baseline: Phase,
    guide: Phase,
    saturation: list[Phase],
    resources: dict,
    query_counts: dict,
    dataset: dict,
    machine: dict,
    setup: dict | None = None,
    topology: dict | None = None,
    saturation_limit_ms: float = SATURATION_P95_LIMIT_MS,
    sections: dict | None = None,
) -> dict:
    """Everything latest.json holds; latest.md is rendered from it alone.

    `sections` are the measurements made outside Locust's phases (bench/cache_effect.py and the
    like): {name: {"title", "figures", "markdown": [lines], "failures", "endpoints"?}}. Their
    failures fail the run; their `endpoints` (figures as `endpoint_figures` gives) stand in the
    guide's table, e.g. the "WebSocket message" row.
    """
    sections = sections or {}
    phases = [baseline, guide, *saturation]
    failures = sum(p.failures for p in phases) + sum(
        section.get("failures", 0) for section in sections.values()
    )
    user_errors = sum(p.user_errors for p in phases)
    run_failed = bool(failures or user_errors)
    baseline_stats = baseline.stats.get("GET /healthz")
    baseline_rps = round(baseline_stats.rps if baseline_stats else 0.0, 2)
    mix_rps = round(guide.mix_rps(), 2)

    targets = {t.endpoint: t for t in GUIDE_TARGETS}
    endpoints = {}
    for key, stats in guide.mix().items():
        target = targets.get(key)
        endpoints[key] = endpoint_figures(stats, target.target_ms if target else None)
    for section in sections.values():
        for key, figures in section.get("endpoints", {}).items():
            target = targets.get(key)
            endpoints[key] = {**figures, "target_ms": target.target_ms if target else None}
    rows = []
    for target in GUIDE_TARGETS:
        figures = endpoints.get(target.endpoint)
        status = target_status(figures, target, run_failed)
        if figures is not None:
            figures["status"] = status
            figures["quarter_target_ms"] = target.target_ms / QUARTER
            figures["tenth_target_ms"] = target.target_ms / TENTH
        rows.append({"endpoint": target.endpoint, "target_ms": target.target_ms, "status": status})
    for key, figures in endpoints.items():
        if key not in targets:
            figures["status"] = "no_target"
            rows.append({"endpoint": key, "target_ms": None, "status": "no_target"})

    steps = [saturation_step(p, saturation_limit_ms) for p in saturation]
    passing = [s for s in steps if s["within_limit"]]
    best = max(passing, key=lambda s: s["mix_rps"]) if passing else None
    counts = query_counts.get("endpoints", {})
    unequal = sorted(key for key, c in counts.items() if len(set(c["queries"].values())) != 1 or not c["ok"])

    problems = []
    if run_failed:
        problems.append(f"{failures} failed requests and {user_errors} user errors")
    problems += [f"{r['endpoint']}: {r['status'].replace('_', ' ')}" for r in rows if r["status"] == "fail"]
    problems += [f"{r['endpoint']}: not measured" for r in rows if r["status"] == "missing"]
    problems += [f"{r['endpoint']}: failed requests" for r in rows if r["status"] == "failed_requests"]
    if not baseline_stats or not baseline_stats.requests:
        problems.append("no baseline measured")
    problems += [f"query count of {key} differs between 10 and 1,000 rows (or failed)" for key in unequal]
    if not counts:
        problems.append("no query counts measured")

    return {
        "status": "fail" if problems else "pass",
        "problems": problems,
        "mode": mode,
        "date": date,
        "baseline_rps": baseline_rps,
        "mix_rps": mix_rps,
        "mix_to_baseline": _ratio(mix_rps, baseline_rps),
        "failures": failures,
        "user_errors": user_errors,
        "failure_examples": [e for p in phases for e in p.failure_examples][:10],
        "endpoints": endpoints,
        "targets": rows,
        "guide_shape": {
            "users": guide.users,
            "wait_seconds": [1, 3],
            "measured_seconds": _round(guide.measured_seconds),
            "login_seconds": _round(guide.login_seconds),
            "mix_rps": mix_rps,
            "total_rps": round(guide.total_rps(), 2),
            "requests": {key: endpoint_figures(s, None) for key, s in guide.stats.items()},
        },
        "baseline": {
            "endpoint": "GET /healthz",
            "users": baseline.users,
            "measured_seconds": _round(baseline.measured_seconds),
            **(endpoint_figures(baseline_stats, None) if baseline_stats else {}),
        },
        "saturation": {
            "p95_limit_ms": saturation_limit_ms,
            "rps": best["mix_rps"] if best else 0.0,
            "users": best["users"] if best else None,
            "ratio_to_baseline": _ratio(best["mix_rps"], baseline_rps) if best else None,
            "steps": steps,
        },
        "resources": resources,
        "resource_targets": resource_targets(resources, guide),
        "query_counts": query_counts,
        "dataset": dataset,
        "machine": machine,
        "topology": topology or {},
        "setup": setup or {},
        "sections": sections,
    }


def _status(value: float | None, limit: float) -> str:
    if value is None:
        return "not_measured"
    return "pass" if value < limit else "fail"


def resource_targets(resources: dict, guide: Phase) -> list[dict]:
    """The guide's Resource Utilization Targets, at the guide's load shape (informational: Locust
    and PostgreSQL share the machine with the workers, so the machine's CPU counts them too)."""
    phases = resources.get("phases", {})
    at_guide = phases.get("guide", {})
    web = [p["peak_rss_mib"] for p in resources.get("processes", []) if p.get("topology")]
    pool = resources.get("db_pool", {})
    in_use = [v.get("db_in_use_peak") for v in phases.values() if v.get("db_in_use_peak") is not None]
    share = max(in_use) / pool["capacity"] * 100 if in_use and pool.get("capacity") else None
    redis_mib = resources.get("redis", {}).get("used_memory_peak_mib")
    p95 = [s.p95_ms for s in guide.mix().values() if s.p95_ms is not None]
    p99 = [s.p99_ms for s in guide.mix().values() if s.p99_ms is not None]
    rows = [
        ("CPU (machine), average", "< 70%", at_guide.get("system_cpu_avg"), 70, "%"),
        ("CPU (machine), peak", "< 90%", at_guide.get("system_cpu_peak"), 90, "%"),
        ("Memory per worker (peak RSS)", "< 2 GB", max(web) if web else None, 2048, " MiB"),
        ("Database connections in use (peak, share of pool)", "< 80% of pool size", share, 80, "%"),
        ("Redis memory (peak during the run)", "< 1 GB", redis_mib, 1024, " MiB"),
        ("Response time P95 (slowest endpoint)", "< 1 s", max(p95) if p95 else None, 1000, " ms"),
        ("Response time P99 (slowest endpoint)", "< 2 s", max(p99) if p99 else None, 2000, " ms"),
    ]
    return [
        {
            "what": what,
            "target": target,
            "value": _round(value, 1),
            "unit": unit,
            "status": _status(value, limit),
        }
        for what, target, value, limit, unit in rows
    ]
