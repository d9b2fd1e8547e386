"""Many requests on a cold cache compute the figures once (SQLite and PostgreSQL)."""

import threading

import pytest
from django.db import connection

from keneyapp.dashboard import selectors
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
        return real(tenant)

    monkeypatch.setattr(selectors, "dashboard_stats", counted)
    barrier = threading.Barrier(THREADS)
    results = [None] * THREADS
    errors = []

    def run(index: int) -> None:
        try:
            barrier.wait(timeout=10)
            results[index] = selectors.dashboard_stats_cached(clinic)
        except Exception as exc:  # surfaced below: a thread's exception would otherwise vanish
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert not errors, errors
    assert calls == [clinic.pk]
    assert all(result == results[0] for result in results)
    assert results[0]["patients"]["total"] == 1
