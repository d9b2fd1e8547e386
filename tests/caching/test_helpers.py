"""The helpers on top of the cache service: bump_on_commit."""

import pytest
from django.db import transaction

from keneyapp.core.caching import bump_on_commit

NAMESPACE = "tenant:1:dashboard"


def version(service) -> int:
    return service.versions([NAMESPACE])[NAMESPACE]


@pytest.mark.django_db
def test_inside_a_transaction_it_bumps_now_and_again_after_commit(
    make_service, django_capture_on_commit_callbacks
):
    service = make_service()
    before = version(service)
    with django_capture_on_commit_callbacks(execute=True) as callbacks, transaction.atomic():
        bump_on_commit(NAMESPACE, service=service)
        # Reads later in the same transaction already miss...
        assert version(service) == before + 1
    # ...and a read another process made before the commit (under that version) misses too.
    assert len(callbacks) == 1
    assert version(service) == before + 2


@pytest.mark.django_db(transaction=True)
def test_outside_a_transaction_it_bumps_once(make_service):
    service = make_service()
    before = version(service)
    bump_on_commit(NAMESPACE, service=service)
    assert version(service) == before + 1
