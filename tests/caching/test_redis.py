"""The cache service on real Redis (run with REDIS_URL set, as CI does)."""

import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from django.conf import settings
from django.core.cache import caches
from django.core.management import call_command

from keneyapp.core.caching import CacheService, make_key
from keneyapp.core.caching.service import L2_PREFIX

pytestmark = pytest.mark.skipif(not settings.REDIS_URL, reason="needs Redis (REDIS_URL)")

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def prefix():
    return f"t{uuid.uuid4().hex[:12]}"


@pytest.fixture
def redis_client():
    return caches["default"].client.get_client(write=True)


def test_get_many_across_two_services(prefix):
    writer, reader = CacheService(), CacheService()
    writer.set_many({f"{prefix}:1": {"id": 1}, f"{prefix}:2": [2]}, ttl=60)
    assert reader.get_many([f"{prefix}:1", f"{prefix}:2", f"{prefix}:3"]) == {
        f"{prefix}:1": {"id": 1},
        f"{prefix}:2": [2],
    }


def test_delete_pattern_scans_and_deletes_only_matching_keys(prefix, redis_client, monkeypatch):
    def no_keys(*args, **kwargs):
        raise AssertionError("KEYS must never be used")

    monkeypatch.setattr(redis_client, "keys", no_keys)
    service = CacheService()
    for i in range(1200):  # more than one SCAN batch
        service.set(make_key(f"{prefix}:tenant:1:patient", i), i, ttl=60)
    service.set(make_key(f"{prefix}:tenant:12:patient", 1), "keep", ttl=60)
    service.set(make_key(f"{prefix}:tenant:2:patient", 1), "keep", ttl=60)

    assert service.delete_pattern(f"{prefix}:tenant:1:*") == 1200
    fresh = CacheService()
    assert fresh.get(make_key(f"{prefix}:tenant:1:patient", 5)) is None
    assert fresh.get(make_key(f"{prefix}:tenant:12:patient", 1)) == "keep"
    assert fresh.get(make_key(f"{prefix}:tenant:2:patient", 1)) == "keep"


def test_raw_garbage_in_redis_is_a_miss_and_is_replaced(prefix, redis_client):
    service = CacheService()
    key = f"{prefix}:detail:1"
    full_key = caches["default"].make_key(L2_PREFIX + key)
    redis_client.set(full_key, b"\x80\x04not a pickle at all")
    assert service.get(key) is None
    assert redis_client.get(full_key) is None
    service.set(key, {"ok": True}, ttl=60)
    assert CacheService().get(key) == {"ok": True}


def test_compressed_values_round_trip_through_redis(prefix):
    large = {"rows": [{"id": i, "name": "x" * 20} for i in range(500)]}
    CacheService(compress_min_bytes=1024).set(f"{prefix}:big", large, ttl=60)
    assert CacheService().get(f"{prefix}:big") == large


def test_versions_and_bumps_on_redis(prefix):
    worker_a, worker_b = CacheService(), CacheService()
    namespaces = [f"{prefix}:tenant:1:patients"]
    worker_a.set(worker_a.versioned_key("list", 1, namespaces=namespaces), "old", ttl=60)
    assert worker_a.get(worker_a.versioned_key("list", 1, namespaces=namespaces)) == "old"
    assert worker_b.bump(namespaces[0]) is True
    assert worker_a.get(worker_a.versioned_key("list", 1, namespaces=namespaces)) is None


def run_in_another_process(code):
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "keneyapp.settings", "REDIS_URL": settings.REDIS_URL}
    script = "import django; django.setup()\nfrom keneyapp.core.caching import cache_service\n" + code
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def test_a_bump_in_another_os_process_is_seen_by_the_next_read(prefix):
    namespace = f"{prefix}:tenant:3:patient:9"
    service = CacheService()
    service.set(service.versioned_key("patient", 9, namespaces=[namespace]), {"v": 1}, ttl=300)
    assert service.get(service.versioned_key("patient", 9, namespaces=[namespace])) == {"v": 1}  # in L1

    run_in_another_process(
        f"assert cache_service.bump({namespace!r})\n"
        f"key = cache_service.versioned_key('patient', 9, namespaces=[{namespace!r}])\n"
        "cache_service.set(key, {'v': 2}, ttl=300)\n"
    )

    assert service.get(service.versioned_key("patient", 9, namespaces=[namespace])) == {"v": 2}


def test_a_value_cached_by_this_process_is_read_by_another(prefix):
    CacheService().set(f"{prefix}:shared", {"from": "parent"}, ttl=60)
    out = run_in_another_process(f"print(cache_service.get({prefix + ':shared'!r})['from'])")
    assert out == "parent"


def test_stats_are_shared_through_redis_for_cache_stats(prefix, capsys):
    from keneyapp.core.caching import cache_service

    cache_service.get(f"{prefix}:detail:1")
    run_in_another_process(f"cache_service.get({prefix + ':detail:2'!r}); cache_service.flush_stats()")
    call_command("cache_stats")
    out = capsys.readouterr().out
    line = next(line for line in out.splitlines() if line.startswith(f"{prefix}:detail:*"))
    assert line.split()[1:5] == ["0", "2", "0", "2"]
