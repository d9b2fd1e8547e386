"""The audit trail's cost (bench/run.py calls these): the same requests, one at a time, sent
alternately to two topologies started side by side on the same database and Redis, one with
AUDIT_TRAIL=1 and one with 0; then the p50s side by side. The requirement: at most 1 ms more at
p50 with the trail on.

Alternating (on, off, then off, on in the next round) gives both sides the same machine at the
same moment: measured one after the other, or against the topology that had just run the load
test, the difference was mostly the machine's (several milliseconds either way). Each round goes through every
endpoint in turn, after a warm-up round. The response cache stays on for both, so GET
/patients/{id} (served from the cache, no query of its own) shows the trail's INSERT at its most
visible, and GET /patients (50 patients shown: 50 rows) at its largest.

    python -m bench.audit_effect --on http://127.0.0.1:8100 --off http://127.0.0.1:8102 --rounds 100
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


def measure(on_url: str, off_url: str, *, rounds: int) -> dict:
    """{"on": figures, "off": figures} of each endpoint, the two topologies asked alternately."""
    clients = {"on": Client(on_url), "off": Client(off_url)}
    samples: dict[str, dict[str, list[float]]] = {
        side: {key: [] for key, *_ in ENDPOINTS} for side in clients
    }
    failures = 0
    try:
        for client in clients.values():
            client.login()
        status, data, _ = clients["on"].call("GET", "/api/v1/patients?limit=1&fields=id&ordering=id")
        if status != 200:
            raise RuntimeError(f"GET /patients answered {status}: {data[:200]!r}")
        patient_id = json.loads(data)["items"][0]["id"]
        for index in range(rounds + 1):
            order = ("on", "off") if index % 2 else ("off", "on")
            for key, method, path, body in ENDPOINTS:
                for side in order:
                    url = path.replace("{id}", str(patient_id))
                    status, _, elapsed = clients[side].call(method, url, body)
                    if status != 200:
                        failures += 1
                    elif index > 0:  # the first round warms the caches and the connections
                        samples[side][key].append(elapsed)
    finally:
        for client in clients.values():
            client.close()
    return {
        side: {
            "setting": side,
            "rounds": rounds,
            "endpoints": {key: latency_figures(values) for key, values in per_side.items()},
            "failures": failures if side == "on" else 0,
        }
        for side, per_side in samples.items()
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
        "sent alternately to two topologies started side by side, the audit trail on (AUDIT_TRAIL=1: "
        "every request records its accesses in one INSERT) and off (0), same database and Redis. "
        f"Requirement: at most {LIMIT_MS:g} ms more at p50.",
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
    parser.add_argument("--on", required=True, help="a topology with AUDIT_TRAIL=1")
    parser.add_argument("--off", required=True, help="a topology with AUDIT_TRAIL=0")
    parser.add_argument("--rounds", type=int, default=100)
    args = parser.parse_args()
    measured = measure(args.on, args.off, rounds=args.rounds)
    print("\n".join(markdown_rows(comparison(measured["on"], measured["off"]))))


if __name__ == "__main__":
    main()
