"""Two requests marking the same messages read at the same moment, on PostgreSQL with real
concurrent transactions: the row changes once, and the read is announced once."""

import pytest
from django.db import connection

from keneyapp.core.scoping import scopes_disabled
from messaging import services
from messaging.models import Message
from tests.concurrency import run_at_once
from tests.factories import MessageFactory

pytestmark = pytest.mark.postgres


@pytest.fixture
def announced(monkeypatch):
    calls = []
    original = services._announce_read

    def counting(**kwargs):
        calls.append(kwargs["read"])
        return original(**kwargs)

    monkeypatch.setattr(services, "_announce_read", counting)
    return calls


@pytest.mark.django_db(transaction=True)
def test_concurrent_mark_read_changes_and_announces_once(doctor, nurse, announced):
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL's row locks and real concurrency")
    message = MessageFactory(tenant=doctor.tenant, sender=doctor, receiver=nurse)

    def mark():
        return services.message_mark_read(message=Message.objects.get(pk=message.pk), reader=nurse).read_at

    with scopes_disabled():
        first, second = run_at_once([mark, mark], timeout=30)
    assert first == second is not None
    assert announced == [[(message.pk, doctor.pk)]]


@pytest.mark.django_db(transaction=True)
def test_concurrent_read_all_marks_each_message_once(doctor, nurse, announced):
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL's row locks and real concurrency")
    MessageFactory.create_batch(5, tenant=doctor.tenant, sender=doctor, receiver=nurse)

    with scopes_disabled():
        counts = run_at_once([lambda: services.messages_mark_all_read(reader=nurse)] * 3, timeout=30)
    assert sorted(counts) == [0, 0, 5]
    assert len(announced) == 1 and len(announced[0]) == 5
