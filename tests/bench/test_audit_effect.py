"""The audit on/off comparison of the benchmark: the p50 added per endpoint, and the 1 ms limit."""

from bench.audit_effect import ENDPOINTS, comparison, markdown_rows
from bench.http_client import latency_figures


def side(setting: str, p50: float) -> dict:
    return {
        "setting": setting,
        "rounds": 3,
        "endpoints": {key: latency_figures([p50 - 0.1, p50, p50 + 0.1]) for key, *_ in ENDPOINTS},
        "failures": 0,
    }


def test_the_comparison_says_what_the_trail_adds_and_whether_it_is_within_the_limit():
    within = comparison(side("on", 5.4), side("off", 5.0))
    row = within["endpoints"]["GET /patients/{id}"]
    assert row["p50_added_ms"] == 0.4 and row["within_limit"]
    over = comparison(side("on", 6.5), side("off", 5.0))
    assert not over["endpoints"]["GET /patients"]["within_limit"]
    lines = markdown_rows(over)
    assert any("GET /patients |" in line and "NO" in line for line in lines)
