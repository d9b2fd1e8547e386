"""The report writer: given Locust's statistics, the table, the JSON and every status are right, and a
run with a failed request says so at the top and is never a pass."""

import json

from bench.cache_effect import cache_comparison, markdown_rows
from bench.http_client import latency_figures
from bench.locust_stats import AGGREGATED, parse_stats_csv
from bench.report import render_markdown, write_report
from bench.results import Phase, build_results

HEADER = (
    "Type,Name,Request Count,Failure Count,Median Response Time,Average Response Time,Min Response Time,"
    "Max Response Time,Average Content Size,Requests/s,Failures/s,50%,66%,75%,80%,90%,95%,98%,99%,99.9%,"
    "99.99%,100%"
)


def csv_row(method, name, count, failures, p50, p95, p99, rps):
    return (
        f"{method},{name},{count},{failures},{p50},{p50 + 1.5},1.2,{p99 + 5},900,{rps},0.0,"
        f"{p50},{p50},{p50},{p95},{p95},{p95},{p99},{p99},{p99 + 5},{p99 + 5},{p99 + 5}"
    )


def locust_csv(rows):
    total = sum(r[2] for r in rows)
    aggregated = f",Aggregated,{total},{sum(r[3] for r in rows)},10,11,1,99,900,{sum(r[7] for r in rows)},0,"
    aggregated += "10,10,10,10,10,10,10,10,10,10,10"
    return "\n".join([HEADER, *(csv_row(*r) for r in rows), aggregated]) + "\n"


GUIDE_ROWS = [
    ("POST", "/api/v1/auth/login", 0, 0, 0, 0, 0, 0.0),
    ("GET", "/api/v1/patients", 3000, 0, 12, 18, 30, 50.0),  # target 200: p95 18 <= 20, the aim
    ("GET", "/api/v1/patients/{id}", 2000, 0, 9, 15, 22, 33.3),  # target 100: 15 <= 25, a pass
    ("POST", "/api/v1/patients", 1000, 0, 20, 28, 40, 16.7),  # target 300: 28 <= 30, the aim
    ("GET", "/api/v1/appointments", 2000, 0, 11, 19, 30, 33.3),  # target 200: 19 <= 20, the aim
    ("GET", "/api/v1/dashboard/stats", 2000, 0, 20, 40, 60, 33.3),  # target 500: 40 <= 50, the aim
    ("GET", "/api/v1/patients?fields=id&limit=100", 0, 0, 0, 0, 0, 0.0),
]
COUNTS = {
    "database": "scratch",
    "sizes": [10, 1000],
    "endpoints": {
        "GET /patients": {"queries": {"10": 3, "1000": 3}, "statuses": [200, 200], "ok": True},
        "POST /patients": {"queries": {"10": 9, "1000": 9}, "statuses": [201, 201], "ok": True},
    },
}


def phase(name, rows, *, users, user_class="KeneyAppUser", failures=0, user_errors=0, examples=()):
    return Phase(
        name=name,
        user_class=user_class,
        users=users,
        stats=parse_stats_csv(locust_csv(rows)),
        measured_seconds=60.0,
        failures=failures,
        user_errors=user_errors,
        failure_examples=list(examples),
    )


def websocket_section(p95_ms=4.0):
    """What bench/run.py makes of bench/websocket_latency.py's figures: the guide's WebSocket row."""
    row = {"p50_ms": 2.0, "p95_ms": p95_ms, "p99_ms": 6.0, "max_ms": 9.0, "requests": 300, "failures": 0}
    return {
        "title": "Messaging and websockets (200 open sockets)",
        "markdown": ["(the probe's table)"],
        "failures": 0,
        "endpoints": {"WebSocket message": {**row, "rps": None, "avg_ms": None}},
    }


def results(*, guide_rows=GUIDE_ROWS, guide_failures=0, query_counts=COUNTS, saturation=None, sections=None):
    baseline = phase(
        "baseline", [("GET", "/healthz", 40000, 0, 2, 4, 6, 2000.0)], users=16, user_class="BaselineUser"
    )
    guide = phase(
        "guide",
        guide_rows,
        users=200,
        failures=guide_failures,
        examples=["POST /api/v1/auth/login: HTTPError('401 Client Error')"] if guide_failures else (),
    )
    if saturation is None:
        saturation = [
            phase("s1", [("GET", "/api/v1/patients", 900, 0, 10, 20, 25, 90.0)], users=1),
            phase("s2", [("GET", "/api/v1/patients", 1600, 0, 15, 40, 45, 160.0)], users=2),
            phase("s4", [("GET", "/api/v1/patients", 1800, 0, 30, 70, 90, 180.0)], users=4),
        ]
    return build_results(
        mode="full",
        date="2026-11-26 12:00 UTC",
        baseline=baseline,
        guide=guide,
        saturation=saturation,
        resources={},
        query_counts=query_counts,
        dataset={"summary": "100,000 patients in the measured clinic (keney-demo)"},
        machine={"cores": 2, "memory_GiB": 23.6},
        sections={"messaging": websocket_section()} if sections is None else sections,
    )


