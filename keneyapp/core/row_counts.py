"""Exact per-clinic row counts maintained by the database itself.

`CountRowsPerTenant` is a migration operation that installs triggers on a table so that
core_tenantrowcount always holds, per clinic, how many of its rows match (all rows, or those whose
soft-delete flag is false). Triggers see every write, whatever its path (services, the admin, bulk
COPY, a fixture factory), and run in the writer's transaction, so the count is exact and never
stale. PostgreSQL uses statement-level triggers over transition tables, so a COPY of 100,000 rows
updates the counter once per clinic, not 100,000 times; SQLite uses row-level triggers.

Concurrent writers in one clinic serialise on that clinic's counter row until they commit; other
clinics are not affected.
"""

import re

from django.db import migrations

from keneyapp.core.models import TenantRowCount

COUNT_TABLE = "core_tenantrowcount"
IDENTIFIER = re.compile(r"^[a-z_][a-z0-9_]*$")
COUNTER_NAME = re.compile(r"^[a-z_]+\.[a-z_]+$")


def row_count(*, tenant, counter: str) -> int:
    """The clinic's current count for `counter` (0 when it has never had a row)."""
    return row_counts(tenant=tenant, counters=(counter,))[counter]


def row_counts(*, tenant, counters: tuple[str, ...]) -> dict[str, int]:
    """Several of the clinic's counts in one query (0 for a counter that never had a row)."""
    found = dict(
        TenantRowCount.objects.filter(tenant=tenant, counter__in=counters).values_list("counter", "total")
    )
    return {counter: found.get(counter, 0) for counter in counters}


