"""Redis unreachable at process start and mid-run: every door still answers, login included.

Real processes, as production runs them: gunicorn (the API and the admin) and uvicorn (the
websockets), whose REDIS_URL (cache, API user cache, login throttle), CHANNELS_REDIS_URL (live
events, websocket slots) and CELERY_BROKER_URL (tasks are queued, not run eagerly) all point at a
redis-server of the test's own (tests/live_servers.py::PrivateRedis), which the test stops, pauses
and starts again. At each step every API route and method (tests/faults/redis_doors.py, from the
URL resolver), the API's login, refresh and logout, the login throttle, the admin's login,
changelists and logout, /healthz, /readyz and the websocket handshake are driven, and every answer
must be neither a 5xx nor later than 5 s, and be the status a working Redis gives (readiness
excepted: it says the cache is down).

1. Redis down before the processes start: they start and serve; when Redis comes up they use it
   without a restart.
2. Redis killed while the processes run warm caches and hold a websocket, then started again
   (empty): the socket is closed with 1013, the doors answer, and after the restart nothing a
   process cached before the outage is served. Then Redis paused (SIGSTOP: connections hang, as a
   network partition) and resumed with its old entries: the doors answer within the bound, and a
   write made during the pause is seen fresh once Redis is back.
"""

from __future__ import annotations

import asyncio
import json
import re
import threading
import time

import pytest
from django.conf import settings
from django.db import connection
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from tests.factories import TenantFactory
from tests.live_servers import PrivateRedis, server_env, start_servers
from tests.test_tenant_isolation import api_routes, methods_of

from .redis_doors import ANSWER_WITHIN_SECONDS, Doors, problems, websocket_handshake

pytestmark = [pytest.mark.live_server_process, pytest.mark.postgres]

LOGIN_FAILURES = 3
# A websocket refused because live events are unavailable: 1013 "Try Again Later" (RFC 6455).
CLOSE_TRY_AGAIN_LATER = 1013
UNAVAILABLE_REASON = "Live events unavailable"


@pytest.fixture
def doors(transactional_db):
    if connection.vendor != "postgresql":
        pytest.skip("server processes share the test database: needs PostgreSQL")
    return Doors(TenantFactory(slug="redis-outage"))


@pytest.fixture
def redis(doors, tmp_path):
    try:
        server = PrivateRedis(tmp_path)
    except FileNotFoundError:
        pytest.skip("needs the redis-server binary")
    yield server
    server.resume()
    server.stop()


@pytest.fixture
def servers(redis, tmp_path):
    """Started lazily by the test (`servers()`), so it decides whether Redis runs first."""
    started = []

    def start():
        env = server_env(
            REDIS_URL=redis.url,
            CHANNELS_REDIS_URL=redis.url,
            CELERY_BROKER_URL=redis.url,
            CELERY_TASK_ALWAYS_EAGER="0",
            LOGIN_MAX_FAILURES_PER_USERNAME=str(LOGIN_FAILURES),
            LOGIN_MAX_FAILURES_PER_ADDRESS="1000",
            # The admin's cookies over plain HTTP (the test speaks HTTP to the loopback).
            SESSION_COOKIE_SECURE="0",
            CSRF_COOKIE_SECURE="0",
            LOG_LEVEL="WARNING",
            DJANGO_SETTINGS_MODULE="tests.faults.server_settings",
        )
        documents = settings.STORAGES["documents"]
        if documents["BACKEND"].endswith("FileSystemStorage"):  # the test's documents folder
            env["DOCUMENTS_ROOT"] = documents["OPTIONS"]["location"]
        web = start_servers(["gunicorn"], tmp_path, env)
        try:
            sockets = start_servers(["uvicorn"], tmp_path, {**env, "DB_POOL_SIZE": "0"}, kind="asgi")
        except Exception:
            web[0].stop()
            raise
        started.extend(web + sockets)
        return web[0], sockets[0]

    yield start
    for server in started:
        server.stop()


def every_door(doors: Doors, web, ws, phase: int, *, ready: tuple[int, ...]):
    """Drive every door once; returns the answers (all checked by the caller)."""
    answers = doors.run_health(web, ready=ready) + doors.run_health(ws, ready=ready)
    answers += doors.run_api_login(web)
    answers += doors.run_api(web, phase)
    answers += doors.run_admin(web)
    answers += doors.run_login_throttle(web, LOGIN_FAILURES)
    return answers


def assert_every_route_driven(doors: Doors):
    every = {(name, method) for name, (_, entry) in api_routes().items() for method in methods_of(entry)}
    assert every <= doors.driven, sorted(every - doors.driven)


def assert_readiness_says_the_cache_is_down(web):
    answer = web.request("GET", "/readyz")
    assert answer.status == 200, answer.body  # degraded, not out of rotation (docs/security.md)
    assert answer.json() == {"status": "degraded", "checks": {"database": "ok", "cache": "unavailable"}}


def assert_refused_as_unavailable(outcome):
    assert outcome.seconds < ANSWER_WITHIN_SECONDS, outcome
    assert (outcome.kind, outcome.code, outcome.reason) == (
        "closed",
        CLOSE_TRY_AGAIN_LATER,
        UNAVAILABLE_REASON,
    ), outcome


