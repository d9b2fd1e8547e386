# ruff: noqa: S608 -- DDL takes no parameters; every identifier interpolated here is checked in __init__.
from django.db import migrations


def check_identifiers(*names: str) -> None:
    """Refuse anything but an ASCII identifier: the operations below interpolate these names into
    DDL, which takes no parameters."""
    for name in names:
        if not name.replace("_", "").isalnum() or not name.isascii():
            raise ValueError(f"not an identifier: {name!r}")


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
        check_identifiers(table, referrer, column)
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
                END $$"""
            )
            schema_editor.execute(
                f"CREATE TRIGGER {name} BEFORE UPDATE OF tenant_id ON {table} FOR EACH ROW "
                f"WHEN (OLD.tenant_id IS DISTINCT FROM NEW.tenant_id) EXECUTE FUNCTION {name}()"
            )
        else:
            sql = f"""CREATE TRIGGER {name} BEFORE UPDATE OF tenant_id ON {table} FOR EACH ROW
                WHEN OLD.tenant_id IS NOT NEW.tenant_id
                AND EXISTS (SELECT 1 FROM {referrer} WHERE {column} = OLD.id)
                BEGIN SELECT RAISE(ABORT, '{self._message}'); END"""
            schema_editor.execute(sql)

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        schema_editor.execute(
            f"DROP TRIGGER IF EXISTS {self._name}"
            + (f" ON {self.table}" if schema_editor.connection.vendor == "postgresql" else "")
        )
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(f"DROP FUNCTION IF EXISTS {self._name}()")


class MirrorPatientDeleted(migrations.operations.base.Operation):
    """Keep `table.patient_deleted` equal to its patient's `is_deleted`, in the database.

    A domain's reads leave a deleted patient's rows out by this column of their own, not by a join
    to patients (which probes the patient of every row read) nor by a subquery of the clinic's
    deleted ids (which grows with them): the column can sit in a partial index and in the
    trigger-kept counters (keneyapp/core/row_counts.py), so lists and totals cost the same whatever
    the number of deleted patients. Every write path keeps it true: a patient's soft delete or
    restore updates their rows, and an insert, or an update of any column (Django's save() writes
    them all, from an instance that may be stale), takes the value from the patient row. The
    owner's app names none of its referrers: each domain installs this for its own table.
    """

    reversible = True
    reduces_to_sql = True
    PATIENTS = "patients_patient"

    def __init__(self, *, table: str, column: str = "patient_id"):
        check_identifiers(table, column)
        self.table, self.column = table, column

    def deconstruct(self):
        return self.__class__.__name__, [], {"table": self.table, "column": self.column}

    def state_forwards(self, app_label, state):
        pass  # triggers are invisible to Django's model state

    def describe(self):
        return f"Mirror the patient's is_deleted into {self.table}.patient_deleted"

    @property
    def _names(self) -> tuple[str, str]:
        return f"mirror_deleted_{self.table}", f"take_deleted_{self.table}"

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        mirror, take = self._names
        table, column, patients = self.table, self.column, self.PATIENTS
        of_patient = f"(SELECT is_deleted FROM {patients} WHERE id = NEW.{column})"
        if schema_editor.connection.vendor == "postgresql":
            statements = [
                f"""CREATE OR REPLACE FUNCTION {mirror}() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN
                    UPDATE {table} SET patient_deleted = NEW.is_deleted
                    WHERE {column} = NEW.id AND patient_deleted IS DISTINCT FROM NEW.is_deleted;
                    RETURN NULL;
                END $$""",
                f"CREATE TRIGGER {mirror} AFTER UPDATE OF is_deleted ON {patients} FOR EACH ROW "
                f"WHEN (OLD.is_deleted IS DISTINCT FROM NEW.is_deleted) EXECUTE FUNCTION {mirror}()",
                f"""CREATE OR REPLACE FUNCTION {take}() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN
                    NEW.patient_deleted := COALESCE({of_patient}, false);
                    RETURN NEW;
                END $$""",
                f"CREATE TRIGGER {take} BEFORE INSERT OR UPDATE ON {table} FOR EACH ROW "
                f"EXECUTE FUNCTION {take}()",
            ]
        else:
            # SQLite's triggers cannot change NEW: the row is corrected right after it is written
            # (recursive triggers are off, so that UPDATE fires no trigger of its own table's).
            correct = f"UPDATE {table} SET patient_deleted = COALESCE({of_patient}, 0) WHERE id = NEW.id;"
            statements = [
                f"CREATE TRIGGER {mirror} AFTER UPDATE OF is_deleted ON {patients} FOR EACH ROW "
                f"WHEN OLD.is_deleted IS NOT NEW.is_deleted BEGIN "
                f"UPDATE {table} SET patient_deleted = NEW.is_deleted WHERE {column} = NEW.id; END",
                f"CREATE TRIGGER {take}_insert AFTER INSERT ON {table} FOR EACH ROW BEGIN {correct} END",
                f"CREATE TRIGGER {take}_update AFTER UPDATE ON {table} FOR EACH ROW "
                f"WHEN NEW.patient_deleted IS NOT COALESCE({of_patient}, 0) BEGIN {correct} END",
            ]
        backfill = (
            f"UPDATE {table} SET patient_deleted = TRUE WHERE {column} IN "
            f"(SELECT id FROM {patients} WHERE is_deleted)"
        )
        for statement in [*statements, backfill]:
            schema_editor.execute(statement)  # identifiers checked in __init__

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        mirror, take = self._names
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {mirror} ON {self.PATIENTS}")
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {take} ON {self.table}")
            schema_editor.execute(f"DROP FUNCTION IF EXISTS {mirror}()")
            schema_editor.execute(f"DROP FUNCTION IF EXISTS {take}()")
        else:
            for name in (mirror, f"{take}_insert", f"{take}_update"):
                schema_editor.execute(f"DROP TRIGGER IF EXISTS {name}")


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
        check_identifiers(table, column, *setting.split("."))
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


def widen_to_text_on_postgresql(*, table: str, column: str, max_length: int) -> RunSQLOnPostgreSQL:
    """varchar(max_length) -> text, for a column that now holds ciphertext (longer than its text).

    PostgreSQL only: varchar to text needs no table rewrite there. SQLite ignores a varchar's length
    already, and Django's AlterField would rebuild the table there, dropping its triggers (the row
    counts, KeepClinicWhileReferenced, MirrorPatientDeleted): the migration changes the state only.
    """
    check_identifiers(table, column)
    return RunSQLOnPostgreSQL(
        f"ALTER TABLE {table} ALTER COLUMN {column} TYPE text",
        # Back to varchar only after the reverse data step has put the text back in clear.
        f"ALTER TABLE {table} ALTER COLUMN {column} TYPE varchar({int(max_length)})",
    )


def encrypt_existing_rows(app_label: str, model_name: str, *, batch_size: int = 500) -> migrations.RunPython:
    """Encrypt the rows a model already has, in batches, on both engines; reversed: back in clear.

    Run it in a non-atomic migration: each batch commits on its own (no transaction over a whole
    table), and a run interrupted half-way is finished by running it again, or by
    `manage.py rotate_field_encryption_keys` (reads take both forms meanwhile).
    """

    def forwards(apps, schema_editor):
        from keneyapp.core.encrypted_fields import reencrypt_rows

        model = apps.get_model(app_label, model_name)
        reencrypt_rows(model._base_manager.using(schema_editor.connection.alias), batch_size=batch_size)

    def backwards(apps, schema_editor):
        from keneyapp.core.encrypted_fields import reencrypt_rows

        model = apps.get_model(app_label, model_name)
        reencrypt_rows(
            model._base_manager.using(schema_editor.connection.alias),
            batch_size=batch_size,
            to_plaintext=True,
        )

    return migrations.RunPython(forwards, backwards)
