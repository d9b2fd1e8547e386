"""Many requests on a cold cache compute the figures once (SQLite and PostgreSQL)."""

import threading

import pytest

from dashboard import selectors
from keneyapp.core.scoping import scopes_disabled
from tests.concurrency import run_at_once
from tests.factories import PatientFactory

pytestmark = pytest.mark.django_db(transaction=True)

THREADS = 20


def test_concurrent_requests_on_a_cold_cache_compute_once(clinic, monkeypatch):
    PatientFactory(tenant=clinic)
    real = selectors.dashboard_stats
    calls = []
    lock = threading.Lock()

    def counted(tenant):
        with lock:
            calls.append(tenant.pk)
        with scopes_disabled():
            return real(tenant)

    monkeypatch.setattr(selectors, "dashboard_stats", counted)

    results = run_at_once([lambda: selectors.dashboard_stats_cached(clinic)] * THREADS, timeout=60)

    assert calls == [clinic.pk]
    assert all(result == results[0] for result in results)
    assert results[0]["patients"]["total"] == 1
