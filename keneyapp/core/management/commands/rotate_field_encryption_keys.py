"""Re-encrypt, under the newest FIELD_ENCRYPTION_KEYS key, every stored value that is not under it.

Rotation: put the new key first in FIELD_ENCRYPTION_KEYS (the old one after it), restart, run
this; once it reports nothing left, the old key can be removed. It also encrypts text left in clear
(written with FIELD_ENCRYPTION off, or by an interrupted data migration).
"""

from django.apps import apps
from django.core.management.base import BaseCommand, CommandError

from keneyapp.core import audit
from keneyapp.core.encrypted_fields import encrypted_field_names, keyring, reencrypt_rows
from keneyapp.core.scoping import scope


def encrypted_models() -> list:
    """Every installed model with an encrypted field, found by field type: core names no domain."""
    return [model for model in apps.get_models() if encrypted_field_names(model)]


class Command(BaseCommand):
    help = (
        "Re-encrypt clinical free text stored under an older FIELD_ENCRYPTION_KEYS key (or in clear) "
        "under the newest key, clinic by clinic, in batches; safe to run again (it finds nothing)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--batch-size", type=int, default=500, help="Rows per UPDATE (default 500).")

    def handle(self, *args, batch_size=500, **options):
        if batch_size < 1:
            raise CommandError("--batch-size must be at least 1.")
        newest = keyring().newest.key_id
        models = encrypted_models()
        # The clinics are listed by model name (core imports no account module); each clinic's rows
        # are then read and rewritten inside its own scope, and the run recorded in its trail.
        clinic_ids = apps.get_model("accounts", "Tenant").objects.order_by("pk").values_list("pk", flat=True)
        totals = dict.fromkeys((model._meta.label for model in models), 0)
        for clinic_id in clinic_ids:
            with (
                scope(tenant=clinic_id),
                audit.audited(audit.Door.COMMAND, route="rotate_field_encryption_keys", tenant_id=clinic_id),
            ):
                for model in models:
                    rewritten = reencrypt_rows(
                        model.objects.filter(tenant_id=clinic_id), batch_size=batch_size
                    )
                    if rewritten:
                        # Which fields were rewritten, never a value (as every change event).
                        audit.record(audit.Action.CHANGE, model, fields=encrypted_field_names(model))
                    totals[model._meta.label] += rewritten
        for label, rewritten in totals.items():
            self.stdout.write(f"{label}: {rewritten} rows re-encrypted")
        self.stdout.write(f"Every encrypted value is now under key id {newest}.")
