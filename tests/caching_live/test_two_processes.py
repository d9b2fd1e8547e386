"""The cache through real server processes (PostgreSQL and Redis, as CI runs the suite).

Two gunicorn processes share the database and Redis, each with its own in-process cache level:
- a write answered by one is seen by the very next read on the other (staleness bound: zero);
- 200 concurrent dashboard requests on a cold cache, spread over both, compute the figures once,
  and `manage.py cache_stats` shows it from the counts both processes shared;
- a process whose Redis is killed mid-run answers every request 2xx and fresh, warns once, and
  caches again by itself when Redis is back.
"""

import logging
import threading
from functools import partial

import pytest
from django.conf import settings
from django.core.management import call_command
from django.db import connection

from keneyapp.accounts.tokens import issue_access_token
from keneyapp.core.caching import cache_service
from keneyapp.core.caching.service import STATS_HASH
from tests.concurrency import run_at_once
from tests.factories import PatientFactory
from tests.live_servers import PrivateRedis, server_env, start_servers

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(not settings.REDIS_URL, reason="needs Redis (REDIS_URL)"),
]

PATIENTS = "/api/v1/patients"
DASHBOARD = "/api/v1/dashboard/stats"


@pytest.fixture
def postgres_only():
    if connection.vendor != "postgresql":
        pytest.skip("server processes need PostgreSQL (the SQLite test database lives in memory)")


@pytest.fixture
def token(doctor):
    return issue_access_token(user=doctor)


@pytest.fixture
def two_servers(postgres_only, clinic, tmp_path):
    servers = start_servers(["a", "b"], tmp_path, server_env())
    yield servers
    for server in servers:
        server.stop()


def test_a_write_answered_by_one_process_is_read_fresh_by_the_other(two_servers, token, clinic):
    first, second = two_servers
    patient = PatientFactory(tenant=clinic, first_name="Awa")
    detail = f"{PATIENTS}/{patient.pk}"
    for round_number in range(10):
        writer, reader = (first, second) if round_number % 2 == 0 else (second, first)
        # The reader has the detail and the first page in its own in-process level...
        for _ in range(2):
            assert reader.request("GET", detail, token=token).status == 200
            assert reader.request("GET", PATIENTS, token=token).status == 200
        name = f"Name{round_number}"
        answer = writer.request("PATCH", detail, token=token, body={"first_name": name})
        assert answer.status == 200, answer.body
        # ...and still shows the write on its very next read.
        assert reader.request("GET", detail, token=token).json()["first_name"] == name
        assert [
            item["first_name"] for item in reader.request("GET", PATIENTS, token=token).json()["items"]
        ] == [name]

    created = first.request(
        "POST",
        PATIENTS,
        token=token,
        body={"first_name": "Khady", "last_name": "Ndiaye", "date_of_birth": "1985-01-02", "sex": "female"},
    )
    assert created.status == 201, created.body
    assert second.request("GET", PATIENTS, token=token).json()["total"] == 2
    assert first.request("DELETE", detail, token=token).status == 204
    assert second.request("GET", detail, token=token).status == 404
    assert second.request("GET", PATIENTS, token=token).json()["total"] == 1


def test_200_concurrent_requests_on_a_cold_cache_compute_the_dashboard_once(
    two_servers, token, clinic, capsys
):
    PatientFactory.create_batch(3, tenant=clinic)
    # Start from empty shared counts: this process's own pending counts (earlier tests) go in first.
    cache_service.flush_stats()
    cache_service.l2.client.get_client(write=True).delete(cache_service.l2.make_key(STATS_HASH))
    requests = 200

    def ask(index: int):
        server = two_servers[index % 2]
        try:
            return server.request("GET", DASHBOARD, token=token, timeout=30)
        except Exception as exc:  # kept as the answer: the assertion below lists every failure
            return exc

    answers: list = run_at_once([partial(ask, i) for i in range(requests)], timeout=90, barrier_timeout=30)

    assert all(getattr(answer, "status", None) == 200 for answer in answers), {
        str(answer) for answer in answers if getattr(answer, "status", None) != 200
    }
    bodies = {answer.body for answer in answers}
    assert len(bodies) == 1, "every request got the figures of the one computation"
    assert answers[0].json()["patients"]["total"] == 3

    call_command("cache_stats")
    line = next(line for line in capsys.readouterr().out.splitlines() if line.startswith("dashboard"))
    l1_hits, _, l2_hits, _, computed = (int(column) for column in line.split()[1:6])
    assert computed == 1, line
    # The other 199 were served by a cache level (the waiters' polls count as misses too).
    assert l1_hits + l2_hits >= requests - 1, line


@pytest.fixture
def private_redis(tmp_path):
    try:
        redis = PrivateRedis(tmp_path)
    except FileNotFoundError:
        pytest.skip("needs the redis-server binary")
    redis.start()
    yield redis
    redis.stop()


def test_redis_killed_mid_run_every_request_answers_fresh_and_caching_resumes(
    postgres_only, private_redis, token, clinic, tmp_path
):
    (server,) = start_servers(["solo"], tmp_path, server_env(REDIS_URL=private_redis.url))
    try:
        patient = PatientFactory(tenant=clinic, first_name="Awa")
        detail = f"{PATIENTS}/{patient.pk}"
        for _ in range(2):
            assert server.request("GET", detail, token=token).status == 200
            assert server.request("GET", DASHBOARD, token=token).status == 200
        assert private_redis.key_count() > 0, "the server caches in Redis while it runs"

        private_redis.stop()
        statuses = []
        for number in range(20):
            name = f"Down{number}"
            statuses.append(server.request("PATCH", detail, token=token, body={"first_name": name}).status)
            answer = server.request("GET", detail, token=token)
            statuses.append(answer.status)
            assert answer.json()["first_name"] == name, "a read after a write is fresh without Redis"
            statuses.append(server.request("GET", PATIENTS, token=token).status)
            statuses.append(server.request("GET", DASHBOARD, token=token).status)
        assert set(statuses) == {200}
        assert server.log().count("shared cache unreachable") == 1, server.log()

        private_redis.start()  # empty: the outage lost every entry and version
        resumed = False
        for _ in range(50):  # the service retries Redis every 2 s; give it up to ~5 s
            assert server.request("GET", detail, token=token).json()["first_name"] == "Down19"
            if private_redis.key_count() > 0:
                resumed = True
                break
            threading.Event().wait(0.1)
        assert resumed, server.log()
        assert "caching resumed" in server.log()
        assert server.request("GET", PATIENTS, token=token).json()["items"][0]["first_name"] == "Down19"
    finally:
        server.stop()
        logging.getLogger(__name__).debug("server log:\n%s", server.log_path.read_text(errors="replace"))
