"""The two-level cache service on a LocMem shared level (each CacheService stands for a process)."""

import logging
import time
import zlib

import pytest
import redis.exceptions
from django.core.management import call_command

from keneyapp.core.caching import make_key
from keneyapp.core.caching.service import L2_PREFIX, RETRY_AFTER_SECONDS, WARNING_INTERVAL_SECONDS


def l2_key(key):
    return L2_PREFIX + key


def test_set_then_get_round_trips_json_values(service):
    value = {"id": 1, "name": "Awa", "tags": ["a", "b"], "score": 1.5, "none": None}
    assert service.set("patient:detail:1", value, ttl=60) is True
    assert service.get("patient:detail:1") == value
    assert service.get("patient:detail:2") is None
    assert service.get("patient:detail:2", default="x") == "x"


def test_a_returned_value_is_a_copy(service):
    service.set("k", {"items": [1]}, ttl=60)
    service.get("k")["items"].append(2)
    assert service.get("k") == {"items": [1]}


def test_a_cached_null_is_a_hit(service):
    service.set("k", None, ttl=60)
    assert service.get_many(["k"]) == {"k": None}


def test_l2_serves_a_process_with_an_empty_l1(make_service):
    writer, reader = make_service(), make_service()
    writer.set("patient:detail:1", {"id": 1}, ttl=60)
    assert reader.get("patient:detail:1") == {"id": 1}
    assert reader.stats()["patient:detail:*"]["l2"] == {"hits": 1, "misses": 0}
    reader.get("patient:detail:1")
    assert reader.stats()["patient:detail:*"]["l1"] == {"hits": 1, "misses": 1}


def test_l1_entries_expire_with_the_ttl(service, l2, clock):
    service.set("k", 1, ttl=10)
    l2.delete(l2_key("k"))  # only L1 holds it now
    clock.advance(9)
    assert service.get("k") == 1
    clock.advance(2)
    assert service.get("k") is None


def test_get_many_and_set_many(make_service):
    writer, reader = make_service(), make_service()
    assert writer.set_many({"a:1": 1, "a:2": [2], "a:3": {"x": 3}}, ttl=60) == []
    reader.set("a:4", 4, ttl=60)  # in the reader's L1
    expected = {"a:1": 1, "a:2": [2], "a:3": {"x": 3}, "a:4": 4}
    assert reader.get_many(["a:1", "a:2", "a:3", "a:4", "a:5"]) == expected


def test_set_many_reports_values_it_could_not_cache(make_service):
    service = make_service(max_value_bytes=100)
    assert service.set_many({"a:1": 1, "a:2": "x" * 200, "a:3": object()}, ttl=60) == ["a:2", "a:3"]
    assert service.get_many(["a:1", "a:2", "a:3"]) == {"a:1": 1}


def test_delete_removes_from_both_levels(make_service):
    one, two = make_service(), make_service()
    one.set("k", 1, ttl=60)
    one.delete("k")
    assert one.get("k") is None
    assert two.get("k") is None


def test_cached_decorator_computes_once_then_serves(make_service):
    calls = []
    service = make_service()

    @service.cached(ttl=300, prefix="patient")
    def expensive(patient_id, *, fields=None):
        calls.append(patient_id)
        return {"id": patient_id, "fields": fields}

    assert expensive(1) == {"id": 1, "fields": None}
    assert expensive(1) == {"id": 1, "fields": None}
    assert expensive(1, fields="name") == {"id": 1, "fields": "name"}
    assert expensive(2) == {"id": 2, "fields": None}
    assert calls == [1, 1, 2]


def test_cached_decorator_with_namespaces_recomputes_after_a_bump(make_service):
    calls = []
    worker_a, worker_b = make_service(), make_service()

    def patient_list(tenant_id):
        calls.append(tenant_id)
        return [len(calls)]

    cached_list = worker_a.cached(ttl=300, prefix="patients", namespaces=lambda t: [f"tenant:{t}:patients"])
    listed = cached_list(patient_list)
    assert listed(1) == [1]
    assert listed(1) == [1]
    worker_b.bump("tenant:1:patients")
    assert listed(1) == [2]
    assert listed(2) == [3]
    assert calls == [1, 1, 2]


