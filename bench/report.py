"""The benchmark report: bench/results/latest.json and latest.md, the second rendered from the first.

A failing run says so in its first lines; its figures are never presented as a pass.
"""

import json
from pathlib import Path

from bench import revocation_cost, today_page

STATUS_LABELS = {
    "aim": "✅ pass, aim met (p95 ≤ ⅒ target)",
    "pass": "✅ pass (p95 ≤ ¼ target); aim (⅒) not met",
    "fail": "❌ fail: p95 above ¼ of target",
    "failed_requests": "❌ failed requests",
    "not_a_pass": "⚠️ not a pass: the run had failed requests",
    "not_built": "🔄 endpoint not built yet",
    "missing": "❌ not measured",
    "no_target": "— (not in the guide's table)",
}
RESOURCE_LABELS = {"pass": "✅", "fail": "❌", "not_measured": "—"}


def ms(value: float | None) -> str:
    if value is None:
        return "—"
    return f"{value:.1f}" if value < 10 else f"{value:,.0f}"


def num(value: float | None, digits: int = 0) -> str:
    return "—" if value is None else f"{value:,.{digits}f}"


def ratio(value: float | None) -> str:
    return "—" if value is None else f"{value:.3f}x"


def table(headers: list[str], rows: list[list]) -> list[str]:
    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return lines


def verdict(results: dict) -> list[str]:
    if results["failures"] or results["user_errors"]:
        lines = [
            f"> ❌ **FAILED RUN: {results['failures']} failed requests, {results['user_errors']} user "
            "errors.** The figures below are not a pass.",
        ]
        lines += [f"> - {example}" for example in results["failure_examples"]]
        if len(results["problems"]) > 1:
            lines.append("> Also: " + "; ".join(results["problems"][1:]) + ".")
        return lines
    if results["status"] != "pass":
        return ["> ❌ **FAIL:** " + "; ".join(results["problems"]) + "."]
    rows = [r for r in results["targets"] if r["status"] in ("aim", "pass")]
    aims = sum(r["status"] == "aim" for r in rows)
    return [
        f"> ✅ **PASS:** no failed request; at the guide's load shape every measured endpoint's p95 is "
        f"at most a quarter of its target ({aims} of {len(rows)} within a tenth, the aim); query counts "
        "do not grow with the data."
    ]


def target_table(results: dict) -> list[str]:
    rows = []
    for row in results["targets"]:
        figures = results["endpoints"].get(row["endpoint"])
        target = row["target_ms"]
        current = (
            f"{ms(figures['p50_ms'])} / {ms(figures['p95_ms'])} / {ms(figures['p99_ms'])} ms"
            if figures
            else "—"
        )
        rows.append(
            [
                row["endpoint"],
                f"< {target:,.0f}ms" if target else "—",
                current,
                f"{target / 4:g} ms" if target else "—",
                f"{target / 10:g} ms" if target else "—",
                num(figures["rps"], 1) if figures else "—",
                figures["failures"] if figures else "—",
                STATUS_LABELS[row["status"]],
            ]
        )
    headers = ["Endpoint", "Target Response Time", "Current (p50 / p95 / p99)", "p95 must be ≤ (¼)"]
    headers += ["p95 aim (⅒)", "req/s", "Failures", "Status"]
    return table(headers, rows)


def requests_table(requests: dict) -> list[str]:
    rows = [
        [
            key,
            f["requests"],
            f["failures"],
            ms(f["p50_ms"]),
            ms(f["p95_ms"]),
            ms(f["p99_ms"]),
            ms(f["max_ms"]),
            num(f["rps"], 1),
        ]
        for key, f in requests.items()
        if f["requests"]
    ]
    return table(["Request", "Count", "Failures", "p50 ms", "p95 ms", "p99 ms", "max ms", "req/s"], rows)


