"""SQL statements per request, counted in-process with 10 and with 1,000 rows (patients and
appointments) behind each endpoint.

    DATABASE_URL=postgresql://.../scratch python -m bench.query_counts --scratch --output counts.json

It runs on a scratch database of its own (bench/run.py passes one): it migrates it, empties it
(`flush`), seeds the demo clinic with `demo.seeding`, and sends each request twice through
Django's test client, counting the second (warm caches) with CaptureQueriesContext. The counts must
not depend on the number of rows; later issues add their endpoints to ENDPOINTS.
"""

import argparse
import json
import os
import sys
from dataclasses import dataclass
from pathlib import Path

SIZES = (10, 1000)


@dataclass(frozen=True)
class Probe:
    key: str  # as the report names endpoints
    method: str
    path: str  # "{id}" becomes the patient the probe works on
    body: dict | None = None
    expected_status: int = 200


NEW_PATIENT = {"first_name": "Query", "last_name": "Count", "date_of_birth": "1980-02-29", "sex": "male"}
# The guide's appointment body; FIRST becomes the id of the clinic's first patient.
NEW_APPOINTMENT = {"patient_id": "FIRST", "appointment_date": "2025-12-15T10:00:00", "reason": "Check-up"}
# In order: reads first, then a create, and an edit and a delete of the created patient, so every
# pass leaves the clinic with as many patients as it found.
ENDPOINTS = (
    Probe("POST /auth/login", "post", "/api/v1/auth/login", {"username": "testuser", "password": "testpass"}),
    Probe("GET /auth/me", "get", "/api/v1/auth/me"),
    Probe("GET /patients", "get", "/api/v1/patients"),
    Probe("GET /patients?search=", "get", "/api/v1/patients?search={name}"),
    Probe("GET /patients?fields=id&limit=100", "get", "/api/v1/patients?fields=id&limit=100"),
    Probe("GET /patients/{id}", "get", "/api/v1/patients/{first}"),
    Probe("POST /patients", "post", "/api/v1/patients", NEW_PATIENT, expected_status=201),
    Probe("PATCH /patients/{id}", "patch", "/api/v1/patients/{created}", {"notes": "Counted."}),
    Probe("DELETE /patients/{id}", "delete", "/api/v1/patients/{created}", expected_status=204),
    Probe("GET /appointments", "get", "/api/v1/appointments"),
    Probe(
        "GET /appointments?date_from=&date_to=",
        "get",
        "/api/v1/appointments?date_from=2020-01-01&date_to=2035-12-31",
    ),
    Probe("GET /patients/{id}/appointments", "get", "/api/v1/patients/{first}/appointments"),
    Probe(
        "GET /appointments/availability",
        "get",
        "/api/v1/appointments/availability?provider_id={provider}&date_from={today}&date_to={month}",
    ),
    Probe("POST /appointments", "post", "/api/v1/appointments", NEW_APPOINTMENT, expected_status=201),
    Probe("GET /appointments/{id}", "get", "/api/v1/appointments/{appointment}"),
    Probe("PATCH /appointments/{id}", "patch", "/api/v1/appointments/{appointment}", {"notes": "Counted."}),
    Probe(
        "POST /appointments/{id}/cancel",
        "post",
        "/api/v1/appointments/{appointment}/cancel",
        {"reason": "Counted."},
    ),
    Probe("GET /dashboard/stats", "get", "/api/v1/dashboard/stats"),
    Probe("GET /healthz", "get", "/healthz"),
)


def measure_pass(client, token: str, first: dict) -> dict[str, tuple[int, int]]:
    """{endpoint: (statements, status)} for one pass over ENDPOINTS."""
    from datetime import timedelta

    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    results = {}
    created = appointment = None
    today = timezone.localdate()
    for probe in ENDPOINTS:
        path = probe.path.format(
            first=first["id"],
            name=first["last_name"],
            created=created,
            appointment=appointment,
            provider=first["provider"],
            today=today,
            month=today + timedelta(days=30),
        )
        kwargs = {"HTTP_AUTHORIZATION": f"Bearer {token}"}
        if probe.body is not None:
            body = {key: first["id"] if value == "FIRST" else value for key, value in probe.body.items()}
            kwargs.update(data=json.dumps(body), content_type="application/json")
        with CaptureQueriesContext(connection) as queries:
            response = getattr(client, probe.method)(path, **kwargs)
        if probe.key == "POST /patients" and response.status_code == 201:
            created = response.json()["id"]
        if probe.key == "POST /appointments" and response.status_code == 201:
            appointment = response.json()["id"]
        results[probe.key] = (len(queries), response.status_code)
    return results


def count_queries() -> dict:
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client

    from demo import appointment_seeding, seeding
    from keneyapp.accounts.models import User
    from keneyapp.core.scoping import scopes_disabled
    from patients.models import Patient

    call_command("migrate", verbosity=0, interactive=False)
    call_command("flush", verbosity=0, interactive=False)
    with scopes_disabled():  # seeding, as seed_demo does
        tenant = seeding.ensure_clinic(seeding.DEMO_CLINICS[0])
    client = Client()
    login = client.post(
        "/api/v1/auth/login",
        data=json.dumps({"username": "testuser", "password": "testpass"}),
        content_type="application/json",
    )
    if login.status_code != 200:
        raise SystemExit(f"query counts: login failed with HTTP {login.status_code}: {login.content!r}")
    token = login.json()["access_token"]

    per_size = {}
    for size in SIZES:
        # The requests measured below go through the real doors, each entering its own scope.
        with scopes_disabled():
            seeding.top_up_patients(tenant=tenant, target=size)
            appointment_seeding.top_up_appointments(tenant=tenant, target=size)
            # The search looks for the first patient's name, so it finds rows at every size.
            first = (
                Patient.objects.filter(tenant=tenant, is_deleted=False)
                .order_by("id")
                .values("id", "last_name")[0]
            )
        first["provider"] = User.objects.get(username="testuser").pk
        measure_pass(client, token, first)  # warms caches (tenant, user, throttling state)
        per_size[size] = measure_pass(client, token, first)

    endpoints = {}
    for probe in ENDPOINTS:
        statuses = [per_size[size][probe.key][1] for size in SIZES]
        endpoints[probe.key] = {
            "queries": {str(size): per_size[size][probe.key][0] for size in SIZES},
            "statuses": statuses,
            "ok": all(status == probe.expected_status for status in statuses),
        }
    from bench import encryption_cost, revocation_cost, today_page

    return {
        "database": connection.settings_dict["NAME"],
        "sizes": list(SIZES),
        "endpoints": endpoints,
        "revocation": revocation_cost.measure(User.objects.get(username="testuser")),
        "today_page": today_page.measure(tenant),
        # After the counts: it adds two clinics of its own to the scratch database.
        "encryption": encryption_cost.measure(),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", type=Path, required=True)
    parser.add_argument(
        "--scratch", action="store_true", required=True, help="DATABASE_URL is a scratch database: empty it."
    )
    args = parser.parse_args(argv)
    if not os.environ.get("DATABASE_URL", "").startswith(("postgres://", "postgresql://")):
        print("query counts: DATABASE_URL must name a scratch PostgreSQL database", file=sys.stderr)
        return 2
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "keneyapp.settings")
    import django

    django.setup()
    args.output.write_text(json.dumps(count_queries(), indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
