from keneyapp.core.caching.lru import ENTRY_OVERHEAD_BYTES, LRUCache


def make_lru(clock, **bounds):
    bounds.setdefault("max_entries", 100)
    bounds.setdefault("max_bytes", 1_000_000)
    return LRUCache(clock=clock, **bounds)


def test_least_recently_used_entry_is_evicted_when_entries_are_full(clock):
    lru = make_lru(clock, max_entries=2)
    lru.set("a", b"1", 60)
    lru.set("b", b"2", 60)
    assert lru.get("a") == b"1"  # "b" is now the least recently used
    lru.set("c", b"3", 60)
    assert lru.get("b") is None
    assert lru.get("a") == b"1"
    assert lru.get("c") == b"3"
    assert len(lru) == 2


def test_entries_are_evicted_when_bytes_are_full(clock):
    entry_size = 100 + 1 + ENTRY_OVERHEAD_BYTES
    lru = make_lru(clock, max_bytes=entry_size * 3)
    for key in "abcd":
        lru.set(key, b"x" * 100, 60)
    assert lru.get("a") is None
    assert [lru.get(key) is not None for key in "bcd"] == [True, True, True]
    assert lru.size_bytes == entry_size * 3


def test_a_value_larger_than_the_byte_bound_is_not_kept(clock):
    lru = make_lru(clock, max_bytes=500)
    lru.set("small", b"x", 60)
    lru.set("big", b"x" * 1000, 60)
    assert lru.get("big") is None
    assert lru.get("small") == b"x"


def test_entries_expire_after_their_ttl(clock):
    lru = make_lru(clock)
    lru.set("short", b"1", 5)
    lru.set("long", b"2", 50)
    clock.advance(4.9)
    assert lru.get("short") == b"1"
    clock.advance(0.2)
    assert lru.get("short") is None
    assert lru.get("long") == b"2"
    assert len(lru) == 1


def test_overwriting_a_key_keeps_the_byte_count_right(clock):
    lru = make_lru(clock)
    lru.set("a", b"x" * 10, 60)
    lru.set("a", b"x" * 20, 60)
    assert lru.size_bytes == 20 + 1 + ENTRY_OVERHEAD_BYTES
    lru.delete("a")
    assert lru.size_bytes == 0


def test_delete_pattern_removes_matching_keys_only(clock):
    lru = make_lru(clock)
    for key in ["p:1:a", "p:1:b", "p:2:a"]:
        lru.set(key, b"1", 60)
    assert lru.delete_pattern("p:1:*") == 2
    assert lru.get("p:2:a") == b"1"


def test_concurrent_threads_keep_the_bounds(clock):
    import threading

    lru = make_lru(clock, max_entries=50, max_bytes=20_000)

    def hammer(worker):
        for i in range(2000):
            lru.set(f"{worker}:{i % 80}", b"x" * (i % 300), 60)
            lru.get(f"{(worker + 1) % 8}:{i % 80}")

    threads = [threading.Thread(target=hammer, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(lru) <= 50
    assert lru.size_bytes <= 20_000
    assert lru.size_bytes == sum(size for _, size, _ in lru._entries.values())