def saturation_section(results: dict) -> list[str]:
    sat = results["saturation"]
    keys = sorted({key for step in sat["steps"] for key in step["p95_ms"]})
    rows = [
        [
            step["users"],
            num(step["mix_rps"], 1),
            *(ms(step["p95_ms"].get(key)) for key in keys),
            step["failures"] + step["user_errors"],
            "✅" if step["within_limit"] else "❌",
        ]
        for step in sat["steps"]
    ]
    headers = ["Users (no wait)", "Mix req/s", *(f"p95 {key}" for key in keys), "Failures"]
    headers.append(f"All p95 < {sat['p95_limit_ms']:g} ms")
    best = (
        f"**{num(sat['rps'], 1)} req/s** at {sat['users']} users "
        f"({ratio(sat['ratio_to_baseline'])} the baseline)"
        if sat["users"]
        else "**none**: no step kept every p95 under the limit"
    )
    return [
        f"Highest mix throughput with every endpoint's p95 under {sat['p95_limit_ms']:g} ms: {best}.",
        "",
        *table(headers, rows),
    ]


def resources_section(results: dict) -> list[str]:
    res = results["resources"]
    lines = table(
        ["Guide's target", "Target", "Measured (guide's load shape)", "Status"],
        [
            [r["what"], r["target"], f"{num(r['value'], 1)}{r['unit']}", RESOURCE_LABELS[r["status"]]]
            for r in results["resource_targets"]
        ],
    )
    lines += [
        "",
        "The machine's CPU counts everything on it: Locust and PostgreSQL share it with the workers, and "
        "so does any other work (its load average when the run began is under Machine). Per process, "
        "CPU is % of one core over each measured window, and RSS the peak over the whole run.",
        "",
    ]
    phases = list(res.get("phases", {}))
    lines += table(
        ["Process", "PID", *(f"CPU % ({name})" for name in phases), "Peak RSS MiB"],
        [
            [
                p["role"],
                p["pid"],
                *(num(p["cpu_percent"].get(name), 1) for name in phases),
                num(p["peak_rss_mib"], 1),
            ]
            for p in res.get("processes", [])
        ],
    )
    pool = res.get("db_pool", {})
    lines += [
        "",
        f"Database connection pool: DB_POOL_SIZE {pool.get('pool_size')} + DB_MAX_OVERFLOW "
        f"{pool.get('max_overflow')} = {pool.get('per_process')} per process x {pool.get('processes')} "
        f"processes with a pool = **{pool.get('capacity')}** connections at most.",
        "",
    ]
    lines += table(
        ["Window", "Machine CPU avg %", "Machine CPU peak %", "DB connections open (peak)", "In use (peak)"],
        [
            [
                name,
                num(v.get("system_cpu_avg"), 1),
                num(v.get("system_cpu_peak"), 1),
                num(v.get("db_open_peak")),
                f"{num(v.get('db_in_use_peak'))} of {pool.get('capacity')}",
            ]
            for name, v in res.get("phases", {}).items()
        ],
    )
    redis = res.get("redis", {})
    lines += [
        "",
        f"Redis: {num(redis.get('used_memory_mib'), 1)} MiB used at the end, "
        f"{num(redis.get('used_memory_peak_mib'), 1)} MiB peak during the run, "
        f"{num(redis.get('keys'))} keys in the benchmark's database ({redis.get('url', '')}).",
    ]
    return lines


def query_counts_section(results: dict) -> list[str]:
    counts = results["query_counts"]
    sizes = counts.get("sizes", [])
    rows = []
    for key, c in counts.get("endpoints", {}).items():
        equal = len(set(c["queries"].values())) == 1
        ok = (
            "✅"
            if equal and c["ok"]
            else ("❌ HTTP " + ", ".join(map(str, c["statuses"])) if equal else "❌")
        )
        rows.append([key, *(c["queries"].get(str(size), "—") for size in sizes), ok])
    return [
        "SQL statements per request, counted in-process (CaptureQueriesContext and Django's test client) "
        f"on {counts.get('database', 'a scratch database')}, warm caches, with the clinic holding "
        f"{' and '.join(f'{size:,}' for size in sizes)} patients. They must be equal.",
        "",
        *table(["Endpoint", *(f"{size:,} patients" for size in sizes), "Equal"], rows),
        *(["", *revocation_cost.markdown_rows(counts["revocation"])] if "revocation" in counts else []),
        *(["", *today_page.markdown_rows(counts["today_page"])] if "today_page" in counts else []),
    ]


