"""The front desk's today page (appointments/admin_today.py) of a clinic with 200 appointments that
day, rendered in-process through Django's test client: median render time and SQL statements.

    DATABASE_URL=postgresql://.../scratch python -m bench.today_page --scratch

Standalone it migrates and empties its scratch database and seeds the demo clinic; bench/
query_counts.py also runs `measure` after its counts (same scratch database) and bench/report.py
prints it. Target: a median under 100 ms.
"""

import argparse
import os
import statistics
import sys
import time
from datetime import date, datetime, timedelta

APPOINTMENTS = 200
ROUNDS = 20
# A day of its own, far from the seeded history and horizon: only the bench's appointments.
DAY = date(2031, 3, 3)
USERNAME = "bench-front-desk"


def _book_the_day(tenant) -> None:
    from appointments.models import Appointment, AppointmentStatus
    from keneyapp.accounts.models import User
    from keneyapp.accounts.roles import CLINICAL_STAFF
    from keneyapp.core.clinic_time import clinic_zone, localize
    from patients.models import Patient

    zone = clinic_zone(tenant)
    opens = localize(datetime.combine(DAY, datetime.min.time()).replace(hour=7), zone)
    existing = Appointment.objects.filter(
        tenant=tenant, appointment_date__gte=opens, appointment_date__lt=opens + timedelta(days=1)
    )
    if existing.count() >= APPOINTMENTS:
        return
    patients = list(
        Patient.objects.filter(tenant=tenant, is_deleted=False).values_list("pk", flat=True)[:APPOINTMENTS]
    )
    providers = list(User.objects.filter(tenant=tenant, role__in=CLINICAL_STAFF).values_list("pk", flat=True))
    statuses = [AppointmentStatus.SCHEDULED, AppointmentStatus.CONFIRMED, AppointmentStatus.CHECKED_IN]
    rows = []
    # Each provider's visits follow one another (no overlap); the rest are unassigned requests.
    next_start = dict.fromkeys(providers, opens)
    for n in range(APPOINTMENTS - existing.count()):
        provider = providers[n % (len(providers) + 1)] if n % (len(providers) + 1) < len(providers) else None
        start = next_start[provider] if provider is not None else opens + timedelta(minutes=5 * (n % 120))
        if provider is not None:
            next_start[provider] = start + timedelta(minutes=10)
        rows.append(
            Appointment(
                tenant=tenant,
                patient_id=patients[n % len(patients)],
                provider_id=provider,
                appointment_date=start,
                duration_minutes=10,
                ends_at=start + timedelta(minutes=10),
                status=statuses[n % len(statuses)],
            )
        )
    Appointment.objects.bulk_create(rows)


def measure(tenant, *, rounds: int = ROUNDS) -> dict:
    """Render times (ms) of GET today/?date=DAY for a receptionist, and two baselines (_measure)."""
    from django.conf import settings
    from django.test.utils import override_settings

    from keneyapp.accounts.models import User
    from keneyapp.accounts.roles import Role
    from keneyapp.core.scoping import scopes_disabled

    with scopes_disabled():
        _book_the_day(tenant)
        desk, _ = User.objects.get_or_create(
            username=USERNAME,
            defaults={"tenant": tenant, "role": Role.RECEPTIONIST, "is_staff": True, "first_name": "Bench"},
        )
    # The admin's files without collectstatic's manifest (a scratch run has none), as the tests do.
    storages = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    with override_settings(STORAGES=storages):
        return _measure(desk, rounds)


def _measure(desk, rounds: int) -> dict:
    from django.test import Client

    from keneyapp.accounts.admin_mfa import MFA_VERIFIED

    client = Client()
    client.force_login(desk)
    session = client.session
    session[MFA_VERIFIED] = True  # as a session that passed its second factor
    session.save()
    today = "/admin/appointments/appointment/today/?date="
    # The page of the full day, and two baselines asked in the same rounds (each in every position
    # in turn), so the machine's noise falls on all alike: the same page of an empty day (the admin's
    # frame, the session, the audit) and the admin's index.
    pages = {
        "full": f"{today}{DAY.isoformat()}",
        "empty": f"{today}{(DAY + timedelta(days=1)).isoformat()}",
        "index": "/admin/",
    }
    for url in pages.values():  # warm-up: templates compiled, caches filled
        response = client.get(url)
        if response.status_code != 200:
            raise SystemExit(f"today page: HTTP {response.status_code} for {url}")
    rows = client.get(pages["full"]).content.decode().count("data-appointment=")  # one per row
    samples: dict[str, list[float]] = {name: [] for name in pages}
    order = list(pages.items())
    for round_number in range(rounds):
        shift = round_number % len(order)
        for name, url in order[shift:] + order[:shift]:
            started = time.perf_counter()
            response = client.get(url)
            samples[name].append(time.perf_counter() - started)
            if response.status_code != 200:
                raise SystemExit(f"today page: HTTP {response.status_code} mid-measurement")
    full = sorted(samples["full"])
    return {
        "median_ms": round(statistics.median(full) * 1000, 1),
        "p90_ms": round(full[int(len(full) * 0.9) - 1] * 1000, 1),
        "empty_day_ms": round(statistics.median(samples["empty"]) * 1000, 1),
        "admin_index_ms": round(statistics.median(samples["index"]) * 1000, 1),
        "rows": rows,
        "rounds": rounds,
    }


def markdown_rows(figures: dict) -> list[str]:
    return [
        f"The front desk's today page with {figures['rows']} appointments that day, rendered in-process "
        f"(Django's test client, medians of {figures['rounds']} interleaved rounds, bench/today_page.py): "
        f"**{figures['median_ms']} ms** (p90 {figures['p90_ms']} ms); the same page of an empty day "
        f"{figures['empty_day_ms']} ms, the admin's index {figures['admin_index_ms']} ms "
        "(target: under 100 ms).",
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--scratch", action="store_true", required=True, help="DATABASE_URL is a scratch database: empty it."
    )
    parser.add_argument("--rounds", type=int, default=ROUNDS)
    args = parser.parse_args(argv)
    if not os.environ.get("DATABASE_URL", "").startswith(("postgres://", "postgresql://")):
        print("today page: DATABASE_URL must name a scratch PostgreSQL database", file=sys.stderr)
        return 2
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "keneyapp.settings")
    import django

    django.setup()
    from django.core.management import call_command

    from demo import seeding
    from keneyapp.core.scoping import scopes_disabled

    call_command("migrate", verbosity=0, interactive=False)
    call_command("flush", verbosity=0, interactive=False)
    with scopes_disabled():
        tenant = seeding.ensure_clinic(seeding.DEMO_CLINICS[0])
        seeding.top_up_patients(tenant=tenant, target=APPOINTMENTS)
    figures = measure(tenant, rounds=args.rounds)
    print("\n".join(markdown_rows(figures)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
