"""What the benchmark's own probes share: one keep-alive HTTP connection with the demo user's
token, and latency figures from a list of samples (bench/cache_effect.py, bench/document_upload.py,
bench/websocket_latency.py). Locust measures the load phases; these measure one request at a time.
"""

import argparse
import http.client
import json
import math
import statistics
import time
from urllib.parse import urlsplit

DEMO_LOGIN = {"username": "testuser", "password": "testpass"}  # manage.py seed_demo's demo user


class Client:
    """One keep-alive HTTP connection, as one browser tab would use, with a bearer token."""

    def __init__(self, base_url: str, token: str = "", timeout: float = 120):
        parts = urlsplit(base_url)
        self.connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=timeout)
        self.token = token
        self.answered_at = 0.0  # perf_counter() when the last answer was read

    def call(
        self, method: str, path: str, body=None, headers: dict | None = None
    ) -> tuple[int, bytes, float]:
        """(status, body, milliseconds). A dict body is sent as JSON; bytes or a file as they are."""
        headers = dict(headers or {})
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        if isinstance(body, dict):
            body = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        began = time.perf_counter()
        try:
            self.connection.request(method, path, body=body, headers=headers)
        except (BrokenPipeError, ConnectionResetError):
            # The server closed the idle keep-alive connection: the request never left, so
            # sending it again on a new connection is safe.
            self.fresh()
            if hasattr(body, "seek"):
                body.seek(0)
            began = time.perf_counter()
            self.connection.request(method, path, body=body, headers=headers)
        response = self.connection.getresponse()
        data = response.read()
        self.answered_at = time.perf_counter()
        return response.status, data, (self.answered_at - began) * 1000

    def fresh(self) -> None:
        """Go on with a new connection (the server may have closed an idle one)."""
        self.connection.close()

    def login(self, username: str = DEMO_LOGIN["username"], password: str = DEMO_LOGIN["password"]) -> str:
        status, data, _ = self.call(
            "POST", "/api/v1/auth/login", {"username": username, "password": password}
        )
        if status != 200:
            raise RuntimeError(f"login as {username} answered {status}: {data[:200]!r}")
        self.token = json.loads(data)["access_token"]
        return self.token

    def close(self) -> None:
        self.connection.close()


def percentile(values: list[float], share: float) -> float | None:
    """The nearest-rank percentile (share in 0..1); None without samples."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(share * len(ordered)) - 1))]


def latency_figures(samples: list[float], failures: int = 0) -> dict:
    """Requests, failures, p50/p95/p99/max in ms (rounded to 0.01), as the report's tables want."""

    def rounded(value):
        return None if value is None else round(value, 2)

    return {
        "requests": len(samples) + failures,
        "failures": failures,
        "p50_ms": rounded(statistics.median(samples)) if samples else None,
        "p95_ms": rounded(percentile(samples, 0.95)),
        "p99_ms": rounded(percentile(samples, 0.99)),
        "max_ms": rounded(max(samples)) if samples else None,
    }


def add_server_arguments(parser: argparse.ArgumentParser, *, whose: str = "an") -> None:
    """The options every probe's command line has: where the server is, who to log in as, and
    JSON instead of Markdown."""
    parser.add_argument("--url", required=True, help="the web (WSGI) base URL, e.g. http://127.0.0.1:8000")
    parser.add_argument("--token", default="", help=f"{whose} access token; without it, log in as --username")
    parser.add_argument("--username", default=DEMO_LOGIN["username"])
    parser.add_argument("--password", default=DEMO_LOGIN["password"])
    parser.add_argument("--json", action="store_true", help="print the figures as JSON instead of Markdown")


def print_figures(figures: dict, markdown_rows, *, as_json: bool) -> None:
    print(json.dumps(figures, indent=2) if as_json else "\n".join(markdown_rows(figures)))
