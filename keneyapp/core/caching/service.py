"""The two-level cache service: an in-process LRU (L1) in front of Django's default cache (L2).

L2 is django-redis when `REDIS_URL` is set (shared by every process) and LocMem otherwise.

Keys. Callers build keys with `make_key(prefix, *parts)` or `versioned_key(prefix, *parts,
namespaces=...)`: the prefix and namespaces are written by code and checked to be made of
`[A-Za-z0-9_.-]` segments joined by ':'; the parts (anything a client may have supplied) are hashed,
so a ':' or '*' in them can neither reach into another tenant's prefix nor steer `delete_pattern`.
A raw key given to `get`/`set` that is not made of those characters is hashed too.

Invalidation. `bump(namespace)` increments a counter in L2 ("kc-v:<namespace>"); a versioned key
contains the current counters of its namespaces, so every entry built on an older version misses in
both levels and expires by itself. Nothing is scanned on the write path.

Coherence bound. A versioned read fetches its namespaces' counters from L2 (one `get_many`) before
looking at L1, so once `bump()` has returned, no read started after it, in any process, serves an
entry built on the old version: the staleness bound is zero. When L2 is unreachable, versioned reads
bypass both levels (the counters cannot be checked). A `bump()` that fails because Redis is down is
remembered and made by its process before anything else it sends to Redis after the outage (so its
own first read then already sees it), and every process empties its L1 then; until the writing
process makes that call, another process may serve an entry Redis kept from before the write (a
Redis restart keeps nothing, so only a network outage that Redis itself survived can do that).
Plain keys are coherent only within the process: after `delete()`/`delete_pattern()` in one
process, another may serve its L1 copy for up to `CACHE_L1_MAX_SECONDS`.

Failure. Every L2 error that means "Redis unreachable" makes the operation a miss (reads) or a
no-op (writes), logs one warning per `WARNING_INTERVAL_SECONDS`, and skips L2 for
`RETRY_AFTER_SECONDS`; the next call after that tries again, so caching resumes by itself.
"""

from __future__ import annotations

import functools
import hashlib
import logging
import re
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from fnmatch import fnmatchcase
from typing import Any

import orjson
from django.conf import settings
from django.core.cache import BaseCache, caches
from django.core.cache.backends.locmem import LocMemCache

from .lru import LRUCache
from .serialization import CorruptEntry, NotSerializable, dumps, loads, unwrap, wrap

logger = logging.getLogger(__name__)

L2_PREFIX = "kc:"
VERSION_PREFIX = "kc-v:"
STATS_HASH = "kc-stats"
WARNING_INTERVAL_SECONDS = 60.0
RETRY_AFTER_SECONDS = 2.0
MAX_RAW_KEY_LENGTH = 200

_SAFE_KEY = re.compile(r"[A-Za-z0-9_.\-]+(?::[A-Za-z0-9_.\-]+)*")
_MISSING = object()


def _unavailable_errors() -> tuple[type[BaseException], ...]:
    errors: list[type[BaseException]] = [ConnectionError, TimeoutError, OSError]
    try:
        from django_redis.exceptions import ConnectionInterrupted
        from redis.exceptions import ConnectionError as RedisConnectionError
        from redis.exceptions import TimeoutError as RedisTimeoutError
    except ImportError:  # pragma: no cover - django-redis is a dependency
        return tuple(errors)
    return (*errors, ConnectionInterrupted, RedisConnectionError, RedisTimeoutError)


UNAVAILABLE_ERRORS = _unavailable_errors()


class _Unavailable(Exception):
    """L2 did not answer; the operation degrades to a miss or a no-op."""


def _check_prefix(prefix: str) -> str:
    if not _SAFE_KEY.fullmatch(prefix):
        raise ValueError(f"cache prefix/namespace must be [A-Za-z0-9_.-] segments joined by ':': {prefix!r}")
    return prefix


def _digest(parts: tuple[Any, ...]) -> str:
    encoded = orjson.dumps(parts, option=orjson.OPT_NON_STR_KEYS | orjson.OPT_SORT_KEYS, default=repr)
    return hashlib.sha256(encoded).hexdigest()[:32]


def make_key(prefix: str, *parts: Any) -> str:
    """`prefix` (code-written, checked) followed by a hash of `parts` (which may come from a client)."""
    _check_prefix(prefix)
    return f"{prefix}:{_digest(parts)}" if parts else prefix


