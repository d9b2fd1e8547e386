from django.db import migrations

from keneyapp.core.migration_operations import KeepClinicWhileReferenced


class Migration(migrations.Migration):
    """A patient appointments refer to cannot move to another clinic (README: one lifecycle)."""

    dependencies = [
        ("appointments", "0005_covering_index_for_dashboard_counts"),
        ("patients", "0004_deleted_patients_index"),
    ]

    operations = [
        KeepClinicWhileReferenced(table="patients_patient", referrer="appointments_appointment", column="patient_id"),
    ]
