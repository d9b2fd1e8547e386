"""Messaging, measured against a running server: the guide's "WebSocket message" row and the
messaging API's latency.

- WebSocket message: `sockets` websockets held open on the ASGI URL (/ws/notifications/), 5 per
  user (the guide's per-user limit) over the demo clinic's messaging staff demo.staff01..NN
  (`manage.py seed_demo --messaging-staff 40` creates 40, enough for 200 sockets). The demo user
  then sends `messages` messages one at a time, each to the next of those users, with
  POST /api/v1/messages on the web URL; for each, the time from the POST's answer to the first of
  the receiver's sockets getting its `message.created` event: p50 / p95 / p99. The event goes out
  after the commit, before the answer is written, so it can arrive first: those count as 0 ms and
  are reported (`before_answer`). Also from the request's start to the event, for reference.
- POST /api/v1/messages: the same requests' latency (one keep-alive connection).
- GET /api/v1/messages?box=inbox: one receiver's inbox page, `list_requests` times after a warm-up.

Afterwards every receiver marks its messages read (so repeated runs keep the unread index small).

    python -m bench.websocket_latency --url http://127.0.0.1:8000 --asgi-url ws://127.0.0.1:8001 \\
        --sockets 200 --messages 300 --list-requests 200
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import time

from bench import websocket_bursts
from bench.http_client import DEMO_LOGIN, Client, add_server_arguments, latency_figures, print_figures

STAFF_USERNAME = "demo.staff{:02d}"  # demo.seeding.MESSAGING_STAFF_USERNAME
STAFF_PASSWORD = "testpass"  # noqa: S105 (the public demo password)
SOCKETS_PER_USER = 5  # MAX_WS_CONNECTIONS_PER_USER's default
WARM_UP = 5
EVENT_TIMEOUT_SECONDS = 5.0


def me(client: Client) -> dict:
    status, data, _ = client.call("GET", "/api/v1/auth/me")
    if status != 200:
        raise RuntimeError(f"GET /auth/me answered {status}")
    return json.loads(data)


class SocketPool:
    """The open sockets, and when each message id first arrived on any of them."""

    def __init__(self):
        self.arrivals: dict[int, float] = {}
        self.waiters: dict[int, asyncio.Future] = {}
        self.sockets: list = []
        self.readers: list[asyncio.Task] = []
        self.closed_early = 0
        self.bursts = websocket_bursts.BurstRecorder()

    async def open(self, ws_url: str, token: str, count: int) -> None:
        from websockets.asyncio.client import connect

        for _ in range(count):
            socket = await connect(
                f"{ws_url}/ws/notifications/", subprotocols=["bearer", token], max_queue=None
            )
            self.sockets.append(socket)
            self.readers.append(asyncio.create_task(self._read(socket, len(self.sockets) - 1)))

    async def _read(self, socket, index: int) -> None:
        try:
            async for raw in socket:
                received = time.perf_counter()
                frame = json.loads(raw)
                events = frame["events"] if frame.get("type") == "batch" else [frame]
                self.bursts.frame(index, events, time.time())
                for event in events:
                    if event.get("type") != "message.created":
                        continue
                    message_id = event["message"]["id"]
                    if message_id not in self.arrivals:
                        self.arrivals[message_id] = received
                        waiter = self.waiters.pop(message_id, None)
                        if waiter is not None and not waiter.done():
                            waiter.set_result(received)
        except Exception:
            self.closed_early += 1

    async def arrival_of(self, message_id: int) -> float | None:
        if message_id in self.arrivals:
            return self.arrivals[message_id]
        waiter = self.waiters.setdefault(message_id, asyncio.get_running_loop().create_future())
        try:
            return await asyncio.wait_for(waiter, EVENT_TIMEOUT_SECONDS)
        except TimeoutError:
            return None

    async def close(self) -> None:
        for socket in self.sockets:
            await socket.close()
        for reader in self.readers:
            reader.cancel()


async def _measure_events(
    *,
    url: str,
    asgi_url: str,
    sender: Client,
    receivers: list[tuple[int, str]],
    sockets: int,
    messages: int,
    burst_redis_url: str | None,
    tenant_id: int,
) -> dict:
    pool = SocketPool()
    per_user = [min(SOCKETS_PER_USER, sockets - i * SOCKETS_PER_USER) for i in range(len(receivers))]
    began = time.perf_counter()
    for (_, token), count in zip(receivers, per_user, strict=True):
        await pool.open(asgi_url, token, count)
    connect_seconds = time.perf_counter() - began
    await asyncio.sleep(0.5)  # let every socket join its groups
    sender.fresh()
    answer_to_event, start_to_event, post_ms, failures, lost, early = [], [], [], 0, 0, 0
    try:
        for index in range(WARM_UP + messages):
            receiver_id, _ = receivers[index % len(receivers)]
            body = {"receiver_id": receiver_id, "body": f"Benchmark message {index}"}
            status, data, elapsed_ms = await asyncio.to_thread(sender.call, "POST", "/api/v1/messages", body)
            answered = sender.answered_at
            if status != 201:
                failures += 1
                continue
            arrived = await pool.arrival_of(json.loads(data)["id"])
            if index < WARM_UP:
                continue
            post_ms.append(elapsed_ms)
            if arrived is None:
                lost += 1
                continue
            early += arrived < answered
            answer_to_event.append(max(0.0, (arrived - answered) * 1000))
            start_to_event.append((arrived - answered) * 1000 + elapsed_ms)
        bursts = None
        if burst_redis_url:
            bursts = await websocket_bursts.measure(
                redis_url=burst_redis_url,
                recorder=pool.bursts,
                tenant_id=tenant_id,
                users=[(user_id, count) for (user_id, _), count in zip(receivers, per_user, strict=True)],
            )
    finally:
        await pool.close()
    return {
        "sockets": len(pool.sockets),
        "socket_users": len(receivers),
        "connect_seconds": round(connect_seconds, 2),
        "sockets_closed_early": pool.closed_early,
        "messages": len(post_ms),
        "post_failures": failures,
        "events_lost": lost,
        "before_answer": early,
        "answer_to_event": latency_figures(answer_to_event, lost),
        "post_start_to_event": latency_figures(start_to_event, lost),
        "post_messages": latency_figures(post_ms, failures),
        "url": url,
        "asgi_url": asgi_url,
        "bursts": bursts,
    }


def inbox_latency(client: Client, *, requests: int) -> dict:
    timings, failures = [], 0
    client.fresh()
    for index in range(WARM_UP + requests):
        status, _, elapsed_ms = client.call("GET", "/api/v1/messages?box=inbox&limit=50")
        if status != 200:
            failures += 1
        elif index >= WARM_UP:
            timings.append(elapsed_ms)
    return latency_figures(timings, failures)


def measure(
    url: str,
    *,
    asgi_url: str,
    token: str = "",
    username: str = DEMO_LOGIN["username"],
    password: str = DEMO_LOGIN["password"],
    sockets: int = 200,
    messages: int = 300,
    list_requests: int = 200,
    burst_redis_url: str | None = None,
) -> dict:
    """The figures, as a dict (see markdown_rows). HTTP goes to the web URL, sockets to the ASGI
    URL (ws://...; http:// is accepted and turned into ws://)."""
    asgi_url = asgi_url.replace("http://", "ws://", 1).replace("https://", "wss://", 1).rstrip("/")
    sender = Client(url, token)
    receiver_clients: list[Client] = []
    try:
        if not token:
            sender.login(username, password)
        users = math.ceil(sockets / SOCKETS_PER_USER)
        receivers = []
        for number in range(1, users + 1):
            client = Client(url)
            receiver_clients.append(client)
            receivers.append((None, client.login(STAFF_USERNAME.format(number), STAFF_PASSWORD)))
        profiles = [me(client) for client in receiver_clients]
        receivers = [(profile["id"], token) for profile, (_, token) in zip(profiles, receivers, strict=True)]
        figures = asyncio.run(
            _measure_events(
                url=url,
                asgi_url=asgi_url,
                sender=sender,
                receivers=receivers,
                sockets=sockets,
                messages=messages,
                burst_redis_url=burst_redis_url,
                tenant_id=profiles[0]["clinic"]["id"],
            )
        )
        figures["inbox"] = inbox_latency(receiver_clients[0], requests=list_requests)
        for client in receiver_clients:
            client.fresh()
            client.call("POST", "/api/v1/messages/read-all")
    finally:
        sender.close()
        for client in receiver_clients:
            client.close()
    return figures


def markdown_rows(figures: dict) -> list[str]:
    rows = [
        ("WebSocket message (POST answered → event received)", figures["answer_to_event"]),
        ("WebSocket message (POST sent → event received)", figures["post_start_to_event"]),
        ("POST /messages", figures["post_messages"]),
        ("GET /messages?box=inbox&limit=50", figures["inbox"]),
    ]
    return [
        f"Messaging with {figures['sockets']} open websockets ({figures['socket_users']} users x 5), "
        f"{figures['messages']} messages one at a time, each to the next user; "
        f"{figures['events_lost']} events lost, {figures['post_failures']} failed POSTs, "
        f"{figures['before_answer']} events arrived before the POST's answer (counted as 0 ms):",
        "",
        "| What | Samples | Failures | p50 ms | p95 ms | p99 ms | max ms |",
        "|---|---|---|---|---|---|---|",
        *(
            f"| {name} | {row['requests']} | {row['failures']} | {_n(row['p50_ms'])} | {_n(row['p95_ms'])} | "
            f"{_n(row['p99_ms'])} | {_n(row['max_ms'])} |"
            for name, row in rows
        ),
        *(["", *websocket_bursts.markdown_rows(figures["bursts"])] if figures.get("bursts") else []),
    ]


def _n(value) -> str:
    return "—" if value is None else f"{value:,.2f}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="WebSocket message latency (POST answered -> event) with many open sockets, and the "
        "messaging API's latency, against a running server."
    )
    add_server_arguments(parser, whose="the sender's")
    parser.add_argument(
        "--asgi-url", required=True, help="the ASGI base URL for /ws/, e.g. ws://127.0.0.1:8001"
    )
    parser.add_argument(
        "--sockets",
        type=int,
        default=200,
        help="open sockets, 5 per user (needs sockets/5 demo.staffNN users)",
    )
    parser.add_argument("--messages", type=int, default=300, help="messages sent (latency samples)")
    parser.add_argument("--list-requests", type=int, default=200)
    parser.add_argument(
        "--burst-redis-url",
        default=None,
        help="the server's channel-layer Redis: also publish bursts there (bench/websocket_bursts.py)",
    )
    args = parser.parse_args(argv)
    figures = measure(
        args.url,
        asgi_url=args.asgi_url,
        token=args.token,
        username=args.username,
        password=args.password,
        sockets=args.sockets,
        burst_redis_url=args.burst_redis_url,
        messages=args.messages,
        list_requests=args.list_requests,
    )
    print_figures(figures, markdown_rows, as_json=args.json)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
