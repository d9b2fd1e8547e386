# Clinical free text stored encrypted (keneyapp/core/encrypted_fields.py). TimeOff.reason is a
# provider's, not a patient's: it stays in clear.

from django.db import migrations

import keneyapp.core.encrypted_fields
from keneyapp.core.migration_operations import encrypt_existing_rows, widen_to_text_on_postgresql


class Migration(migrations.Migration):
    # Each batch of the data step commits on its own (see encrypt_existing_rows).
    atomic = False

    dependencies = [
        ("appointments", "0011_appointment_arrived_at"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="appointment",
                    name="cancellation_reason",
                    field=keneyapp.core.encrypted_fields.EncryptedCharField(blank=True, max_length=255),
                ),
                migrations.AlterField(
                    model_name="appointment",
                    name="notes",
                    field=keneyapp.core.encrypted_fields.EncryptedTextField(blank=True),
                ),
                migrations.AlterField(
                    model_name="appointment",
                    name="reason",
                    field=keneyapp.core.encrypted_fields.EncryptedCharField(blank=True, max_length=255),
                ),
            ],
            database_operations=[
                widen_to_text_on_postgresql(
                    table="appointments_appointment", column="cancellation_reason", max_length=255
                ),
                widen_to_text_on_postgresql(
                    table="appointments_appointment", column="reason", max_length=255
                ),
            ],
        ),
        encrypt_existing_rows("appointments", "appointment"),
    ]
