import time

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import connection

from demo import appointment_seeding, seeding
from keneyapp.core.scoping import scopes_disabled


class Command(BaseCommand):
    help = (
        "Create the demo clinics, their staff (every role), working hours, patients and "
        "appointments in bulk. Idempotent: running it again only tops the data up. Demo passwords "
        "are public: never on production."
    )

    def add_arguments(self, parser):
        parser.add_argument("--patients", type=int, default=200, help="Active patients in the first clinic.")
        parser.add_argument(
            "--other-patients", type=int, default=20, help="Active patients in the second clinic."
        )
        parser.add_argument("--appointments", type=int, default=50, help="Appointments in the first clinic.")
        parser.add_argument(
            "--other-appointments", type=int, default=10, help="Appointments in the second clinic."
        )
        parser.add_argument(
            "--messaging-staff",
            type=int,
            default=0,
            help="Extra staff demo.staff01..NN (password testpass) in the first clinic, for the websocket "
            "benchmark (40 for its 200 sockets).",
        )
        parser.add_argument("--force", action="store_true", help="Run even with DEBUG off (benchmarks).")

    # Seeding creates the demo clinics and fills each of them: it spans clinics.
    @scopes_disabled()
    def handle(self, *args, force: bool, **options):
        if not settings.DEBUG and not force:
            raise CommandError(
                "seed_demo creates accounts with public passwords; it refuses to run with DEBUG off. "
                "Use --force for a benchmark or test database."
            )
        counts = {
            name: options[name]
            for name in ("patients", "other_patients", "appointments", "other_appointments")
        }
        if any(value < 0 for value in counts.values()):
            raise CommandError("Counts must be 0 or more.")
        started = time.perf_counter()
        first, second = (seeding.ensure_clinic(spec) for spec in seeding.DEMO_CLINICS)
        if options["messaging_staff"] > 0:
            seeding.ensure_messaging_staff(
                tenant=first, count=options["messaging_staff"], password=seeding.DEMO_CLINICS[0].password
            )
        added = {"patients": 0, "appointments": 0}
        for tenant, patients, appointments in (
            (first, counts["patients"], counts["appointments"]),
            (second, counts["other_patients"], counts["other_appointments"]),
        ):
            added["patients"] += seeding.top_up_patients(
                tenant=tenant, target=patients, progress=self._progress(tenant, "patients")
            )
            added["appointments"] += appointment_seeding.top_up_appointments(
                tenant=tenant, target=appointments, progress=self._progress(tenant, "appointments")
            )
        self._refresh_statistics(added)
        elapsed = time.perf_counter() - started
        rows = sum(added.values())
        rate = rows / elapsed if elapsed and rows else 0
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo data ready: {first.name} ({counts['patients']} patients, {counts['appointments']} "
                f"appointments), {second.name} ({counts['other_patients']}, {counts['other_appointments']}); "
                f"added {added['patients']} patients and {added['appointments']} appointments "
                f"in {elapsed:.1f}s ({rate:,.0f} rows/s)."
            )
        )

    def _progress(self, tenant, what):
        return lambda done, todo: self.stdout.write(f"  {tenant.name}: {done}/{todo} {what}")

    @staticmethod
    def _refresh_statistics(added: dict) -> None:
        """Right after a bulk insert PostgreSQL believes the tables are nearly empty (and picks
        sorts over the lists' indexes) and their visibility maps are unset (no index-only COUNT)
        until autovacuum comes by: refresh both now. VACUUM cannot run inside a transaction (a
        caller's atomic block, a test): ANALYZE alone there."""
        if connection.vendor != "postgresql":
            return
        statement = "ANALYZE" if connection.in_atomic_block else "VACUUM ANALYZE"
        with connection.cursor() as cursor:
            for table, count in (
                ("patients_patient", added["patients"]),
                ("appointments_appointment", added["appointments"]),
            ):
                if count:
                    cursor.execute(f"{statement} {table}")
