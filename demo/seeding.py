"""Demo and benchmark data: two clinics, staff of every role, and patients in bulk.

The guide's load test runs unchanged against it: the first clinic owns patient id 1 and has
`testuser` / `testpass`.
"""

import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from demo.bulk_insert import insert_rows
from keneyapp.accounts.models import Tenant, User
from keneyapp.accounts.roles import Role
from keneyapp.core.text import fold_for_search
from patients.cache import invalidate_patients
from patients.models import Patient, Sex
from patients.services import allocate_record_numbers, format_record_number, patient_search_text

FIRST_NAMES = [
    "Aminata",
    "Moussa",
    "Fatou",
    "Ibrahima",
    "Awa",
    "Cheikh",
    "Mariama",
    "Ousmane",
    "Khady",
    "Mamadou",
    "Éloïse",
    "Noël",
    "Zoé",
    "Lucas",
    "Léa",
    "Hugo",
    "Chloé",
    "Louis",
    "Inès",
    "Jules",
    "Sofia",
    "Mateo",
    "Amara",
    "Yusuf",
    "Hana",
    "Omar",
    "Leila",
    "Tariq",
    "Nadia",
    "Samuel",
]
LAST_NAMES = [
    "Diop",
    "Ndiaye",
    "Fall",
    "Sow",
    "Gueye",
    "Sarr",
    "Faye",
    "Ba",
    "Cissé",
    "Diallo",
    "Martin",
    "Bernard",
    "Dubois",
    "Lefèvre",
    "Moreau",
    "Laurent",
    "Girard",
    "Roux",
    "Fournier",
    "Müller",
    "García",
    "Rossi",
    "Okafor",
    "Mensah",
    "Haddad",
    "Nguyen",
    "Kowalski",
    "Silva",
    "Jensen",
    "Öztürk",
]
BATCH_SIZE = 5000


@dataclass(frozen=True)
class DemoClinic:
    slug: str
    name: str
    timezone: str
    password: str
    staff: tuple[tuple[str, Role, str, str], ...]  # username, role, first name, last name


DEMO_CLINICS = (
    DemoClinic(
        slug="keney-demo",
        name="Keney Demo Clinic",
        timezone="Africa/Dakar",
        password="testpass",
        staff=(
            ("testuser", Role.DOCTOR, "Test", "User"),
            ("demo.admin", Role.ADMIN, "Awa", "Admin"),
            ("demo.nurse", Role.NURSE, "Nadia", "Nurse"),
            ("demo.reception", Role.RECEPTIONIST, "Rama", "Reception"),
        ),
    ),
    DemoClinic(
        slug="other-clinic",
        name="Other Clinic",
        timezone="Europe/Paris",
        password="otherpass",
        staff=(
            ("otheruser", Role.DOCTOR, "Other", "User"),
            ("other.admin", Role.ADMIN, "Olivier", "Admin"),
        ),
    ),
)


def ensure_clinic(spec: DemoClinic) -> Tenant:
    tenant, _ = Tenant.objects.get_or_create(
        slug=spec.slug, defaults={"name": spec.name, "timezone": spec.timezone}
    )
    if tenant.mfa_required_roles:
        # The demo clinics require no second factor of any role (a real clinic requires it of its
        # administrators by default): demo.admin must log in with testpass alone, for `make run`,
        # the benchmark's load test and .ci/schemathesis.sh. Set again on a clinic seeded before.
        tenant.mfa_required_roles = []
        tenant.save(update_fields=["mfa_required_roles"])
    for username, role, first_name, last_name in spec.staff:
        user = User.objects.filter(username=username).first()
        if user is None:
            user = User(
                username=username,
                tenant=tenant,
                role=role,
                first_name=first_name,
                last_name=last_name,
                email=f"{username}@example.org",
                is_staff=True,
            )
            # Set directly, past AUTH_PASSWORD_VALIDATORS (which refuse "testpass"): these are the
            # demo's documented public passwords, for the embedded defaults and the benchmark's
            # load test only (seed_demo refuses to run with DEBUG off unless forced), never a real
            # clinic's account, which gets its password through create_tenant or the admin.
            user.set_password(spec.password)
            user.save()
    return tenant


