"""What encrypting clinical free text costs (keneyapp/core/encrypted_fields.py), measured in-process.

Two parts, both in the scratch database bench/query_counts.py has just counted in (it calls this):

- per value: encrypt_text and decrypt_text of a short text (a reason), a note and a long message
  body, medians of interleaved rounds, in µs;
- per request: two clinics made for the measurement, identical but for how their rows were
  written: "on" with FIELD_ENCRYPTION on (every non-empty text encrypted), "off" with it off (the
  same text in clear: reads pass it through). The same requests are sent to each, alternately (on,
  off, then off, on), through Django's test client with the response cache off
  (CACHE_API_RESPONSES=0), so every request reads and decrypts its rows: the cost at its largest.
  With the cache on (production), a cached answer decrypts nothing; a miss pays what is shown.

    DATABASE_URL=postgresql://.../scratch python -m bench.encryption_cost   (prints the table)
"""

import json
import os
import statistics
import sys
import time

VALUE_ROUNDS = 5_000
REQUEST_ROUNDS = 60
ROWS = 50  # patients and messages per clinic: one full page of each list
TEXTS = {
    "reason (30 chars)": "Follow-up after penicillin rash",
    "note (500 chars)": ("Allergic to penicillin (rash, 2019). Asthma, salbutamol as needed. " * 8)[:500],
    "message body (5,000 chars)": ("Results back: potassium 5.9 mmol/L, please review today. " * 90)[:5000],
}
ENDPOINTS = (
    ("GET /patients (50 rows)", "/api/v1/patients?limit=50"),
    ("GET /patients/{id}", "/api/v1/patients/{patient}"),
    ("GET /messages (50 rows)", "/api/v1/messages?limit=50"),
)


def _median_us(samples: list[float]) -> float:
    return round(statistics.median(samples) * 1e6, 2)


def _median_ms(samples: list[float]) -> float:
    return round(statistics.median(samples) * 1e3, 3)


def value_costs(*, rounds: int = VALUE_ROUNDS) -> dict:
    from keneyapp.core.encrypted_fields import decrypt_text, encrypt_text

    figures = {}
    for label, text in TEXTS.items():
        stored = encrypt_text(text)
        encrypt, decrypt = [], []
        clock = time.perf_counter
        for round_number in range(rounds):
            # Each operation first in turn, so the machine's noise falls on both alike.
            for name in ("encrypt", "decrypt") if round_number % 2 else ("decrypt", "encrypt"):
                started = clock()
                if name == "encrypt":
                    encrypt_text(text)
                    encrypt.append(clock() - started)
                else:
                    decrypt_text(stored)
                    decrypt.append(clock() - started)
        figures[label] = {
            "chars": len(text),
            "stored_chars": len(stored),
            "encrypt_us": _median_us(encrypt),
            "decrypt_us": _median_us(decrypt),
        }
    return figures


def _clinic(side: str):
    """A clinic of ROWS patients (every encrypted field filled) and ROWS messages to its doctor."""
    from django.test import override_settings

    from keneyapp.accounts.models import Tenant, User
    from keneyapp.core.scoping import scope
    from messaging.services import message_send
    from patients.services import patient_create

    tenant = Tenant.objects.create(
        slug=f"bench-encryption-{side}", name=f"Encryption {side}", mfa_required_roles=[]
    )
    doctor = User.objects.create_user(f"enc.{side}.doctor", tenant=tenant, role="doctor", is_staff=True)
    nurse = User.objects.create_user(f"enc.{side}.nurse", tenant=tenant, role="nurse", is_staff=True)
    with override_settings(FIELD_ENCRYPTION=side == "on"), scope(tenant=tenant.pk):
        first = None
        for number in range(ROWS):
            patient = patient_create(
                tenant=tenant,
                created_by=doctor,
                data={
                    "first_name": "Awa",
                    "last_name": f"Diop{number:03d}",
                    "date_of_birth": "1980-05-17",
                    "emergency_contact": "Moussa Diop +221 77 000 00 01",
                    "allergies": TEXTS["reason (30 chars)"],
                    "notes": TEXTS["note (500 chars)"],
                },
            )
            first = first or patient
            message_send(
                sender=nurse, receiver_id=doctor.pk, subject="Results", body=TEXTS["note (500 chars)"]
            )
    return doctor, first