def test_locust_csv_rows_are_keyed_like_the_guides_table():
    stats = parse_stats_csv(locust_csv(GUIDE_ROWS))

    assert stats["GET /patients/{id}"].p95_ms == 15
    assert stats["GET /patients/{id}"].rps == 33.3
    assert stats["POST /patients"].p99_ms == 40
    assert stats[AGGREGATED].requests == 10000
    # Rows without requests have no percentiles (Locust writes N/A or 0 for them).
    assert stats["POST /auth/login"].p50_ms is None


def test_passing_run_has_the_json_shape_of_the_issue():
    report = results()

    assert report["status"] == "pass"
    assert report["problems"] == []
    assert report["baseline_rps"] == 2000.0
    assert report["mix_rps"] == 166.6  # the five tasks; logins and the ids page are setup
    assert report["failures"] == 0
    assert set(report["endpoints"]) == {
        "GET /patients",
        "GET /patients/{id}",
        "POST /patients",
        "GET /appointments",
        "GET /dashboard/stats",
        "WebSocket message",
    }
    figures = report["endpoints"]["GET /patients/{id}"]
    assert {k: figures[k] for k in ("p50_ms", "p95_ms", "p99_ms", "rps", "failures", "target_ms")} == {
        "p50_ms": 9.0,
        "p95_ms": 15.0,
        "p99_ms": 22.0,
        "rps": 33.3,
        "failures": 0,
        "target_ms": 100,
    }
    assert isinstance(report["dataset"], dict)
    assert isinstance(report["machine"], dict)
    json.dumps(report)  # serializable as is


def test_each_row_passes_at_a_quarter_and_meets_the_aim_at_a_tenth():
    statuses = {row["endpoint"]: row["status"] for row in results()["targets"]}

    assert statuses["GET /patients"] == "aim"
    assert statuses["GET /patients/{id}"] == "pass"
    assert statuses["POST /patients"] == "aim"
    assert statuses["GET /dashboard/stats"] == "aim"
    assert statuses["WebSocket message"] == "aim"  # p95 4 ms <= a tenth of 50 ms


def test_markdown_fills_the_guides_target_table():
    markdown = render_markdown(results())

    assert markdown.splitlines()[2].startswith("> ✅ **PASS:**")
    assert (
        "| GET /patients/{id} | < 100ms | 9.0 / 15 / 22 ms | 25 ms | 10 ms | 33.3 | 0 | "
        "✅ pass (p95 ≤ ¼ target); aim (⅒) not met |"
    ) in markdown
    assert (
        "| GET /patients | < 200ms | 12 / 18 / 30 ms | 50 ms | 20 ms | 50.0 | 0 | ✅ pass, aim met"
        in markdown
    )
    assert "| WebSocket message | < 50ms | 2.0 / 4.0 / 6.0 ms | 12.5 ms | 5 ms | — | 0 |" in markdown
    assert "166.6 req/s (0.083x the baseline)" in markdown


def test_a_run_with_failed_requests_says_so_at_the_top_and_is_never_a_pass():
    report = results(guide_failures=3)
    markdown = render_markdown(report)

    assert report["status"] == "fail"
    assert report["failures"] == 3
    top = "\n".join(markdown.splitlines()[:4])
    assert "FAILED RUN: 3 failed requests" in top
    assert "401 Client Error" in markdown
    assert "PASS" not in markdown.replace("FAILED", "")
    # The rows that would have passed say why they do not.
    assert {row["status"] for row in report["targets"] if row["endpoint"].endswith("patients")} == {
        "not_a_pass"
    }
    assert "✅ pass" not in markdown


def test_failures_counted_by_locust_in_a_row_fail_that_row():
    rows = [*GUIDE_ROWS]
    rows[2] = ("GET", "/api/v1/patients/{id}", 2000, 5, 9, 15, 22, 33.3)
    report = results(guide_rows=rows, guide_failures=5)

    statuses = {row["endpoint"]: row["status"] for row in report["targets"]}
    assert statuses["GET /patients/{id}"] == "failed_requests"
    assert report["status"] == "fail"