# Extra staff of the first clinic for the websocket benchmark (bench/websocket_latency.py): 200
# open sockets need at least 40 people at the guide's 5 sockets per person.
MESSAGING_STAFF_USERNAME = "demo.staff{:02d}"
MESSAGING_STAFF_ROLES = (Role.NURSE, Role.RECEPTIONIST, Role.DOCTOR)


def ensure_messaging_staff(*, tenant: Tenant, count: int, password: str) -> int:
    """demo.staff01 ... demo.staffNN in `tenant` (idempotent); returns how many were added. The
    password is hashed once for all of them (Argon2 costs ~50 ms a hash by design)."""
    from django.contrib.auth.hashers import make_password

    wanted = {MESSAGING_STAFF_USERNAME.format(n): n for n in range(1, count + 1)}
    existing = set(User.objects.filter(username__in=wanted).values_list("username", flat=True))
    missing = [(name, n) for name, n in wanted.items() if name not in existing]
    if not missing:
        return 0
    hashed = make_password(password)  # the demo's public password, past the policy (ensure_clinic says why)
    User.objects.bulk_create(
        User(
            username=name,
            tenant=tenant,
            role=MESSAGING_STAFF_ROLES[n % len(MESSAGING_STAFF_ROLES)],
            first_name="Staff",
            last_name=f"{n:02d}",
            email=f"{name}@example.org",
            is_staff=True,
            password=hashed,
        )
        for name, n in missing
    )
    return len(missing)


REGISTER_YEARS = 3


def generated_patients(*, tenant: Tenant, count: int, seed: int) -> list[Patient]:
    """`count` plausible patients with fresh record numbers (not yet saved)."""
    numbers = allocate_record_numbers(tenant=tenant, count=count)
    return [Patient(**values) for values in _patient_values(tenant_id=tenant.pk, numbers=numbers, seed=seed)]


def _patient_values(*, tenant_id: int, numbers: range, seed: int) -> Iterator[dict]:
    """Field values (by attribute name) of one plausible patient per record number."""
    rng = random.Random(seed)
    now = timezone.now()
    today = timezone.localdate()
    for number in numbers:
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        mrn = format_record_number(number)
        email = fold_for_search(f"{first}.{last}.{number}@example.org")
        phone = (
            f"+221 7{rng.randint(0, 9)} {rng.randint(100, 999)} {rng.randint(10, 99)} {rng.randint(10, 99)}"
        )
        yield {
            "tenant_id": tenant_id,
            "mrn": mrn,
            "first_name": first,
            "last_name": last,
            "date_of_birth": today - timedelta(days=rng.randint(0, 95 * 365)),
            "sex": rng.choice([Sex.FEMALE, Sex.MALE]),
            "email": email,
            "phone_number": phone,
            "allergies": rng.choice(["", "", "", "Penicillin", "Peanuts", "Latex"]),
            # Registered over the clinic's last three years, as a real register grows (all on
            # the seeding day would make "new this month" count the whole clinic).
            "created_at": now - timedelta(seconds=rng.uniform(0, REGISTER_YEARS * 365 * 86_400)),
            "search_text": patient_search_text(
                first_name=first, last_name=last, email=email, phone_number=phone, mrn=mrn
            ),
        }


def top_up_patients(*, tenant: Tenant, target: int, progress=None) -> int:
    """Insert patients until the clinic has `target` active ones; returns how many were added."""
    missing = target - Patient.objects.filter(tenant=tenant, is_deleted=False).count()
    added = 0
    while added < max(missing, 0):
        batch = min(BATCH_SIZE, missing - added)
        with transaction.atomic():
            # Numbers first: no other statement may run on the connection while COPY streams.
            numbers = allocate_record_numbers(tenant=tenant, count=batch)
            insert_rows(
                Patient,
                _patient_values(tenant_id=tenant.pk, numbers=numbers, seed=tenant.pk * 1_000_003 + added),
            )
        added += batch
        if progress:
            progress(added, missing)
    if added:
        invalidate_patients(tenant_id=tenant.pk)
    return added
