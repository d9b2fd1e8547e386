"""Locust's statistics as the benchmark reads them: the `<prefix>_stats.csv` a headless run writes.

Each row becomes an `EndpointStats` keyed like the guide's table ("GET /patients/{id}"): the
method, then the route without the `/api/v1` prefix.
"""

import csv
from dataclasses import asdict, dataclass
from pathlib import Path

API_PREFIX = "/api/v1"
AGGREGATED = "Aggregated"


@dataclass(frozen=True)
class EndpointStats:
    method: str
    name: str  # as Locust names it: the path, or the `name=` a task gave
    requests: int
    failures: int
    p50_ms: float | None
    p95_ms: float | None
    p99_ms: float | None
    avg_ms: float | None
    max_ms: float | None
    rps: float

    @property
    def key(self) -> str:
        return endpoint_key(self.method, self.name)

    def as_dict(self) -> dict:
        return asdict(self)


def endpoint_key(method: str, name: str) -> str:
    if not method:
        return name
    path = name[len(API_PREFIX) :] if name.startswith(API_PREFIX + "/") else name
    return f"{method} {path}"


def _number(value: str) -> float | None:
    if value in ("", "N/A"):
        return None
    return float(value)


def parse_stats_csv(text: str) -> dict[str, EndpointStats]:
    """Rows of Locust's stats CSV by endpoint key; the totals row is under "Aggregated"."""
    stats = {}
    for row in csv.DictReader(text.splitlines()):
        requests = int(row["Request Count"])
        entry = EndpointStats(
            method=row["Type"],
            name=row["Name"],
            requests=requests,
            failures=int(row["Failure Count"]),
            p50_ms=_number(row["50%"]) if requests else None,
            p95_ms=_number(row["95%"]) if requests else None,
            p99_ms=_number(row["99%"]) if requests else None,
            avg_ms=_number(row["Average Response Time"]) if requests else None,
            max_ms=_number(row["Max Response Time"]) if requests else None,
            rps=float(row["Requests/s"] or 0),
        )
        stats[AGGREGATED if row["Name"] == AGGREGATED else entry.key] = entry
    return stats


def read_stats_csv(path: Path) -> dict[str, EndpointStats]:
    return parse_stats_csv(path.read_text(encoding="utf-8"))
