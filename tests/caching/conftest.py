"""Cache services on private backends and a clock the tests move by hand."""

import uuid

import pytest
from django.core.cache.backends.locmem import LocMemCache

from keneyapp.core.caching import CacheService


class FakeClock:
    def __init__(self, now: float = 1_700_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock():
    return FakeClock()


@pytest.fixture
def l2():
    """A LocMem cache of its own, standing for the shared level."""
    return LocMemCache(f"caching-test-{uuid.uuid4().hex}", {"KEY_PREFIX": "keneyapp"})


@pytest.fixture
def make_service(l2, clock):
    """make_service(**options) -> a CacheService on the shared `l2` (one per simulated process)."""

    def make(**options):
        options.setdefault("l2", l2)
        options.setdefault("clock", clock)
        options.setdefault("l1_max_seconds", 3600)
        return CacheService(**options)

    return make


@pytest.fixture
def service(make_service):
    return make_service()