def test_a_bump_makes_old_entries_miss_in_l1_and_l2(make_service):
    service = make_service()
    namespaces = ["tenant:12:patients"]
    old_key = service.versioned_key("patients:list", "page", 1, namespaces=namespaces)
    service.set(old_key, ["old"], ttl=300)
    assert service.get(service.versioned_key("patients:list", "page", 1, namespaces=namespaces)) == ["old"]

    assert service.bump("tenant:12:patients") is True

    new_key = service.versioned_key("patients:list", "page", 1, namespaces=namespaces)
    assert new_key != old_key
    assert service.get(new_key) is None  # neither this process's L1 nor L2 has it
    assert make_service().get(new_key) is None


def test_a_bump_leaves_other_namespaces_alone(service):
    key_12 = service.versioned_key("patients:list", namespaces=["tenant:12:patients"])
    key_13 = service.versioned_key("patients:list", namespaces=["tenant:13:patients"])
    service.set(key_12, 12, ttl=300)
    service.set(key_13, 13, ttl=300)
    service.bump("tenant:12:patients")
    assert service.get(service.versioned_key("patients:list", namespaces=["tenant:13:patients"])) == 13


def test_a_key_on_several_namespaces_misses_when_any_is_bumped(service):
    namespaces = ["tenant:1:patient:5", "tenant:1:patients"]
    service.set(service.versioned_key("patient", 5, namespaces=namespaces), "v", ttl=300)
    service.bump("tenant:1:patients")
    assert service.get(service.versioned_key("patient", 5, namespaces=namespaces)) is None


def test_a_bump_by_another_process_is_seen_by_the_next_read(make_service):
    """Service A caches (in its L1 too), service B bumps, A's next read misses."""
    worker_a, worker_b = make_service(), make_service()
    namespaces = ["tenant:7:patient:3"]
    worker_a.set(worker_a.versioned_key("patient:detail", 3, namespaces=namespaces), {"v": 1}, ttl=300)
    assert worker_a.get(worker_a.versioned_key("patient:detail", 3, namespaces=namespaces)) == {"v": 1}

    worker_b.bump("tenant:7:patient:3")

    assert worker_a.get(worker_a.versioned_key("patient:detail", 3, namespaces=namespaces)) is None
    worker_b.set(worker_b.versioned_key("patient:detail", 3, namespaces=namespaces), {"v": 2}, ttl=300)
    assert worker_a.get(worker_a.versioned_key("patient:detail", 3, namespaces=namespaces)) == {"v": 2}


def test_an_evicted_version_counter_restarts_above_its_old_value(service, l2, clock):
    key = service.versioned_key("p", namespaces=["tenant:1:x"])
    service.set(key, "old", ttl=300)
    l2.delete("kc-v:tenant:1:x")  # e.g. evicted by Redis under memory pressure
    clock.advance(1)
    assert service.versioned_key("p", namespaces=["tenant:1:x"]) != key


def test_large_values_are_compressed_and_round_trip(make_service, l2):
    service = make_service(compress_min_bytes=1024)
    large = {"rows": [{"id": i, "name": "patient name"} for i in range(200)]}
    service.set("big", large, ttl=60)
    stored = l2.get(l2_key("big"))
    assert stored[3:4] == b"Z"
    assert len(stored) < len(str(large))
    assert make_service().get("big") == large


def test_values_below_the_threshold_are_stored_plain(make_service, l2):
    service = make_service(compress_min_bytes=1024)
    service.set("just-below", "x" * 1021, ttl=60)  # 1023 bytes of JSON with the quotes
    service.set("at", "x" * 1022, ttl=60)  # 1024 bytes
    assert l2.get(l2_key("just-below"))[3:4] == b"J"
    assert l2.get(l2_key("at"))[3:4] == b"Z"
    assert make_service().get("at") == "x" * 1022


