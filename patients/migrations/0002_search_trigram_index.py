"""Trigram index for patient search on PostgreSQL (LIKE '%term%' on search_text).

PostgreSQL-only, so it is raw SQL that does nothing on SQLite, where the search scans the
clinic's rows instead (fine at a demo's size). Creating pg_trgm needs a role allowed to create
extensions; on managed databases enable it once by hand if the migration user cannot.
"""

from django.db import migrations

from keneyapp.core.migration_operations import RunSQLOnPostgreSQL

CREATE = """
CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE INDEX IF NOT EXISTS idx_patient_search_trgm
    ON patients_patient USING gin (search_text gin_trgm_ops) WHERE NOT is_deleted;
"""
DROP = "DROP INDEX IF EXISTS idx_patient_search_trgm;"


class Migration(migrations.Migration):
    dependencies = [("patients", "0001_initial")]

    operations = [RunSQLOnPostgreSQL(CREATE, DROP, elidable=False)]
