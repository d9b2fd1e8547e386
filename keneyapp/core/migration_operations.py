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
