"""The trail is append-only in the database; retention is the one command allowed to delete."""

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from keneyapp.core.models import AuditEvent
from keneyapp.core.scoping import scopes_disabled
from tests.audit.helpers import trail

pytestmark = pytest.mark.django_db
postgres = pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL")


def event(clinic, *, days_ago: int = 0) -> AuditEvent:
    return AuditEvent._base_manager.create(
        at=timezone.now() - timedelta(days=days_ago),
        tenant=clinic,
        user_id=1,
        role="doctor",
        door="api",
        action="view",
        model="patients.patient",
        object_id=7,
        patient_id=7,
    )


def refused(sql: str, params=(), *, cutoff: str | None = None) -> bool:
    """Whether the trigger refuses `sql` (after setting the retention cutoff in its transaction)."""
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            if cutoff is not None:
                cursor.execute("SELECT set_config('keneyapp.audit_retention', %s, true)", [cutoff])
            cursor.execute(sql, params)
    except DatabaseError as error:
        return "append-only" in str(error)
    return False


def test_a_raw_update_is_refused(clinic):
    row = event(clinic)
    assert refused("UPDATE core_auditevent SET action = 'delete' WHERE id = %s", [row.pk])
    assert refused("UPDATE core_auditevent SET user_id = 2")
    with scopes_disabled():
        assert AuditEvent.objects.get(pk=row.pk).action == "view"


def test_an_orm_update_is_refused(clinic):
    row = event(clinic)
    row.action = "delete"
    with pytest.raises(DatabaseError), transaction.atomic():
        row.save()


@postgres
def test_a_raw_delete_is_refused(clinic):
    row = event(clinic, days_ago=5000)  # old enough for retention, but this is no retention run
    assert refused("DELETE FROM core_auditevent WHERE id = %s", [row.pk])
    assert refused("DELETE FROM core_auditevent")
    with scopes_disabled(), pytest.raises(DatabaseError), transaction.atomic():
        AuditEvent.objects.filter(pk=row.pk).delete()
    assert [e.pk for e in trail()] == [row.pk]


@postgres
def test_the_retention_setting_lets_only_older_rows_go(clinic):
    old, young = event(clinic, days_ago=100), event(clinic, days_ago=1)
    cutoff = (timezone.now() - timedelta(days=10)).isoformat()
    set_cutoff = "SELECT set_config('keneyapp.audit_retention', %s, true)"
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(set_cutoff, [cutoff])
        cursor.execute("DELETE FROM core_auditevent WHERE id = %s", [old.pk])
    assert refused("DELETE FROM core_auditevent WHERE id = %s", [young.pk], cutoff=cutoff)
    # The setting is transaction-local: gone after the retention's transaction.
    assert refused("DELETE FROM core_auditevent WHERE id = %s", [young.pk])
    assert [e.pk for e in trail()] == [young.pk]


def test_the_retention_command_deletes_what_is_older_and_records_its_run(clinic, settings):
    settings.AUDIT_RETENTION_DAYS = 30
    old, young = event(clinic, days_ago=31), event(clinic, days_ago=29)
    call_command("audit_retention")
    remaining = trail()
    assert [e.pk for e in remaining[:1]] == [young.pk]
    assert old.pk not in [e.pk for e in remaining]
    run = remaining[-1]
    assert (run.action, run.door, run.model, run.route) == (
        "purge",
        "command",
        "core.auditevent",
        "audit_retention",
    )


def test_the_default_retention_is_six_years(clinic):
    kept, gone = event(clinic, days_ago=2189), event(clinic, days_ago=2191)
    call_command("audit_retention")
    assert {e.pk for e in trail()} >= {kept.pk} and gone.pk not in {e.pk for e in trail()}
