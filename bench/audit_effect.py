"""The audit trail's cost, measured on the running topology (bench/run.py calls these): the same
requests, one at a time on one keep-alive connection, with AUDIT_TRAIL on (the topology as it
runs) and off (restarted with AUDIT_TRAIL=0), then their p50s side by side. The requirement: at
most 1 ms more at p50 with the trail on.

Rounds go through every endpoint in turn (so each side sees the same mix), after a warm-up round;
the response cache stays on for both, so GET /patients/{id} (served from the cache, no query of
its own) shows the trail's INSERT at its most visible.

    python -m bench.audit_effect --url http://127.0.0.1:8100 --rounds 100
"""

import argparse
import json

from bench.http_client import Client, latency_figures

ENDPOINTS = (
    ("GET /patients", "GET", "/api/v1/patients?limit=50", None),
    ("GET /patients/{id}", "GET", "/api/v1/patients/{id}", None),
    ("GET /appointments", "GET", "/api/v1/appointments?limit=50", None),
    # The same value every time: the change writes nothing after the first, the trail one row.
    ("PATCH /patients/{id}", "PATCH", "/api/v1/patients/{id}", {"notes": "audit bench"}),
)
LIMIT_MS = 1.0


def measure(base_url: str, *, rounds: int, setting: str) -> dict:
    client = Client(base_url)
    samples: dict[str, list[float]] = {key: [] for key, *_ in ENDPOINTS}
    failures = 0
    try:
        client.login()
        status, data, _ = client.call("GET", "/api/v1/patients?limit=1&fields=id&ordering=id")
        if status != 200:
            raise RuntimeError(f"GET /patients answered {status}: {data[:200]!r}")
        patient_id = json.loads(data)["items"][0]["id"]
        for index in range(rounds + 1):
            for key, method, path, body in ENDPOINTS:
                status, _, elapsed = client.call(method, path.replace("{id}", str(patient_id)), body)
                if status != 200:
                    failures += 1
                elif index > 0:  # the first round warms the caches and the connection
                    samples[key].append(elapsed)
    finally:
        client.close()
    return {
        "setting": setting,
        "rounds": rounds,
        "endpoints": {key: latency_figures(values) for key, values in samples.items()},
        "failures": failures,
    }


def comparison(on: dict, off: dict) -> dict:
    rows = {}
    for key, *_ in ENDPOINTS:
        with_trail, without = on["endpoints"][key], off["endpoints"][key]
        p50_on, p50_off = with_trail["p50_ms"], without["p50_ms"]
        added = round(p50_on - p50_off, 3) if p50_on is not None and p50_off is not None else None
        rows[key] = {
            "on": with_trail,
            "off": without,
            "p50_added_ms": added,
            "within_limit": added is not None and added <= LIMIT_MS,
        }
    return {"rounds": on["rounds"], "endpoints": rows, "failures": on["failures"] + off["failures"]}


def markdown_rows(figures: dict) -> list[str]:
    lines = [
        f"The same requests one at a time ({figures['rounds']} rounds of each, after a warm-up round), "
        "with the audit trail on (AUDIT_TRAIL=1, every request records its accesses in one INSERT) and "
        f"off (0, the topology restarted). Requirement: at most {LIMIT_MS:g} ms more at p50.",
        "",
        "| Endpoint | p50 ms on / off | p95 ms on / off | p50 added ms | within |",
        "|---|---|---|---|---|",
    ]
    for key, row in figures["endpoints"].items():
        on, off = row["on"], row["off"]
        lines.append(
            f"| {key} | {_ms(on['p50_ms'])} / {_ms(off['p50_ms'])} | {_ms(on['p95_ms'])} / "
            f"{_ms(off['p95_ms'])} | **{_ms(row['p50_added_ms'], 2)}** | "
            f"{'yes' if row['within_limit'] else 'NO'} |"
        )
    return lines


def _ms(value, digits: int = 1) -> str:
    return "—" if value is None else f"{value:.{digits}f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", required=True)
    parser.add_argument("--rounds", type=int, default=100)
    args = parser.parse_args()
    print(json.dumps(measure(args.url, rounds=args.rounds, setting="as running"), indent=2))


if __name__ == "__main__":
    main()