def request_costs(*, rounds: int = REQUEST_ROUNDS) -> dict:
    from django.db import connection
    from django.test import Client, override_settings

    from keneyapp.accounts import tokens
    from keneyapp.core.encrypted_fields import PREFIX

    clinics = {side: _clinic(side) for side in ("on", "off")}
    # The column as stored (raw SQL, no field conversion): each clinic is what its side claims.
    with connection.cursor() as cursor:
        for side, (_, first) in clinics.items():
            cursor.execute("SELECT notes FROM patients_patient WHERE id = %s", [first.pk])
            if cursor.fetchone()[0].startswith(PREFIX) != (side == "on"):
                raise SystemExit(f"encryption cost: the {side} clinic's rows are not stored as intended")
    client = Client()
    headers = {
        side: {"HTTP_AUTHORIZATION": f"Bearer {tokens.issue_access_token(user=doctor)}"}
        for side, (doctor, _) in clinics.items()
    }
    samples = {side: {key: [] for key, _ in ENDPOINTS} for side in clinics}
    failures = 0
    clock = time.perf_counter
    with override_settings(CACHE_API_RESPONSES=False):
        for round_number in range(rounds + 1):
            order = ("on", "off") if round_number % 2 else ("off", "on")
            for key, path in ENDPOINTS:
                for side in order:
                    url = path.format(patient=clinics[side][1].pk)
                    started = clock()
                    response = client.get(url, **headers[side])
                    elapsed = clock() - started
                    if response.status_code != 200:
                        failures += 1
                    elif round_number > 0:  # the first round warms the connection and caches
                        samples[side][key].append(elapsed)
    endpoints = {}
    for key, _ in ENDPOINTS:
        on, off = _median_ms(samples["on"][key]), _median_ms(samples["off"][key])
        endpoints[key] = {
            "on_ms": on,
            "off_ms": off,
            "added_ms": round(on - off, 3),
            "ratio": round(on / off, 3),
        }
    return {"rounds": rounds, "rows": ROWS, "endpoints": endpoints, "failures": failures}


def measure() -> dict:
    return {"values": value_costs(), "requests": request_costs()}


def markdown_rows(figures: dict) -> list[str]:
    requests = figures["requests"]
    lines = [
        "Clinical free text encrypted at rest (AES-256-GCM, bench/encryption_cost.py), in-process. "
        f"Per value, medians of {VALUE_ROUNDS:,} interleaved rounds:",
        "",
        "| Text | stored chars | encrypt µs | decrypt µs |",
        "|---|---|---|---|",
    ]
    for label, row in figures["values"].items():
        lines.append(f"| {label} | {row['stored_chars']:,} | {row['encrypt_us']} | {row['decrypt_us']} |")
    lines += [
        "",
        f"Per request: two clinics of {requests['rows']} patients and {requests['rows']} messages, "
        "their text written encrypted (on) or in clear (off), the same requests alternately, "
        f"response cache off (every request decrypts its rows), medians of {requests['rounds']} rounds:",
        "",
        "| Endpoint | p50 ms on / off | added ms | on / off |",
        "|---|---|---|---|",
    ]
    for key, row in requests["endpoints"].items():
        lines.append(
            f"| {key} | {row['on_ms']:.2f} / {row['off_ms']:.2f} | **{row['added_ms']:.2f}** "
            f"| {row['ratio']:.2f} |"
        )
    return lines


def main() -> int:
    if not os.environ.get("DATABASE_URL", "").startswith(("postgres://", "postgresql://")):
        print("encryption cost: DATABASE_URL must name a scratch PostgreSQL database", file=sys.stderr)
        return 2
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "keneyapp.settings")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)
    call_command("flush", verbosity=0, interactive=False)
    figures = measure()
    print(json.dumps(figures, indent=2))
    print("\n".join(markdown_rows(figures)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