@pytest.mark.parametrize(
    "stored",
    [
        b"garbage",
        {"a": "dict, not one of our envelopes"},
        b"KC\x01Z" + b"\x00" * 8 + b"not zlib",
        b"KC\x01J" + b"\x00" * 8 + b"{not json",
        b"KC\x01Z" + b"\x00" * 8 + zlib.compress(b"{not json"),
    ],
)
def test_a_corrupt_entry_is_a_miss_and_is_replaced(service, l2, stored):
    l2.set(l2_key("patient:detail:1"), stored, 60)
    assert service.get("patient:detail:1") is None
    assert l2.get(l2_key("patient:detail:1")) is None  # deleted, not left to fail again
    service.set("patient:detail:1", {"id": 1}, ttl=60)
    assert service.get("patient:detail:1") == {"id": 1}


def test_a_too_large_value_is_not_cached_and_not_an_error(make_service):
    service = make_service(max_value_bytes=1000)
    service.set("k", "small", ttl=60)
    assert service.set("k", "x" * 2000, ttl=60) is False
    assert service.get("k") is None  # the older value does not outlive the write
    assert make_service().get("k") is None


def test_the_default_max_value_is_one_mebibyte(make_service):
    service = make_service()
    assert service.max_value_bytes == 1024 * 1024
    assert service.set("k", "x" * (1024 * 1024), ttl=60) is False
    assert service.set("k", "x" * 1000, ttl=60) is True


def test_a_value_that_is_not_json_able_is_not_cached(service):
    assert service.set("k", {"when": object()}, ttl=60) is False
    assert service.get("k") is None


class FlakyCache:
    """A cache that raises like django-redis while `down` is set."""

    def __init__(self, inner):
        self.inner = inner
        self.down = False
        self.calls = 0

    def __getattr__(self, name):
        attribute = getattr(self.inner, name)
        if not callable(attribute):
            return attribute

        def call(*args, **kwargs):
            self.calls += 1
            if self.down:
                raise redis.exceptions.ConnectionError("Connection refused")
            return attribute(*args, **kwargs)

        return call


def warnings_in(caplog):
    return [r for r in caplog.records if r.levelno == logging.WARNING and "unreachable" in r.getMessage()]


def test_an_unreachable_l2_degrades_to_misses_warns_once_and_recovers(make_service, l2, clock, caplog):
    flaky = FlakyCache(l2)
    service, other = make_service(l2=flaky), make_service()
    other.set("k", "shared", ttl=600)
    flaky.down = True
    caplog.set_level(logging.WARNING, logger="keneyapp.core.caching")

    for _ in range(50):
        assert service.get("k") is None
        assert service.set("j", 1, ttl=60) is True
        assert service.versioned_key("p", namespaces=["tenant:1:x"]) is None
        service.delete("j")
    assert service.bump("tenant:1:x") is False
    assert len(warnings_in(caplog)) == 1
    assert flaky.calls == 1  # L2 is not retried on every call while it is down

    clock.advance(WARNING_INTERVAL_SECONDS)
    service.get("k")
    assert len(warnings_in(caplog)) == 2  # still down a minute later: one more warning

    flaky.down = False
    clock.advance(RETRY_AFTER_SECONDS)
    assert service.get("k") == "shared"  # resumed by itself
    assert service.versioned_key("p", namespaces=["tenant:1:x"]) is not None


def test_a_bump_lost_in_an_outage_is_made_when_the_cache_is_back(make_service, l2, clock):
    flaky = FlakyCache(l2)
    writer, reader = make_service(l2=flaky), make_service()
    key = reader.versioned_key("p", "detail", namespaces=["tenant:1:x"])
    reader.set(key, "before the write", ttl=600)  # kept in Redis, which survives the outage

    flaky.down = True
    assert writer.bump("tenant:1:x") is False  # the write's invalidation cannot reach Redis
    flaky.down = False
    clock.advance(RETRY_AFTER_SECONDS)

    writer.get("anything")  # the writer's first call after the outage makes the lost bump
    assert reader.get(reader.versioned_key("p", "detail", namespaces=["tenant:1:x"])) is None


def test_the_first_read_after_an_outage_sees_the_bump_the_outage_lost(make_service, l2, clock):
    # The writer's own first call after the outage is a versioned read of the namespace it could
    # not bump: the versions it reads must be those after the lost bump is made, or it serves the
    # entry Redis kept from before its own write (Redis survived: a partition, not a restart).
    flaky = FlakyCache(l2)
    service = make_service(l2=flaky)
    key = service.versioned_key("p", "detail", namespaces=["tenant:1:x"])
    service.set(key, "before the write", ttl=600)

    flaky.down = True
    assert service.bump("tenant:1:x") is False
    flaky.down = False
    clock.advance(RETRY_AFTER_SECONDS)

    assert service.get(service.versioned_key("p", "detail", namespaces=["tenant:1:x"])) is None


