from django.db import migrations

from keneyapp.core.migration_operations import KeepClinicWhileReferenced


class Migration(migrations.Migration):
    """A patient messaging refer to cannot move to another clinic (README: one lifecycle)."""

    dependencies = [
        ("messaging", "0001_initial"),
        ("patients", "0004_deleted_patients_index"),
    ]

    operations = [
        KeepClinicWhileReferenced(table="patients_patient", referrer="messaging_message", column="patient_id"),
    ]
