# Clinical free text stored encrypted (keneyapp/core/encrypted_fields.py).

from django.db import migrations

import keneyapp.core.encrypted_fields
from keneyapp.core.migration_operations import encrypt_existing_rows, widen_to_text_on_postgresql


class Migration(migrations.Migration):
    # Each batch of the data step commits on its own (see encrypt_existing_rows).
    atomic = False

    dependencies = [
        ("patients", "0004_deleted_patients_index"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="patient",
                    name="allergies",
                    field=keneyapp.core.encrypted_fields.EncryptedTextField(blank=True),
                ),
                migrations.AlterField(
                    model_name="patient",
                    name="emergency_contact",
                    field=keneyapp.core.encrypted_fields.EncryptedCharField(blank=True, max_length=255),
                ),
                migrations.AlterField(
                    model_name="patient",
                    name="notes",
                    field=keneyapp.core.encrypted_fields.EncryptedTextField(blank=True),
                ),
            ],
            database_operations=[
                widen_to_text_on_postgresql(
                    table="patients_patient", column="emergency_contact", max_length=255
                ),
            ],
        ),
        encrypt_existing_rows("patients", "patient"),
    ]
