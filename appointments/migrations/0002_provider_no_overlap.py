"""A provider can never hold two overlapping appointments that still hold their time.

On PostgreSQL the database enforces it with an exclusion constraint (GiST over the provider and
the [start, end) range; btree_gist supplies the equality operator for the provider id). SQLite has
no such constraint: there the booking service checks inside an IMMEDIATE transaction.
"""

from django.db import migrations

from keneyapp.core.migration_operations import RunSQLOnPostgreSQL

CONSTRAINT = "appointment_provider_no_overlap"
CREATE = f"""
CREATE EXTENSION IF NOT EXISTS btree_gist;
ALTER TABLE appointments_appointment ADD CONSTRAINT {CONSTRAINT}
    EXCLUDE USING gist (provider_id WITH =, tstzrange(appointment_date, ends_at, '[)') WITH &&)
    WHERE (provider_id IS NOT NULL AND status NOT IN ('cancelled', 'no_show'));
"""
DROP = f"ALTER TABLE appointments_appointment DROP CONSTRAINT IF EXISTS {CONSTRAINT};"


class Migration(migrations.Migration):
    dependencies = [("appointments", "0001_initial")]

    operations = [RunSQLOnPostgreSQL(CREATE, DROP, elidable=False)]
