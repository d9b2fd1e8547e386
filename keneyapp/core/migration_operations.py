from django.db import migrations


class RunSQLOnPostgreSQL(migrations.RunSQL):
    """Raw SQL for a PostgreSQL-only feature (an extension, an exclusion constraint, a trigram
    index); a no-op on SQLite, where the code keeps the same behaviour another way."""

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            super().database_forwards(app_label, schema_editor, from_state, to_state)

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            super().database_backwards(app_label, schema_editor, from_state, to_state)


class KeepClinicWhileReferenced(migrations.operations.base.Operation):
    """Refuse, in the database, an UPDATE that moves a row of `table` to another clinic
    (tenant_id) while a row of `referrer` points at it through `column`.

    Each domain installs it for the rows it keeps about another domain's row (appointments,
    documents and messages about a patient), so the owner's app never names its referrers. Every
    write path meets it (services, the admin, a script, raw SQL): PostgreSQL raises
    foreign_key_violation (an IntegrityError), SQLite aborts the statement the same way.
    """

    reversible = True
    reduces_to_sql = True

    def __init__(self, *, table: str, referrer: str, column: str):
        for name in (table, referrer, column):
            if not name.replace("_", "").isalnum() or not name.isascii():
                raise ValueError(f"not an identifier: {name!r}")  # interpolated into DDL
        self.table, self.referrer, self.column = table, referrer, column

    def deconstruct(self):
        kwargs = {"table": self.table, "referrer": self.referrer, "column": self.column}
        return self.__class__.__name__, [], kwargs

    def state_forwards(self, app_label, state):
        pass  # triggers are invisible to Django's model state

    def describe(self):
        return f"Keep {self.table} rows in their clinic while {self.referrer} refers to them"

    @property
    def _name(self) -> str:
        return f"keep_clinic_{self.referrer}"

    @property
    def _message(self) -> str:
        return f"{self.table} row cannot change clinic: {self.referrer} rows refer to it"

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        name, table, referrer, column = self._name, self.table, self.referrer, self.column
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(
                f"""CREATE OR REPLACE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN
                    IF EXISTS (SELECT 1 FROM {referrer} WHERE {column} = OLD.id) THEN
                        RAISE EXCEPTION '{self._message}' USING ERRCODE = 'foreign_key_violation';
                    END IF;
                    RETURN NEW;
                END $$"""  # noqa: S608 (identifiers checked in __init__)
            )
            schema_editor.execute(
                f"CREATE TRIGGER {name} BEFORE UPDATE OF tenant_id ON {table} FOR EACH ROW "
                f"WHEN (OLD.tenant_id IS DISTINCT FROM NEW.tenant_id) EXECUTE FUNCTION {name}()"
            )
        else:
            sql = f"""CREATE TRIGGER {name} BEFORE UPDATE OF tenant_id ON {table} FOR EACH ROW
                WHEN OLD.tenant_id IS NOT NEW.tenant_id
                AND EXISTS (SELECT 1 FROM {referrer} WHERE {column} = OLD.id)
                BEGIN SELECT RAISE(ABORT, '{self._message}'); END"""  # noqa: S608 (see __init__)
            schema_editor.execute(sql)

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        schema_editor.execute(
            f"DROP TRIGGER IF EXISTS {self._name}"
            + (f" ON {self.table}" if schema_editor.connection.vendor == "postgresql" else "")
        )
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(f"DROP FUNCTION IF EXISTS {self._name}()")


class AppendOnly(migrations.operations.base.Operation):
    """Refuse, in the database, every UPDATE and DELETE of `table`'s rows: an audit trail is
    append-only whatever writes to it (the application, a script, raw SQL).

    The one exception is retention (keneyapp/core/management/commands/audit_retention.py): in its
    transaction it sets `setting` to a cutoff time (`SET LOCAL`, gone at commit or rollback), and
    the trigger then lets a DELETE remove the rows whose `column` is older than that cutoff, and
    nothing else. PostgreSQL: a row-level BEFORE trigger raising `insufficient_privilege`. SQLite
    (development and the embedded defaults) refuses UPDATE only: it has no transaction-local
    setting to grant the exception with, and the test harness empties tables with DELETE there.
    TRUNCATE is DDL-level and fires no row trigger: the application never truncates; an operator
    who must forbid it revokes TRUNCATE from the application's role.
    """

    reversible = True
    reduces_to_sql = True

    def __init__(self, *, table: str, column: str, setting: str):
        for name in (table, column, *setting.split(".")):
            if not name.replace("_", "").isalnum() or not name.isascii():
                raise ValueError(f"not an identifier: {name!r}")  # interpolated into DDL
        self.table, self.column, self.setting = table, column, setting

    def deconstruct(self):
        kwargs = {"table": self.table, "column": self.column, "setting": self.setting}
        return self.__class__.__name__, [], kwargs

    def state_forwards(self, app_label, state):
        pass  # triggers are invisible to Django's model state

    def describe(self):
        return f"Make {self.table} append-only (retention deletes through {self.setting})"

    @property
    def _name(self) -> str:
        return f"append_only_{self.table}"

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        name, table, column, setting = self._name, self.table, self.column, self.setting
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(
                f"""CREATE OR REPLACE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$
                DECLARE
                    cutoff text := current_setting('{setting}', true);
                BEGIN
                    IF TG_OP = 'DELETE' AND coalesce(cutoff, '') <> ''
                       AND OLD.{column} < cutoff::timestamptz THEN
                        RETURN OLD;
                    END IF;
                    RAISE EXCEPTION '{table} is append-only: % refused', TG_OP
                        USING ERRCODE = 'insufficient_privilege';
                END $$""",
                None,  # no parameters: the body's "%" is PL/pgSQL's, not a placeholder
            )
            schema_editor.execute(
                f"CREATE TRIGGER {name} BEFORE UPDATE OR DELETE ON {table} "
                f"FOR EACH ROW EXECUTE FUNCTION {name}()"
            )
        else:
            schema_editor.execute(
                f"CREATE TRIGGER {name} BEFORE UPDATE ON {table} "
                f"BEGIN SELECT RAISE(ABORT, '{table} is append-only: UPDATE refused'); END"
            )

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {self._name} ON {self.table}")
            schema_editor.execute(f"DROP FUNCTION IF EXISTS {self._name}()")
        else:
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {self._name}")
