# Message subjects and bodies stored encrypted (keneyapp/core/encrypted_fields.py).

from django.db import migrations

import keneyapp.core.encrypted_fields
from keneyapp.core.migration_operations import encrypt_existing_rows, widen_to_text_on_postgresql


class Migration(migrations.Migration):
    # Each batch of the data step commits on its own (see encrypt_existing_rows).
    atomic = False

    dependencies = [
        ("messaging", "0004_urgent_sweep_schedule"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="message",
                    name="body",
                    field=keneyapp.core.encrypted_fields.EncryptedTextField(),
                ),
                migrations.AlterField(
                    model_name="message",
                    name="subject",
                    field=keneyapp.core.encrypted_fields.EncryptedCharField(blank=True, max_length=200),
                ),
            ],
            database_operations=[
                widen_to_text_on_postgresql(table="messaging_message", column="subject", max_length=200),
            ],
        ),
        encrypt_existing_rows("messaging", "message"),
    ]