def fact(value) -> str:
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, dict):
        return "; ".join(f"{key}: {fact(item)}" for key, item in value.items())
    return str(value)


def facts_table(facts: dict) -> list[str]:
    def label(key: str) -> str:
        if key.isupper():
            return f"`{key}`"
        words = key.replace("_", " ")
        return words[:1].upper() + words[1:]

    return table(["", ""], [[label(key), fact(value)] for key, value in facts.items()])


def extra_sections(results: dict) -> list[str]:
    lines = []
    for section in results.get("sections", {}).values():
        lines += [f"## {section['title']}", "", *section["markdown"], ""]
    return lines


def render_markdown(results: dict) -> str:
    guide = results["guide_shape"]
    base = results["baseline"]
    sat = results["saturation"]
    quick = results["mode"] == "quick"
    lines = [f"# KeneyApp benchmark: {results['date']}", "", *verdict(results), ""]
    if quick:
        lines += ["*QUICK smoke run: a small data set and short windows; not the figures of record.*", ""]
    lines += table(
        ["Figure", "Value"],
        [
            [
                f"Mix at the guide's load shape ({guide['users']} users, 1-3 s between tasks)",
                f"{num(results['mix_rps'], 1)} req/s ({ratio(results['mix_to_baseline'])} the baseline)",
            ],
            [
                f"Baseline: GET /healthz, same workers, {base['users']} users, no wait",
                f"{num(results['baseline_rps'], 1)} req/s (p50 / p95 / p99 {ms(base.get('p50_ms'))} / "
                f"{ms(base.get('p95_ms'))} / {ms(base.get('p99_ms'))} ms)",
            ],
            [
                f"Saturation: highest mix throughput with every p95 < {sat['p95_limit_ms']:g} ms",
                f"{num(sat['rps'], 1)} req/s at {sat['users'] or '—'} users "
                f"({ratio(sat['ratio_to_baseline'])} the baseline)",
            ],
            ["Failed requests (every phase, logins and warm-ups included)", results["failures"]],
            ["Data set", results["dataset"].get("summary", "—")],
        ],
    )
    lines += [
        "",
        f"At the guide's shape each user waits 1 to 3 s between tasks, so {guide['users']} users offer "
        f"about {guide['users'] / 2:g} req/s whatever the server: that shape measures latency under "
        "a given load; the saturation figure measures capacity.",
    ]
    lines += [
        "",
        f"## Target Metrics (guide's load shape: {guide['users']} users, measured "
        f"{num(guide['measured_seconds'])} s after every user logged in and warmed up)",
        "",
        f"The {guide['users']} users logged in within {num(guide.get('login_seconds'))} s of the last one "
        "starting (each login checks an Argon2 hash).",
        "",
        *target_table(results),
        "",
        "## Every request at the guide's load shape",
        "",
        "Logins and the page of ids each user reads in `on_start` come before the statistics are reset "
        "(their failures, if any, are counted above).",
        "",
        *requests_table(guide["requests"]),
        "",
        "## Saturation (users with no wait, stepped up)",
        "",
        *saturation_section(results),
        "",
        *extra_sections(results),
        "## Resource utilization",
        "",
        *resources_section(results),
        "",
        "## Query counts",
        "",
        *query_counts_section(results),
        "",
        "## Data set",
        "",
        *facts_table(results["dataset"]),
        "",
        "## Machine",
        "",
        *facts_table(results["machine"]),
        "",
        "## Topology and run",
        "",
        *facts_table({**results["topology"], **results["setup"]}),
        "",
        "Reproduce with `make bench` (or `make bench QUICK=1`); Locust's HTML report with the charts is "
        "`latest.html` beside this file.",
        "",
    ]
    return "\n".join(lines)


def write_report(results: dict, directory: Path) -> tuple[Path, Path]:
    directory.mkdir(parents=True, exist_ok=True)
    json_path, md_path = directory / "latest.json", directory / "latest.md"
    json_path.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    md_path.write_text(render_markdown(results), encoding="utf-8")
    return json_path, md_path