def _clean(key: str) -> str:
    if len(key) <= MAX_RAW_KEY_LENGTH and _SAFE_KEY.fullmatch(key):
        return key
    return f"h:{_digest((key,))}"


def stats_label(key: str) -> str:
    """A low-cardinality name for a key: its segments up to the hash, numbers replaced by '*'."""
    segments = []
    for segment in key.split(":")[:5]:
        if len(segment) >= 16:
            break
        segments.append("*" if segment.isdigit() else segment)
    return ":".join(segments) or "-"


class CacheService:
    def __init__(
        self,
        *,
        l2: BaseCache | None = None,
        l1_max_entries: int | None = None,
        l1_max_bytes: int | None = None,
        l1_max_seconds: float | None = None,
        compress_min_bytes: int | None = None,
        max_value_bytes: int | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._l2_override = l2
        self._clock = clock
        self.l1 = LRUCache(
            max_entries=_setting(l1_max_entries, "CACHE_L1_MAX_ENTRIES", 10_000),
            max_bytes=_setting(l1_max_bytes, "CACHE_L1_MAX_BYTES", 64 * 1024 * 1024),
            clock=clock,
        )
        self.l1_max_seconds = _setting(l1_max_seconds, "CACHE_L1_MAX_SECONDS", 30)
        self.compress_min_bytes = _setting(compress_min_bytes, "CACHE_COMPRESS_MIN_BYTES", 1024)
        self.max_value_bytes = _setting(max_value_bytes, "CACHE_MAX_VALUE_BYTES", 1024 * 1024)
        self._state_lock = threading.Lock()
        self._retry_at = 0.0
        self._last_warning = float("-inf")
        self._down = False
        self._lost_bumps: set[str] = set()
        self._replayed = 0
        self._counts: defaultdict[tuple[str, str, str], int] = defaultdict(int)
        self._unflushed: defaultdict[tuple[str, str, str], int] = defaultdict(int)
        self._last_flush = clock()
        # How often a process adds its counts to the shared hash that `manage.py cache_stats` reads.
        self.stats_flush_seconds = _setting(None, "CACHE_STATS_FLUSH_SECONDS", 10)

    @property
    def l2(self) -> BaseCache:
        # Looked up on use, so tests overriding CACHES and forked workers get the current backend.
        return self._l2_override if self._l2_override is not None else caches["default"]

    # --- reads ------------------------------------------------------------------------------------
    def get(self, key: str | None, default: Any = None) -> Any:
        if key is None:
            return default
        key = _clean(key)
        return self._fetch([key]).get(key, default)

    def get_many(self, keys: Iterable[str]) -> dict[str, Any]:
        """The cached values of `keys` (as given), leaving out those not cached."""
        by_clean = {_clean(key): key for key in keys}
        found = self._fetch(list(by_clean))
        return {by_clean[key]: value for key, value in found.items()}

    def _fetch(self, keys: list[str]) -> dict[str, Any]:
        found: dict[str, Any] = {}
        missing = []
        for key in keys:
            body = self.l1.get(key)
            if body is None:
                self._count(key, "l1", "misses")
                missing.append(key)
            else:
                self._count(key, "l1", "hits")
                found[key] = loads(body)
        if not missing:
            return found
        try:
            entries = self._l2_get_many([L2_PREFIX + key for key in missing])
        except _Unavailable:
            entries = {}
        now = self._clock()
        corrupt = []
        for key in missing:
            entry = entries.get(L2_PREFIX + key, _MISSING)
            if entry is _MISSING:
                self._count(key, "l2", "misses")
                continue
            try:
                value, body, expires_at = unwrap(entry)
            except CorruptEntry:
                logger.info("cache: undecodable entry %s treated as a miss", stats_label(key))
                corrupt.append(L2_PREFIX + key)
                self._count(key, "l2", "misses")
                continue
            self._count(key, "l2", "hits")
            found[key] = value
            ttl = self.l1_max_seconds if not expires_at else min(self.l1_max_seconds, expires_at - now)
            self.l1.set(key, body, ttl)
        if corrupt:
            self._l2_quietly(lambda: self.l2.delete_many(corrupt))
        return found

    def _l2_get_many(self, l2_keys: list[str]) -> dict[str, Any]:
        try:
            return self._l2_call(lambda: self.l2.get_many(l2_keys))
        except _Unavailable:
            raise
        except Exception:
            # The backend could not decode some entry (e.g. bytes not written by django-redis):
            # fetch one by one, and report the undecodable ones as corrupt so they are replaced.
            found: dict[str, Any] = {}
            for l2_key in l2_keys:
                try:
                    value = self._l2_call(functools.partial(self.l2.get, l2_key, _MISSING))
                except _Unavailable:
                    raise
                except Exception:
                    value = b"corrupt"
                if value is not _MISSING:
                    found[l2_key] = value
            return found

    # --- writes -----------------------------------------------------------------------------------
    def set(self, key: str | None, value: Any, ttl: float | None = 300) -> bool:
        """Cache `value` for `ttl` seconds (None: no expiry). False when not cached (too large,
        not JSON-able, or no key); never an error."""
        if key is None:
            return False
        key = _clean(key)
        entry = self._encode(key, value, ttl)
        if entry is None:
            self.delete(key)  # an older, smaller value must not outlive this write
            return False
        self._l2_quietly(lambda: self.l2.set(L2_PREFIX + key, entry, ttl))
        return True

    def set_many(self, mapping: Mapping[str, Any], ttl: float | None = 300) -> list[str]:
        """Cache every value; returns the keys (as given) that were not cacheable."""
        entries, refused = {}, []
        for raw_key, value in mapping.items():
            key = _clean(raw_key)
            entry = self._encode(key, value, ttl)
            if entry is None:
                refused.append(raw_key)
                self.delete(key)
            else:
                entries[L2_PREFIX + key] = entry
        if entries:
            self._l2_quietly(lambda: self.l2.set_many(entries, ttl))
        return refused

    def _encode(self, key: str, value: Any, ttl: float | None) -> bytes | None:
        try:
            body = dumps(value)
        except NotSerializable:
            logger.warning("cache: value for %s is not JSON-able; not cached", stats_label(key))
            return None
        if len(body) > self.max_value_bytes:
            logger.info("cache: value for %s is %d bytes; not cached", stats_label(key), len(body))
            return None
        now = self._clock()
        expires_at = 0.0 if ttl is None else now + ttl
        self.l1.set(key, body, self.l1_max_seconds if ttl is None else min(ttl, self.l1_max_seconds))
        return wrap(body, expires_at=expires_at, compress_min_bytes=self.compress_min_bytes)

    def delete(self, key: str) -> None:
        key = _clean(key)
        self.l1.delete(key)
        self._l2_quietly(lambda: self.l2.delete(L2_PREFIX + key))

    def delete_many(self, keys: Iterable[str]) -> None:
        cleaned = [_clean(key) for key in keys]
        self.l1.delete_many(cleaned)
        self._l2_quietly(lambda: self.l2.delete_many([L2_PREFIX + key for key in cleaned]))

    def delete_pattern(self, pattern: str) -> int:
        """Delete the keys matching a glob `pattern` from this process's L1 and from L2 (on Redis
        by SCAN, never KEYS). Returns how many L2 keys were deleted (0 when L2 is unreachable).
        Other processes' L1 copies live on up to `CACHE_L1_MAX_SECONDS`: prefer `bump()`."""
        self.l1.delete_pattern(pattern)
        l2 = self.l2
        if hasattr(l2, "delete_pattern"):  # django-redis: SCAN MATCH + DEL in batches
            return self._l2_quietly(lambda: l2.delete_pattern(L2_PREFIX + pattern, itersize=500)) or 0
        if isinstance(l2, LocMemCache):
            full_pattern = l2.make_key(L2_PREFIX + pattern)
            # LocMemCache has no delete by pattern: its private store, under its lock.
            with l2._lock:  # type: ignore[attr-defined]
                matched = [key for key in l2._cache if fnmatchcase(key, full_pattern)]  # type: ignore[attr-defined]
                for key in matched:
                    l2._delete(key)  # type: ignore[attr-defined]
            return len(matched)
        logger.warning("cache: %s cannot delete by pattern", type(l2).__name__)
        return 0

    def cached(
        self,
        *,
        ttl: float,
        prefix: str,
        namespaces: Callable[..., Iterable[str]] | None = None,
    ) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        """Cache a function's JSON-able result under `prefix` + a hash of its arguments. With
        `namespaces` (called with the same arguments), the key is versioned by them. The cached
        result is what JSON gives back (tuples become lists)."""
        _check_prefix(prefix)

        def decorator(function: Callable[..., Any]) -> Callable[..., Any]:
            name = f"{function.__module__}.{function.__qualname__}"

            @functools.wraps(function)
            def wrapper(*args: Any, **kwargs: Any) -> Any:
                if namespaces is None:
                    key: str | None = make_key(prefix, name, args, kwargs)
                else:
                    depends_on = namespaces(*args, **kwargs)
                    key = self.versioned_key(prefix, name, args, kwargs, namespaces=depends_on)
                if key is not None:
                    found = self._fetch([key])
                    if key in found:
                        return found[key]
                value = function(*args, **kwargs)
                if key is not None:
                    self.count_computed(key)
                self.set(key, value, ttl)
                return value

            return wrapper

        return decorator

    # --- versions ---------------------------------------------------------------------------------
    def versions(self, namespaces: Iterable[str]) -> dict[str, int] | None:
        """The current version of each namespace, in one L2 round trip; None when L2 is unreachable."""
        names = [_check_prefix(namespace) for namespace in namespaces]
        keys = [VERSION_PREFIX + name for name in names]
        try:
            found = self._l2_call(lambda: self.l2.get_many(keys))
            missing = [key for key in keys if key not in found]
            if missing:
                # A fresh (or evicted) counter starts at the time in microseconds, so it is above
                # any value it had before: entries built on that value can never match again.
                start = int(self._clock() * 1_000_000)
                for key in missing:
                    self._l2_call(functools.partial(self.l2.add, key, start, None))
                found.update(self._l2_call(lambda: self.l2.get_many(missing)))
        except _Unavailable:
            return None
        if any(key not in found for key in keys):
            return None
        return {name: int(found[VERSION_PREFIX + name]) for name in names}

    def versioned_key(self, prefix: str, *parts: Any, namespaces: Iterable[str]) -> str | None:
        """A key that changes whenever one of `namespaces` is bumped; None (meaning: do not cache)
        when the versions cannot be read."""
        names = sorted(set(namespaces))
        current = self.versions(names)
        if current is None:
            return None
        stamp = "-".join(str(current[name]) for name in names)
        return f"{make_key(prefix, names, *parts)}:v{stamp}"

    def bump(self, namespace: str) -> bool:
        """Invalidate every versioned entry of `namespace`, in O(1). False when L2 is unreachable."""
        key = VERSION_PREFIX + _check_prefix(namespace)
        try:
            try:
                self._l2_call(lambda: self.l2.incr(key))
            except ValueError:  # no counter yet: start one above any earlier value
                self._l2_call(lambda: self.l2.add(key, int(self._clock() * 1_000_000), None))
                self._l2_call(lambda: self.l2.incr(key))
        except _Unavailable:
            # The outage itself is warned about once a minute; each lost bump is only noted, and
            # made when Redis answers, before any other call (see `_l2_call`).
            logger.info("cache: could not invalidate %s (cache unreachable)", namespace)
            with self._state_lock:
                self._lost_bumps.add(namespace)
            return False
        return True

    # --- L2 failure handling ----------------------------------------------------------------------
    def _l2_call(self, operation: Callable[[], Any]) -> Any:
        if self._retry_at and self._clock() < self._retry_at:
            raise _Unavailable
        try:
            if self._down:
                # Before anything else reaches Redis: an operation that reads versions must see
                # the bumps this process could not make, or it builds its key on a version older
                # than its own write and serves what Redis kept from before it.
                self._replay_lost_bumps()
            result = operation()
        except UNAVAILABLE_ERRORS as exc:
            self._mark_down(exc)
            raise _Unavailable from exc
        if self._down:
            self._recover()
        return result

    def _replay_lost_bumps(self) -> None:
        """Make the bumps lost in the outage, straight on L2 (raising if it is still down)."""
        with self._state_lock:
            lost = sorted(self._lost_bumps)
        for namespace in lost:
            key = VERSION_PREFIX + namespace
            try:
                self.l2.incr(key)
            except ValueError:  # no counter (Redis restarted empty): start one above any earlier
                self.l2.add(key, int(self._clock() * 1_000_000), None)
                self.l2.incr(key)
            with self._state_lock:
                self._lost_bumps.discard(namespace)
        self._replayed += len(lost)

    def _recover(self) -> None:
        """Redis answers again (and the lost bumps are made: `_replay_lost_bumps`). Whatever this
        process cached in L1 before or during the outage may rest on versions that were bumped
        while it could not see them, so L1 is emptied."""
        with self._state_lock:
            if not self._down:
                return
            self._down = False
            self._retry_at = 0.0
            replayed, self._replayed = self._replayed, 0
        self.l1.clear()
        logger.warning(
            "cache: shared cache reachable again; caching resumed (%d lost bumps replayed)", replayed
        )

    def _l2_quietly(self, operation: Callable[[], Any]) -> Any:
        try:
            return self._l2_call(operation)
        except _Unavailable:
            return None

    def _mark_down(self, exc: BaseException) -> None:
        now = self._clock()
        with self._state_lock:
            self._down = True
            self._retry_at = now + RETRY_AFTER_SECONDS
            warn = now - self._last_warning >= WARNING_INTERVAL_SECONDS
            if warn:
                self._last_warning = now
        if warn:
            logger.warning(
                "cache: shared cache unreachable (%s); serving uncached, retrying every %.0f s",
                type(exc).__name__,
                RETRY_AFTER_SECONDS,
            )

    # --- statistics -------------------------------------------------------------------------------
    def _count(self, key: str, level: str, kind: str) -> None:
        counter = (stats_label(key), level, kind)
        with self._state_lock:
            self._counts[counter] += 1
            self._unflushed[counter] += 1
        if self._clock() - self._last_flush >= self.stats_flush_seconds:
            self.flush_stats()

    def count_computed(self, key: str) -> None:
        """Count one computation of the value behind `key` (a miss on both levels that went to
        the database), so a stampede shows as several computations of one key."""
        self._count(key, "source", "computed")

    def stats(self) -> dict[str, dict[str, dict[str, int]]]:
        """This process's counts: {label: {"l1"/"l2": {"hits", "misses"}, "source": {"computed"}}}."""
        with self._state_lock:
            return _nest(self._counts)

    def reset_stats(self) -> None:
        with self._state_lock:
            self._counts.clear()
            self._unflushed.clear()

    def flush_stats(self) -> None:
        """Add this process's counts since the last flush to a Redis hash (when L2 is Redis)."""
        with self._state_lock:
            pending, self._unflushed = self._unflushed, defaultdict(int)
            self._last_flush = self._clock()
        client = self._redis_client()
        if client is None or not pending:
            return

        def push() -> None:
            pipe = client.pipeline(transaction=False)
            for (label, level, kind), count in pending.items():
                pipe.hincrby(self._stats_hash(), f"{label}|{level}|{kind}", count)
            pipe.execute()

        self._l2_quietly(push)

    def shared_stats(self) -> dict[str, dict[str, dict[str, int]]] | None:
        """Every process's flushed counts from Redis; None without Redis or when it is unreachable."""
        client = self._redis_client()
        if client is None:
            return None
        raw = self._l2_quietly(lambda: client.hgetall(self._stats_hash()))
        if raw is None:
            return None
        counts = {}
        for field, count in raw.items():
            label, level, kind = field.decode().rsplit("|", 2)
            counts[(label, level, kind)] = int(count)
        return _nest(counts)

    def _redis_client(self) -> Any:
        client = getattr(self.l2, "client", None)
        return client.get_client(write=True) if client is not None and hasattr(client, "get_client") else None

    def _stats_hash(self) -> str:
        return self.l2.make_key(STATS_HASH)


def _setting(value: Any, name: str, default: Any) -> Any:
    return value if value is not None else getattr(settings, name, default)


def _nest(counts: Mapping[tuple[str, str, str], int]) -> dict[str, dict[str, dict[str, int]]]:
    nested: dict[str, dict[str, dict[str, int]]] = {}
    for (label, level, kind), count in sorted(counts.items()):
        levels = nested.setdefault(
            label,
            {"l1": {"hits": 0, "misses": 0}, "l2": {"hits": 0, "misses": 0}, "source": {"computed": 0}},
        )
        levels[level][kind] = count
    return nested