def test_l1_is_emptied_when_the_cache_is_back(make_service, l2, clock):
    flaky = FlakyCache(l2)
    service = make_service(l2=flaky)
    service.set("k", "kept in this process", ttl=600)
    flaky.down = True
    service.get("other")
    flaky.down = False
    clock.advance(RETRY_AFTER_SECONDS)
    service.get("other")
    assert len(service.l1) == 0


def test_an_l2_on_a_closed_port_gives_misses_and_one_warning(make_service, caplog):
    from django_redis.cache import RedisCache

    closed = RedisCache(
        "redis://127.0.0.1:6390/0",
        {"OPTIONS": {"SOCKET_CONNECT_TIMEOUT": 0.2, "SOCKET_TIMEOUT": 0.2}},
    )
    service = make_service(l2=closed, clock=time.time)
    caplog.set_level(logging.WARNING, logger="keneyapp.core.caching")
    for i in range(20):
        assert service.get(f"k:{i}") is None
        assert service.get_many([f"k:{i}", "x"]) == {}
        assert service.set(f"k:{i}", i, ttl=60) is True
        assert service.bump("tenant:1:patients") is False
    assert len(warnings_in(caplog)) == 1


def test_caller_supplied_parts_cannot_escape_their_prefix():
    key = make_key("tenant:2:patients", "1:*")
    assert key.startswith("tenant:2:patients:")
    assert "*" not in key
    assert key.count(":") == 3
    assert make_key("tenant:2:patients", "a:b") != make_key("tenant:2:patients:a", "b")
    with pytest.raises(ValueError):
        make_key("tenant:*:patients")
    with pytest.raises(ValueError):
        make_key("tenant:1:")


def test_a_raw_key_with_glob_characters_is_hashed(service, l2):
    service.set("tenant:1:patients:secret", "tenant 1", ttl=60)
    service.set("tenant:1:*", "attacker", ttl=60)
    service.set("tenant:1:patients secret", "x", ttl=60)
    assert service.get("tenant:1:*") == "attacker"
    assert l2.get(l2_key("tenant:1:*")) is None  # stored under a hash, not under the glob
    assert service.get("tenant:1:patients:secret") == "tenant 1"


def test_delete_pattern_of_one_tenant_leaves_the_other(make_service):
    service, other = make_service(), make_service()
    service.set(make_key("tenant:1:patients", "*"), 1, ttl=60)
    service.set(make_key("tenant:2:patients", "*"), 2, ttl=60)
    service.set(make_key("tenant:12:patients", "q"), 12, ttl=60)
    assert service.delete_pattern("tenant:1:*") == 1
    assert service.get(make_key("tenant:1:patients", "*")) is None
    assert other.get(make_key("tenant:2:patients", "*")) == 2
    assert other.get(make_key("tenant:12:patients", "q")) == 12


def test_stats_count_hits_and_misses_per_prefix_and_level(make_service):
    service = make_service()
    service.get("patient:detail:1")
    service.set("patient:detail:1", 1, ttl=60)
    service.get("patient:detail:1")
    assert service.stats()["patient:detail:*"] == {
        "l1": {"hits": 1, "misses": 1},
        "l2": {"hits": 0, "misses": 1},
        "source": {"computed": 0},
    }


def test_stats_count_each_computation_of_a_cached_function(make_service):
    service = make_service()

    @service.cached(ttl=60, prefix="stats-test:double")
    def double(number):
        return number * 2

    assert [double(1), double(1), double(2)] == [2, 2, 4]
    assert service.stats()["stats-test:double"]["source"] == {"computed": 2}


def test_cache_stats_command_prints_the_counts(capsys):
    from keneyapp.core.caching import cache_service

    cache_service.reset_stats()
    cache_service.get("stats-test:detail:1")
    call_command("cache_stats")
    out = capsys.readouterr().out
    assert "stats-test:detail:*" in out
    assert "L1 misses" in out
