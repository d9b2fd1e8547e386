"""Small building blocks on top of the cache service, for callers that know no cache internals.

- `clinic_namespace(tenant_id, name)`: the one spelling of a per-clinic invalidation namespace, so a
  domain's service can invalidate (say) the dashboard without importing the dashboard app.
- `bump_on_commit(namespace)`: invalidate now and again once the writer's transaction commits (a
  reader that runs before the commit would otherwise cache the old figures under the new version).
- `get_or_compute(key, compute, ttl)`: a read-through with a stampede guard: on a cold key one caller
  computes while the others wait for its result, polling the cache.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable
from typing import Any

from django.db import transaction

from . import cache_service
from .serialization import NotSerializable, dumps, loads
from .service import UNAVAILABLE_ERRORS, CacheService, _check_prefix, _clean

LOCK_PREFIX = "kc-lock:"
_MISSING = object()


def clinic_namespace(tenant_id: int, name: str) -> str:
    """ "tenant:<id>:<name>", e.g. tenant:7:dashboard."""
    return _check_prefix(f"tenant:{int(tenant_id)}:{name}")


def bump_on_commit(namespace: str, *, service: CacheService | None = None) -> None:
    """Bump `namespace` now and, inside a transaction, again after it commits.

    The bump after commit is the one that matters: a read in another process during the
    transaction saw the old rows and may have cached them under the version of the first bump.
    The bump now keeps later reads inside the transaction fresh (and test cases, whose
    transaction never commits). Outside a transaction the one bump is enough.
    """
    _check_prefix(namespace)
    service = service or cache_service
    service.bump(namespace)
    if transaction.get_connection().in_atomic_block:
        transaction.on_commit(lambda: service.bump(namespace))


def get_or_compute(
    key: str | None,
    compute: Callable[[], Any],
    ttl: float,
    *,
    service: CacheService | None = None,
    wait_seconds: float = 10.0,
    poll_seconds: float = 0.02,
) -> Any:
    """The cached value of `key`, or `compute()` cached for `ttl` seconds.

    Only the caller that wins `add(lock)` on the shared cache computes; the others poll the cache
    for up to `wait_seconds` and then compute themselves (so a crashed or slow holder delays them,
    never blocks them). The lock expires by itself after `wait_seconds`. When the shared cache is
    unreachable, every caller computes (there is nothing to coordinate on). The value returned is
    always the JSON round trip, whether it was computed here or read from the cache.
    """
    service = service or cache_service
    if key is None:
        return _as_cached(compute())
    found = service.get(key, _MISSING)
    if found is not _MISSING:
        return found
    lock = LOCK_PREFIX + _clean(key)
    try:
        holder = service.l2.add(lock, 1, wait_seconds)
    except UNAVAILABLE_ERRORS:
        holder = True
    if not holder:
        deadline = time.monotonic() + wait_seconds
        while time.monotonic() < deadline:
            time.sleep(poll_seconds)
            found = service.get(key, _MISSING)
            if found is not _MISSING:
                return found
    try:
        if holder:
            # Whoever held the lock before us may have stored the value between our first look
            # and our add(): look again, or a late caller recomputes what was just computed.
            found = service.get(key, _MISSING)
            if found is not _MISSING:
                return found
        value = compute()
        service.count_computed(key)
        service.set(key, value, ttl)
    finally:
        if holder:
            with contextlib.suppress(*UNAVAILABLE_ERRORS):
                service.l2.delete(lock)
    return _as_cached(value)


def _as_cached(value: Any) -> Any:
    try:
        return loads(dumps(value))
    except NotSerializable:
        return value
