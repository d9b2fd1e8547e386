import time

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import connection

from keneyapp.demo import seeding


class Command(BaseCommand):
    help = (
        "Create the demo clinics, their staff (every role) and patients in bulk. Idempotent: "
        "running it again only tops the data up. Demo passwords are public: never on production."
    )

    def add_arguments(self, parser):
        parser.add_argument("--patients", type=int, default=200, help="Active patients in the first clinic.")
        parser.add_argument(
            "--other-patients", type=int, default=20, help="Active patients in the second clinic."
        )
        parser.add_argument("--force", action="store_true", help="Run even with DEBUG off (benchmarks).")

    def handle(self, *args, patients: int, other_patients: int, force: bool, **options):
        if not settings.DEBUG and not force:
            raise CommandError(
                "seed_demo creates accounts with public passwords; it refuses to run with DEBUG off. "
                "Use --force for a benchmark or test database."
            )
        if patients < 0 or other_patients < 0:
            raise CommandError("Patient counts must be 0 or more.")
        started = time.perf_counter()
        first, second = (seeding.ensure_clinic(spec) for spec in seeding.DEMO_CLINICS)
        total_added = 0
        for tenant, target in ((first, patients), (second, other_patients)):
            added = seeding.top_up_patients(
                tenant=tenant,
                target=target,
                progress=lambda done, todo, name=tenant.name: self.stdout.write(
                    f"  {name}: {done}/{todo} patients"
                ),
            )
            total_added += added
        if total_added and connection.vendor == "postgresql":
            # Right after a bulk insert PostgreSQL believes the table is nearly empty (and picks a
            # sort over the list's index) and its visibility map is unset (no index-only COUNT)
            # until autovacuum comes by: refresh both now.
            # VACUUM cannot run inside a transaction (a caller's atomic block, a test): ANALYZE there.
            statement = "ANALYZE" if connection.in_atomic_block else "VACUUM ANALYZE"
            with connection.cursor() as cursor:
                cursor.execute(f"{statement} patients_patient")
        elapsed = time.perf_counter() - started
        rate = total_added / elapsed if elapsed and total_added else 0
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo data ready: {first.name} ({patients} patients), {second.name} ({other_patients}); "
                f"added {total_added} patients in {elapsed:.1f}s ({rate:,.0f} rows/s)."
            )
        )
