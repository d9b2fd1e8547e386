"""The cache's effect, measured on the running topology (bench/run.py calls these).

- `dashboard_cold_warm`: GET /dashboard/stats one request at a time, `rounds` times on a cold
  cache (the benchmark's Redis database emptied just before: no figures, no versions, no cached
  user) and, after each cold one, `warm_per_round` times on the warm cache.
- `cache_loads` / `cache_comparison`: GET /patients and GET /patients/{id} under the same no-wait
  load with CACHE_API_RESPONSES on and off, each as a ratio to GET /healthz measured on the same
  topology just before it, so the two sides compare whatever else the machine was doing.

    python -m bench.cache_effect --url http://127.0.0.1:8100 --redis redis://127.0.0.1:6379/3
"""

import argparse

from bench import services
from bench.http_client import Client, latency_figures
from bench.results import Phase

DASHBOARD = "/api/v1/dashboard/stats"
READS = {"PatientListUser": "GET /patients", "PatientDetailUser": "GET /patients/{id}"}


def dashboard_cold_warm(base_url: str, redis_url: str, *, rounds: int = 30, warm_per_round: int = 5) -> dict:
    client = Client(base_url)
    cold, warm, failures = [], [], 0
    try:
        client.login()
        for _ in range(rounds):
            services.empty_redis_database(redis_url)
            for index in range(1 + warm_per_round):
                status, _, elapsed = client.call("GET", DASHBOARD)
                if status != 200:
                    failures += 1
                    continue
                (cold if index == 0 else warm).append(elapsed)
    finally:
        client.close()
    cold_figures, warm_figures = latency_figures(cold), latency_figures(warm)
    return {
        "endpoint": "GET /dashboard/stats",
        "rounds": rounds,
        "cold": cold_figures,
        "warm": warm_figures,
        "failures": failures,
        "cold_to_warm_p50": _ratio(cold_figures["p50_ms"], warm_figures["p50_ms"]),
    }


def cache_loads(setting: str, measure) -> dict:
    """Baseline, then each read alone, with `measure(user_class) -> Phase` on the topology as it runs."""
    baseline = measure("BaselineUser")
    figures = {"setting": setting, "baseline_rps": _rps(baseline, "GET /healthz"), "reads": {}}
    failures = baseline.broken()
    for user_class, endpoint in READS.items():
        phase: Phase = measure(user_class)
        failures += phase.broken()
        stats = phase.stats.get(endpoint)
        rps = _rps(phase, endpoint)
        figures["reads"][endpoint] = {
            "rps": rps,
            "ratio_to_baseline": _ratio(rps, figures["baseline_rps"]),
            "p50_ms": stats.p50_ms if stats else None,
            "p95_ms": stats.p95_ms if stats else None,
            "users": phase.users,
        }
    figures["failures"] = failures
    return figures


def cache_comparison(on: dict, off: dict) -> dict:
    rows = {}
    for endpoint in READS.values():
        with_cache, without = on["reads"][endpoint], off["reads"][endpoint]
        rows[endpoint] = {
            "on": with_cache,
            "off": without,
            "speedup": _ratio(with_cache["ratio_to_baseline"], without["ratio_to_baseline"]),
        }
    return {
        "baseline_rps": {"on": on["baseline_rps"], "off": off["baseline_rps"]},
        "reads": rows,
        "failures": on["failures"] + off["failures"],
    }


def markdown_rows(figures: dict) -> list[str]:
    """The report's section: the dashboard cold and warm, then the cache on and off."""
    lines = []
    dashboard = figures.get("dashboard")
    if dashboard:
        lines += [
            f"GET /dashboard/stats one request at a time, {dashboard['rounds']} rounds: each round empties "
            "the benchmark's Redis database (figures, versions, cached user), then asks once cold and "
            f"{(dashboard['warm']['requests'] // max(dashboard['rounds'], 1))} times warm.",
            "",
            "| Cache | Requests | p50 ms | p95 ms | p99 ms | max ms |",
            "|---|---|---|---|---|---|",
        ]
        for name in ("cold", "warm"):
            f = dashboard[name]
            lines.append(
                f"| {name} | {f['requests']} | {_ms(f['p50_ms'])} | {_ms(f['p95_ms'])} | "
                f"{_ms(f['p99_ms'])} | {_ms(f['max_ms'])} |"
            )
        lines += ["", f"Cold p50 / warm p50: **{_x(dashboard['cold_to_warm_p50'])}**.", ""]
    comparison = figures.get("comparison")
    if comparison:
        base = comparison["baseline_rps"]
        lines += [
            "The same no-wait load on each read, with the API's response cache on (CACHE_API_RESPONSES=1) "
            "and off (0, the topology restarted), each read against GET /healthz measured just before it "
            f"on the same topology (baseline on: {_n(base['on'])} req/s; off: {_n(base['off'])} req/s).",
            "",
            "| Read | Cache on req/s | on / baseline | Cache off req/s | off / baseline | on vs off | "
            "p50 ms on / off |",
            "|---|---|---|---|---|---|---|",
        ]
        for endpoint, row in comparison["reads"].items():
            on, off = row["on"], row["off"]
            lines.append(
                f"| {endpoint} | {_n(on['rps'])} | {_x(on['ratio_to_baseline'])} | {_n(off['rps'])} | "
                f"{_x(off['ratio_to_baseline'])} | **{_x(row['speedup'])}** | "
                f"{_ms(on['p50_ms'])} / {_ms(off['p50_ms'])} |"
            )
    return lines


def _rps(phase: Phase, endpoint: str) -> float | None:
    stats = phase.stats.get(endpoint)
    return round(stats.rps, 2) if stats else None


def _ratio(value, baseline) -> float | None:
    return round(value / baseline, 3) if value is not None and baseline else None


def _ms(value) -> str:
    return "—" if value is None else f"{value:.1f}"


def _n(value) -> str:
    return "—" if value is None else f"{value:,.1f}"


def _x(value) -> str:
    return "—" if value is None else f"{value:.2f}x"


def main() -> None:
    parser = argparse.ArgumentParser(
        description="GET /dashboard/stats cold and warm against a running server."
    )
    parser.add_argument("--url", required=True, help="the API's base URL, e.g. http://127.0.0.1:8100")
    parser.add_argument(
        "--redis", required=True, help="the server's REDIS_URL (emptied before each cold request)"
    )
    parser.add_argument("--rounds", type=int, default=30)
    args = parser.parse_args()
    figures = {"dashboard": dashboard_cold_warm(args.url, args.redis, rounds=args.rounds)}
    print("\n".join(markdown_rows(figures)))


if __name__ == "__main__":
    main()