def test_a_p95_above_a_quarter_of_the_target_fails_the_run():
    rows = [*GUIDE_ROWS]
    rows[1] = ("GET", "/api/v1/patients", 3000, 0, 40, 51, 80, 50.0)  # target 200: a quarter is 50
    report = results(guide_rows=rows)

    assert report["status"] == "fail"
    assert {row["endpoint"]: row["status"] for row in report["targets"]}["GET /patients"] == "fail"
    assert render_markdown(report).splitlines()[2].startswith("> ❌ **FAIL:** GET /patients: fail")


def test_an_endpoint_that_exists_but_was_not_measured_fails_the_run():
    rows = [r for r in GUIDE_ROWS if r[1] != "/api/v1/patients/{id}"]
    report = results(guide_rows=rows)

    assert {row["endpoint"]: row["status"] for row in report["targets"]}["GET /patients/{id}"] == "missing"
    assert report["status"] == "fail"


def test_query_counts_that_grow_with_the_rows_fail_the_run():
    counts = json.loads(json.dumps(COUNTS))
    counts["endpoints"]["GET /patients"]["queries"]["1000"] = 52
    report = results(query_counts=counts)

    assert report["status"] == "fail"
    assert any("GET /patients" in problem for problem in report["problems"])
    assert "| GET /patients | 3 | 52 | ❌ |" in render_markdown(report)


def test_saturation_is_the_best_step_with_every_p95_under_50_ms():
    saturation = results()["saturation"]

    assert [step["within_limit"] for step in saturation["steps"]] == [True, True, False]
    assert saturation["rps"] == 160.0
    assert saturation["users"] == 2
    assert saturation["ratio_to_baseline"] == 0.08


def test_a_step_with_failures_is_not_within_the_limit():
    steps = [phase("s1", [("GET", "/api/v1/patients", 900, 1, 10, 20, 25, 90.0)], users=1, failures=1)]
    saturation = results(saturation=steps)["saturation"]

    assert saturation["steps"][0]["within_limit"] is False
    assert saturation["rps"] == 0.0
    assert saturation["users"] is None


def test_write_report_writes_json_and_markdown(tmp_path):
    report = results()

    json_path, md_path = write_report(report, tmp_path)

    assert json.loads(json_path.read_text()) == report
    assert md_path.read_text().startswith("# KeneyApp benchmark: 2026-11-26 12:00 UTC")


def cache_section(failures=0):
    def load(rps, p50):
        return {"rps": rps, "ratio_to_baseline": rps / 2000, "p50_ms": p50, "p95_ms": p50 * 2, "users": 8}

    on = {"setting": "on", "baseline_rps": 2000.0, "failures": failures, "reads": {}}
    off = {"setting": "off", "baseline_rps": 2000.0, "failures": 0, "reads": {}}
    on["reads"] = {"GET /patients": load(600.0, 5.0), "GET /patients/{id}": load(900.0, 3.0)}
    off["reads"] = {"GET /patients": load(200.0, 15.0), "GET /patients/{id}": load(450.0, 6.0)}
    figures = {
        "dashboard": {
            "endpoint": "GET /dashboard/stats",
            "rounds": 2,
            "cold": latency_figures([40.0, 50.0]),
            "warm": latency_figures([2.0, 3.0, 2.5, 2.0]),
            "failures": 0,
            "cold_to_warm_p50": 20.0,
        },
        "comparison": cache_comparison(on, off),
    }
    return {
        "title": "The cache's effect",
        "figures": figures,
        "markdown": markdown_rows(figures),
        "failures": figures["dashboard"]["failures"] + figures["comparison"]["failures"],
    }


def test_the_cache_section_shows_cold_and_warm_and_on_and_off_against_the_baseline():
    data = results(sections={"cache": cache_section(), "messaging": websocket_section()})
    assert data["status"] == "pass"
    reads = data["sections"]["cache"]["figures"]["comparison"]["reads"]
    assert reads["GET /patients"]["speedup"] == 3.0  # (600 / 2000) / (200 / 2000)
    markdown = render_markdown(data)
    assert "## The cache's effect" in markdown
    assert "| GET /patients | 600.0 | 0.30x | 200.0 | 0.10x | **3.00x** | 5.0 / 15.0 |" in markdown
    assert "| cold | 2 | 45.0 |" in markdown


def test_a_failed_request_in_a_section_fails_the_run():
    data = results(sections={"cache": cache_section(failures=2), "messaging": websocket_section()})
    assert data["status"] == "fail"
    assert data["failures"] == 2


def test_a_run_without_the_websocket_row_fails():
    data = results(sections={})
    assert data["status"] == "fail"
    assert "WebSocket message: not measured" in data["problems"]


def test_a_slow_websocket_row_fails_the_run():
    data = results(sections={"messaging": websocket_section(p95_ms=20.0)})
    assert data["status"] == "fail"
    assert "WebSocket message: fail" in data["problems"]
