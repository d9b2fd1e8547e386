from django.db import migrations

from keneyapp.core.migration_operations import KeepClinicWhileReferenced


class Migration(migrations.Migration):
    """A patient documents refer to cannot move to another clinic (README: one lifecycle)."""

    dependencies = [
        ("documents", "0003_stale_report_sweep_schedule"),
        ("patients", "0004_deleted_patients_index"),
    ]

    operations = [
        KeepClinicWhileReferenced(table="patients_patient", referrer="documents_document", column="patient_id"),
    ]