def test_redis_down_at_process_start_every_door_answers(doors, redis, servers):
    web, ws = servers()  # Redis was never started

    answers = every_door(doors, web, ws, phase=1, ready=(200,))
    assert not problems(answers), "\n".join(problems(answers))
    assert_every_route_driven(doors)
    assert_readiness_says_the_cache_is_down(web)
    assert_refused_as_unavailable(websocket_handshake(ws, doors.token(doors.nurse)))
    # The work the requests queued is logged as not queued (it is redone later, not here).
    assert "could not queue task documents.generate_report" in web.log()
    assert "could not queue task messaging.send_urgent_notification" in web.log()
    assert "Exception in ASGI application" not in ws.log(), ws.log()

    # Redis comes up after the processes: they use it without a restart.
    redis.start()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and redis.key_count() == 0:
        web.request("GET", "/api/v1/dashboard/stats", token=doors.token())
        time.sleep(0.2)
    assert redis.key_count() > 0, web.log()
    assert web.request("GET", "/readyz").json()["status"] == "ok"
    assert websocket_handshake(ws, doors.token(doors.nurse)).kind == "open"


class HeldSocket:
    """A websocket held open in a thread of its own, recording how and when it was closed."""

    def __init__(self, url: str, token: str):
        self.opened, self.ended = threading.Event(), threading.Event()
        self.code: int | None = None
        self.reason = ""
        self.frames: list[dict] = []
        self.ended_at = 0.0
        self.thread = threading.Thread(target=lambda: asyncio.run(self._hold(url, token)), daemon=True)
        self.thread.start()
        assert self.opened.wait(10), "the socket did not open"

    async def _hold(self, url: str, token: str):
        try:
            async with connect(url, subprotocols=["bearer", token]) as socket:
                self.opened.set()
                try:
                    async for frame in socket:
                        self.frames.append(json.loads(frame))
                except ConnectionClosed:
                    pass
                self.code, self.reason = socket.close_code, socket.close_reason or ""
        finally:
            self.ended_at = time.monotonic()
            self.ended.set()


def test_redis_lost_mid_run_every_door_answers_and_nothing_stale_is_served_after(doors, redis, servers):
    redis.start()
    web, ws = servers()
    token = doors.token()
    # Warm every cache: each door twice with Redis up (and the expectations hold with Redis up).
    for phase in (2, 3):
        answers = every_door(doors, web, ws, phase, ready=(200,))
        assert not problems(answers), "\n".join(problems(answers))
    assert_every_route_driven(doors)
    assert redis.key_count() > 0
    watched = doors.run_api_rows(web)  # a patient and a page cached in both levels
    held = HeldSocket(f"{ws.ws_url}/ws/notifications/", doors.token(doors.nurse))

    # --- Redis killed -------------------------------------------------------------------------
    redis.stop()
    stopped_at = time.monotonic()
    assert held.ended.wait(10), "an open socket outlived its channel layer unnoticed"
    assert (held.code, held.reason) == (CLOSE_TRY_AGAIN_LATER, UNAVAILABLE_REASON)
    assert held.ended_at - stopped_at < ANSWER_WITHIN_SECONDS
    answers = every_door(doors, web, ws, phase=4, ready=(200,))
    assert not problems(answers), "\n".join(problems(answers))
    assert_readiness_says_the_cache_is_down(web)
    assert_refused_as_unavailable(websocket_handshake(ws, doors.token(doors.nurse)))
    during = doors.write_rows(web, watched, "Killed")

    # --- Redis back, empty --------------------------------------------------------------------
    redis.start()
    doors.assert_rows_fresh(web, watched, during)
    answers = every_door(doors, web, ws, phase=5, ready=(200,))
    assert not problems(answers), "\n".join(problems(answers))
    assert web.request("GET", "/readyz").json()["status"] == "ok"
    assert websocket_handshake(ws, doors.token(doors.nurse)).kind == "open"
    doors.assert_rows_fresh(web, watched, during)

    # --- Redis paused (connections hang: a partition), then resumed with its old entries -----
    doors.read_rows(web, watched)  # cached again, in Redis and in the process
    pair = doors.login(web)
    assert web.request("GET", "/api/v1/auth/me", token=pair["access_token"]).status == 200  # cached
    redis.pause()
    answers = every_door(doors, web, ws, phase=6, ready=(200,))
    assert not problems(answers), "\n".join(problems(answers))
    assert_refused_as_unavailable(websocket_handshake(ws, doors.token(doors.nurse)))
    during = doors.write_rows(web, watched, "Paused")
    logout = web.request(
        "POST",
        "/api/v1/auth/logout",
        token=pair["access_token"],
        body={"refresh_token": pair["refresh_token"]},
    )
    assert logout.status == 204, logout.body
    redis.resume()
    time.sleep(2.5)  # past the cache service's retry delay: the next read goes to Redis again
    # Redis still holds the user as cached before the logout, and the rows as before the write:
    # the first request after the outage is refused, and the rows read fresh.
    revoked = web.request("GET", "/api/v1/auth/me", token=pair["access_token"])
    assert revoked.status == 401, revoked.body
    doors.assert_rows_fresh(web, watched, during)
    assert re.search(r"caching resumed \([1-9][0-9]* lost bumps replayed\)", web.log())
    assert web.request("GET", "/api/v1/auth/me", token=token).status == 200
    assert "Exception in ASGI application" not in ws.log(), ws.log()
