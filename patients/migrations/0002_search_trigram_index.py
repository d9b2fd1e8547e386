"""Trigram index for patient search on PostgreSQL (LIKE '%term%' on search_text).

PostgreSQL-only, so it is raw SQL that does nothing on SQLite, where the search scans the
clinic's rows instead (fine at a demo's size). Creating pg_trgm needs a role allowed to create
extensions; on managed databases enable it once by hand if the migration user cannot.
"""

from django.db import migrations

CREATE = """
CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE INDEX IF NOT EXISTS idx_patient_search_trgm
    ON patients_patient USING gin (search_text gin_trgm_ops) WHERE NOT is_deleted;
"""
DROP = "DROP INDEX IF EXISTS idx_patient_search_trgm;"


def create_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE)


def drop_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP)


class Migration(migrations.Migration):
    dependencies = [("patients", "0001_initial")]

    operations = [migrations.RunPython(create_index, drop_index, elidable=False)]
