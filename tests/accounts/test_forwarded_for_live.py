"""The per-address login throttle trusts X-Forwarded-For only as far as NUM_PROXIES says, under
uvicorn (make run, the ASGI process of deploy/) as under gunicorn: a client that makes up a new
X-Forwarded-For for every attempt is still counted at its own address.

Real server processes started with the flags make run and deploy/start.sh use (tests/live_servers.py).
"""

import re
from pathlib import Path

import pytest

from tests.live_servers import server_env, start_servers

ROOT = Path(__file__).resolve().parent.parent.parent
pytestmark = [pytest.mark.live_server_process, pytest.mark.postgres]


@pytest.fixture
def servers(transactional_db, tmp_path):
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("server processes share the test database: needs PostgreSQL")
    env = server_env(
        NUM_PROXIES="0", LOGIN_MAX_FAILURES_PER_ADDRESS="4", LOGIN_MAX_FAILURES_PER_USERNAME="100"
    )
    started = [*start_servers(["asgi"], tmp_path, env, kind="asgi"), *start_servers(["wsgi"], tmp_path, env)]
    yield started
    for server in started:
        server.stop()


def test_made_up_forwarded_addresses_do_not_escape_the_address_lockout(servers):
    from django.core.cache import cache

    for server in servers:
        cache.clear()  # the servers share the counters (and the test's cache): each starts afresh
        statuses = [
            server.request(
                "POST",
                "/api/v1/auth/login",
                body={"username": f"nobody-{server.name}-{attempt}", "password": "wrong"},
                headers={"X-Forwarded-For": f"203.0.113.{attempt}"},
            ).status
            for attempt in range(6)
        ]
        assert statuses == [401, 401, 401, 401, 429, 429], (server.name, statuses)


def test_make_run_and_deploy_start_uvicorn_without_proxy_headers_or_access_log():
    makefile = (ROOT / "Makefile").read_text()
    start = (ROOT / "deploy" / "start.sh").read_text()
    flags = re.search(r"^UVICORN_FLAGS := (.*)$", makefile, re.MULTILINE)[1].split()
    assert {"--no-access-log", "--no-proxy-headers"} <= set(flags)
    assert "$(UVICORN_FLAGS)" in makefile
    uvicorn_command = start[start.index('"${BIN}uvicorn"') :].split("&\n")[0]
    assert "--no-access-log" in uvicorn_command and "--no-proxy-headers" in uvicorn_command
    gunicorn_conf = (ROOT / "deploy" / "gunicorn.conf.py").read_text()
    assert 'accesslog = os.environ.get("WEB_ACCESS_LOG") or None' in gunicorn_conf