class CountRowsPerTenant(migrations.operations.base.Operation):
    """Maintain `counter` = rows of `table` per tenant_id (where `flag` is false, if given)."""

    reversible = True
    reduces_to_sql = True

    def __init__(self, *, counter: str, table: str, flag: str | None = None, flags: tuple[str, ...] = ()):
        # `flag`: one soft-delete flag (rows counted while it is false); `flags`: several, all false.
        self.flag, self.flags_given = flag, tuple(flags)
        self.flags = tuple(flags) + ((flag,) if flag else ())
        # Names are interpolated into SQL (DDL takes no parameters): allow identifiers only.
        if (
            not COUNTER_NAME.match(counter)
            or not IDENTIFIER.match(table)
            or not all(IDENTIFIER.match(name) for name in self.flags)
        ):
            raise ValueError(f"not an identifier: {counter!r}, {table!r}, {self.flags!r}")
        self.counter = counter
        self.table = table

    def deconstruct(self):
        kwargs: dict = {"counter": self.counter, "table": self.table, "flag": self.flag}
        if self.flags_given:
            kwargs["flags"] = self.flags_given
        return self.__class__.__name__, [], kwargs

    def state_forwards(self, app_label, state):
        pass  # triggers are invisible to Django's model state

    def describe(self):
        return f"Count rows of {self.table} per tenant as {self.counter!r}"

    @property
    def _name(self) -> str:
        return f"rowcount_{self.counter.replace('.', '_')}"

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        vendor = schema_editor.connection.vendor
        statements = self._postgresql() if vendor == "postgresql" else self._sqlite()
        for statement in [*statements, self._backfill()]:
            schema_editor.execute(statement)

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            for event in ("insert", "update", "delete"):
                schema_editor.execute(f"DROP TRIGGER IF EXISTS {self._name}_{event} ON {self.table}")
                schema_editor.execute(f"DROP FUNCTION IF EXISTS {self._name}_{event}()")
        else:
            for event in ("insert", "update", "delete"):
                schema_editor.execute(f"DROP TRIGGER IF EXISTS {self._name}_{event}")
        schema_editor.execute("DELETE FROM core_tenantrowcount WHERE counter = %s", [self.counter])

    # --- SQL ---
    def _where(self, alias: str = "") -> str:
        if not self.flags:
            return "TRUE"
        return " AND ".join(f"NOT {alias}{flag}" for flag in self.flags)

    def _upsert(self, select: str) -> str:
        return (
            f"INSERT INTO {COUNT_TABLE} (tenant_id, counter, total) {select} "
            f"ON CONFLICT (tenant_id, counter) DO UPDATE SET total = {COUNT_TABLE}.total + excluded.total"
        )

    def _backfill(self) -> str:
        where = self._where()
        return self._upsert(
            f"SELECT tenant_id, '{self.counter}', count(*) FROM {self.table} WHERE {where} GROUP BY tenant_id"
        )

    def _postgresql(self) -> list[str]:
        sources = {
            "insert": (
                "REFERENCING NEW TABLE AS new_rows",
                "SELECT tenant_id, 1 AS delta FROM new_rows WHERE {w}",
            ),
            "update": (
                "REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows",
                "SELECT tenant_id, 1 AS delta FROM new_rows WHERE {w} "
                "UNION ALL SELECT tenant_id, -1 FROM old_rows WHERE {w}",
            ),
            "delete": (
                "REFERENCING OLD TABLE AS old_rows",
                "SELECT tenant_id, -1 AS delta FROM old_rows WHERE {w}",
            ),
        }
        statements = []
        for event, (referencing, changes) in sources.items():
            function = f"{self._name}_{event}"
            delta = changes.format(w=self._where())
            body = self._upsert(
                f"SELECT tenant_id, '{self.counter}', sum(delta) FROM ({delta}) AS changes "
                f"GROUP BY tenant_id HAVING sum(delta) <> 0"
            )
            statements += [
                f"CREATE OR REPLACE FUNCTION {function}() RETURNS trigger LANGUAGE plpgsql AS $$ "
                f"BEGIN {body}; RETURN NULL; END $$",
                f"CREATE TRIGGER {function} AFTER {event.upper()} ON {self.table} {referencing} "
                f"FOR EACH STATEMENT EXECUTE FUNCTION {function}()",
            ]
        return statements

    def _sqlite(self) -> list[str]:
        def bump(row: str, delta: int) -> str:
            # SQLite's upsert needs a WHERE in INSERT ... SELECT (a parsing rule), hence "WHERE".
            where = " AND ".join(f"{row}.{flag} = 0" for flag in self.flags) or "1"
            return self._upsert(f"SELECT {row}.tenant_id, '{self.counter}', {delta} WHERE {where}") + ";"

        def lower(row: str) -> str:
            where = "".join(f" AND {row}.{flag} = 0" for flag in self.flags)
            return (
                f"UPDATE {COUNT_TABLE} SET total = total - 1 "
                f"WHERE tenant_id = {row}.tenant_id AND counter = '{self.counter}'{where};"
            )

        watched = " OF " + ", ".join([*self.flags, "tenant_id"])
        return [
            f"CREATE TRIGGER {self._name}_insert AFTER INSERT ON {self.table} BEGIN {bump('NEW', 1)} END",
            f"CREATE TRIGGER {self._name}_update AFTER UPDATE{watched} ON {self.table} "
            f"BEGIN {bump('OLD', -1)} {bump('NEW', 1)} END",
            # A delete only lowers a counter its insert created: an UPDATE, never an upsert, so that
            # emptying the tables in any order (`flush`, between transactional tests) cannot leave a
            # counter row pointing at a clinic deleted in the same transaction.
            f"CREATE TRIGGER {self._name}_delete AFTER DELETE ON {self.table} BEGIN {lower('OLD')} END",
        ]


class StopCountingRows(CountRowsPerTenant):
    """Remove a counter CountRowsPerTenant installed (its triggers and its rows): a counter no read
    uses any more still costs every write of its table. Reversed, it installs it again."""

    def describe(self):
        return f"Stop counting rows of {self.table} as {self.counter!r}"

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        super().database_backwards(app_label, schema_editor, from_state, to_state)

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        super().database_forwards(app_label, schema_editor, from_state, to_state)
