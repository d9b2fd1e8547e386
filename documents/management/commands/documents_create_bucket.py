from django.core.management.base import BaseCommand

from documents.storage import ensure_bucket, uses_s3
from keneyapp.core.scoping import scopes_disabled


class Command(BaseCommand):
    help = "Create the S3 bucket named by S3_BUCKET if it does not exist (development, CI, a fresh MinIO)."

    # Provisioning: the bucket holds every clinic's documents; it reads no rows.
    @scopes_disabled()
    def handle(self, *args, **options):
        if not uses_s3():
            self.stdout.write(
                "S3_BUCKET is not set: documents are stored in DOCUMENTS_ROOT, nothing to create."
            )
            return
        created = ensure_bucket()
        self.stdout.write("Bucket created." if created else "Bucket already exists.")
