"""With the shared cache unreachable, every patient read and write still answers 2xx, fresh.

Only the cache service's shared level is pointed at a closed port: the API's user cache
(keneyapp/accounts/api_users.py) uses Django's cache directly and is not part of this change.
"""

import pytest

from keneyapp.core.caching import cache_service
from tests.patients.helpers import LIST_URL, detail_url, valid_body


@pytest.fixture
def redis_down(monkeypatch):
    redis_cache = pytest.importorskip("django_redis.cache")
    unreachable = redis_cache.RedisCache(
        "redis://127.0.0.1:1/0",  # nothing listens on port 1
        {"OPTIONS": {"SOCKET_CONNECT_TIMEOUT": 0.2, "SOCKET_TIMEOUT": 0.2}},
    )
    monkeypatch.setattr(cache_service, "_l2_override", unreachable)
    cache_service._retry_at = 0.0
    yield
    cache_service._retry_at = 0.0
    cache_service._down = False


def test_reads_and_writes_answer_fresh_without_redis(redis_down, api, doctor, patient):
    client = api(doctor)
    assert client.get(detail_url(patient)).status_code == 200
    assert client.get(LIST_URL).status_code == 200

    assert client.patch(detail_url(patient), {"first_name": "Fatima"}, format="json").status_code == 200
    assert client.get(detail_url(patient)).json()["first_name"] == "Fatima"
    assert client.post(LIST_URL, valid_body(email="khady@example.org"), format="json").status_code == 201
    page = client.get(LIST_URL)
    assert page.status_code == 200
    assert page.json()["total"] == 3
    assert client.delete(detail_url(patient)).status_code == 204
    assert client.get(detail_url(patient)).status_code == 404
    assert client.get(LIST_URL).json()["total"] == 2
