"""bench/websocket_latency.py: runnable by hand, and its figures render as Markdown rows."""

import subprocess
import sys
from pathlib import Path

from bench import websocket_latency
from bench.http_client import latency_figures

ROOT = Path(__file__).resolve().parents[2]


def test_help_runs():
    result = subprocess.run(
        [sys.executable, "-m", "bench.websocket_latency", "--help"],
        cwd=ROOT, capture_output=True, text=True, timeout=30, check=False,
    )  # fmt: skip
    assert result.returncode == 0 and "--asgi-url" in result.stdout


def test_markdown_rows_show_the_guides_websocket_row():
    row = latency_figures([1.0, 2.0, 3.0, 40.0])
    figures = {
        "sockets": 200, "socket_users": 40, "messages": 4, "events_lost": 0, "post_failures": 0,
        "before_answer": 1, "answer_to_event": row, "post_start_to_event": row, "post_messages": row,
        "inbox": row,
    }  # fmt: skip
    rows = websocket_latency.markdown_rows(figures)
    websocket = next(line for line in rows if line.startswith("| WebSocket message (POST answered"))
    assert "| 4 | 0 | 2.50 | 40.00 | 40.00 | 40.00 |" in websocket
    assert any(line.startswith("| POST /messages |") for line in rows)
    assert any(line.startswith("| GET /messages?box=inbox") for line in rows)
