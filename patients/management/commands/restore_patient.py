"""Undo a patient's soft delete (there is no restore in the API or the admin: deleting is for staff,
bringing a record back is an operator's decision). Recorded in the clinic's audit trail."""

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from keneyapp.accounts.models import Tenant
from keneyapp.core import audit
from keneyapp.core.scoping import scope
from patients.services import patient_restore


class Command(BaseCommand):
    help = "Restore a soft-deleted patient of a clinic (named by its slug), and record it in its audit trail."

    def add_arguments(self, parser):
        parser.add_argument("clinic", help="The clinic's slug.")
        parser.add_argument("patient_id", type=int)

    def handle(self, *args, clinic, patient_id, **options):
        tenant = Tenant.objects.filter(slug=clinic).first()
        if tenant is None:
            raise CommandError(f"No clinic {clinic!r}.")
        # The command names its clinic: its scope, and its trail (the restore is stored with it).
        with (
            scope(tenant=tenant.pk),
            audit.audited(audit.Door.COMMAND, route="restore_patient", tenant_id=tenant.pk),
        ):
            try:
                patient = patient_restore(tenant=tenant, patient_id=patient_id)
            except ValidationError as refused:
                raise CommandError(" ".join(refused.messages)) from None
        self.stdout.write(self.style.SUCCESS(f"Patient {patient.pk} of {tenant.slug} restored."))
