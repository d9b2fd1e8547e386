"""Websocket bursts against a running ASGI server: events published straight into the channel layer
(Redis, the server's own), each stamped with its publish time, and timed to the client's socket.

- "20 to one user": 20 events to one user's group back to back (well within 100 ms), repeated for
  each user in turn; each of the user's sockets (5) must get all 20, in order.
- "200 sockets at once": one event to the clinic's staff group, which every open socket joined, so
  all of them receive it at the same moment; repeated `rounds` times.

Each row: events expected and delivered, out-of-order deliveries, frames received (fewer frames than
events means bursts were batched), and the publish -> receive latency p50 / p95 / p99 / max. The
publisher and the sockets run in this process, so one clock times both ends.

Called by bench/websocket_latency.py with its open sockets (bench/run.py reports it).
"""

from __future__ import annotations

import asyncio
import time

from bench.http_client import latency_figures

BURST_EVENTS = 20
# Each burst (published back to back, within a few ms) is awaited before the next is sent, so a
# figure is one burst's latency, not a backlog's; an event still missing after this counts as lost.
WAIT_SECONDS = 5.0
# The server's channel layer (keneyapp/settings.py CHANNEL_LAYERS) and event names
# (keneyapp/core/events.py), restated: the bench imports no project module.
CHANNEL_PREFIX = "keneyapp:asgi"
CLIENT_EVENT = "client.event"
EVENT_TYPE = "bench.burst"


def user_group(tenant_id: int, user_id: int) -> str:
    return f"clinic-{int(tenant_id)}-user-{int(user_id)}"


def staff_group(tenant_id: int) -> str:
    return f"clinic-{int(tenant_id)}-staff"


class BurstRecorder:
    """What every socket received of the bench's events, as (socket index, run, n, publish time,
    receive time), and how many frames carried them per run."""

    def __init__(self):
        self.received: list[tuple[int, str, int, float, float]] = []
        self.frames: dict[str, int] = {}
        self.counts: dict[str, int] = {}
        self.waiting: tuple[str, int, asyncio.Event] | None = None

    async def wait_for(self, run: str, deliveries: int, *, timeout: float) -> None:
        """Until `deliveries` events of `run` arrived (over all sockets), or `timeout`."""
        if self.counts.get(run, 0) >= deliveries:
            return
        done = asyncio.Event()
        self.waiting = (run, deliveries, done)
        try:
            await asyncio.wait_for(done.wait(), timeout)
        except TimeoutError:
            pass
        finally:
            self.waiting = None

    def frame(self, socket_index: int, events: list[dict], received: float) -> None:
        runs = set()
        for event in events:
            if event.get("type") != EVENT_TYPE:
                continue
            runs.add(event["run"])
            self.received.append((socket_index, event["run"], event["n"], event["t"], received))
            self.counts[event["run"]] = self.counts.get(event["run"], 0) + 1
        for run in runs:
            self.frames[run] = self.frames.get(run, 0) + 1
        if self.waiting and self.counts.get(self.waiting[0], 0) >= self.waiting[1]:
            self.waiting[2].set()


def _layer(redis_url: str):
    from channels_redis.core import RedisChannelLayer

    return RedisChannelLayer(hosts=[redis_url], prefix=CHANNEL_PREFIX)


async def _publish(layer, group: str, run: str, n: int) -> None:
    event = {"type": EVENT_TYPE, "run": run, "n": n, "t": time.time()}
    await layer.group_send(group, {"type": CLIENT_EVENT, "event": event})


async def measure(
    *, redis_url: str, recorder: BurstRecorder, tenant_id: int, users: list[tuple[int, int]], rounds: int = 20
) -> dict:
    """`users`: (user id, sockets open for them). Returns one figures dict per row."""
    layer = _layer(redis_url)
    sockets = sum(count for _, count in users)
    try:
        for user_id, count in users:  # "20 to one user", each user in turn, one burst at a time
            run = f"user-{user_id}"
            for n in range(BURST_EVENTS):
                await _publish(layer, user_group(tenant_id, user_id), run, n)
            await recorder.wait_for(run, BURST_EVENTS * count, timeout=WAIT_SECONDS)
        for round_number in range(rounds):  # "200 sockets at once", one round at a time
            run = f"fanout-{round_number}"
            await _publish(layer, staff_group(tenant_id), run, 0)
            await recorder.wait_for(run, sockets, timeout=WAIT_SECONDS)
    finally:
        await layer.close_pools()

    bursts = [row for row in recorder.received if row[1].startswith("user-")]
    fanout = [row for row in recorder.received if row[1].startswith("fanout-")]
    burst_frames = sum(count for run, count in recorder.frames.items() if run.startswith("user-"))
    return {
        "burst": _row(
            bursts,
            expected=BURST_EVENTS * sockets,
            frames=burst_frames,
            description=f"{BURST_EVENTS} events to one user within 100 ms, each of {len(users)} users "
            "in turn, on each of their sockets",
        ),
        "fanout": _row(
            fanout,
            expected=rounds * sockets,
            frames=sum(count for run, count in recorder.frames.items() if run.startswith("fanout-")),
            description=f"one event to the clinic's {sockets} sockets at once, {rounds} times",
        ),
    }


Received = list[tuple[int, str, int, float, float]]


def _row(rows: Received, *, expected: int, frames: int, description: str) -> dict:
    latencies = [(received - published) * 1000 for _, _, _, published, received in rows]
    out_of_order, last_seen = 0, {}
    for socket_index, run, n, _, _ in rows:  # rows are in arrival order
        key = (socket_index, run)
        if key in last_seen and n <= last_seen[key]:
            out_of_order += 1
        last_seen[key] = n
    delivered = len(rows)
    return {
        "description": description,
        "expected": expected,
        "delivered": delivered,
        "lost": max(0, expected - delivered),
        "out_of_order": out_of_order,
        "frames": frames,
        "latency": latency_figures(latencies, max(0, expected - delivered)),
    }


def markdown_rows(figures: dict) -> list[str]:
    lines = [
        "Websocket bursts, published straight into the channel layer and timed to the socket "
        "(bench/websocket_bursts.py; target: every event delivered, in order, p99 under 5 ms, fewer "
        "frames than events):",
        "",
        "| Burst | Events expected | Delivered | Out of order | Frames | p50 ms | p95 ms | p99 ms | max ms |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for key in ("burst", "fanout"):
        row = figures[key]
        figures_ms = " | ".join(_n(row["latency"][key]) for key in ("p50_ms", "p95_ms", "p99_ms", "max_ms"))
        lines.append(
            f"| {row['description']} | {row['expected']} | {row['delivered']} | {row['out_of_order']} | "
            f"{row['frames']} | {figures_ms} |"
        )
    return lines


def _n(value) -> str:
    return "—" if value is None else f"{value:,.2f}"
