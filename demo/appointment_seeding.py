"""Demo and benchmark appointments: working hours for the demo providers, and appointments in
bulk over the past three years and the next one.

Providers' appointments are laid end to end (never overlapping, as the exclusion constraint
demands); unassigned requests are spread at random.
"""

import random
from datetime import time, timedelta

from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from appointments.models import Appointment, AppointmentStatus, WorkingHours
from demo.bulk_insert import insert_rows
from keneyapp.accounts.models import Tenant, User
from keneyapp.accounts.roles import CLINICAL_STAFF
from keneyapp.core.signals import clinic_data_changed
from patients.models import Patient

BATCH_SIZE = 5000
SLOT = timedelta(minutes=30)
HISTORY = timedelta(days=3 * 365)
HORIZON = timedelta(days=365)
WEEKLY_HOURS = [
    (day, start, end) for day in range(5) for start, end in ((time(8), time(12)), (time(14), time(18)))
]
# A fifth of the appointments have a provider: laid end to end from three years back, that keeps
# two providers' calendars within the seeded period at the benchmark's 500,000 appointments.
ASSIGNED_SHARE = 0.2
REASONS = ["Check-up", "Follow-up", "Vaccination", "Lab results", "Prenatal visit", "Dressing change", ""]


def ensure_working_hours(tenant: Tenant) -> list[User]:
    providers = list(User.objects.filter(tenant=tenant, role__in=CLINICAL_STAFF).order_by("pk"))
    for provider in providers:
        if not WorkingHours.objects.filter(provider=provider).exists():
            WorkingHours.objects.bulk_create(
                WorkingHours(tenant=tenant, provider=provider, weekday=day, starts_at=start, ends_at=end)
                for day, start, end in WEEKLY_HOURS
            )
    return providers


def _status(starts_at, now, rng: random.Random) -> str:
    roll = rng.random()
    if starts_at < now:
        if roll < 0.80:
            return AppointmentStatus.COMPLETED
        return AppointmentStatus.NO_SHOW if roll < 0.88 else AppointmentStatus.CANCELLED
    return AppointmentStatus.SCHEDULED if roll < 0.7 else AppointmentStatus.CONFIRMED


def top_up_appointments(*, tenant: Tenant, target: int, progress=None) -> int:
    """Insert appointments until the clinic has `target`; returns how many were added."""
    providers = ensure_working_hours(tenant)
    missing = target - Appointment.objects.filter(tenant=tenant).count()
    if missing <= 0:
        return 0
    patient_ids = list(Patient.objects.filter(tenant=tenant, is_deleted=False).values_list("pk", flat=True))
    if not patient_ids:
        return 0
    rng = random.Random(tenant.pk * 7919 + missing)
    now = timezone.now()
    start_of_history = (now - HISTORY).replace(minute=0, second=0, microsecond=0)
    # Each provider's next free slot: after their latest appointment, or three years back.
    next_slot = {}
    for provider in providers:
        latest = Appointment.objects.filter(provider=provider).aggregate(last=Max("ends_at"))["last"]
        next_slot[provider.pk] = max(latest or start_of_history, start_of_history)
    added = 0
    while added < missing:
        batch = []
        for _ in range(min(BATCH_SIZE, missing - added)):
            provider = rng.choice(providers) if providers and rng.random() < ASSIGNED_SHARE else None
            if provider is not None:
                starts_at = next_slot[provider.pk]
                next_slot[provider.pk] = starts_at + SLOT
            else:
                starts_at = start_of_history + timedelta(
                    minutes=30 * rng.randrange(int((HISTORY + HORIZON) / SLOT))
                )
            status = _status(starts_at, now, rng)
            cancelled = status == AppointmentStatus.CANCELLED
            batch.append(
                {
                    "tenant_id": tenant.pk,
                    "patient_id": rng.choice(patient_ids),
                    "provider_id": None if provider is None else provider.pk,
                    "appointment_date": starts_at,
                    "duration_minutes": 30,
                    "ends_at": starts_at + SLOT,
                    "status": status,
                    "reason": rng.choice(REASONS),
                    "cancelled_at": starts_at - timedelta(days=1) if cancelled else None,
                    # Past visits were reminded; upcoming ones are left for the reminder task.
                    "reminder_sent_at": starts_at - timedelta(hours=20) if starts_at < now else None,
                }
            )
        with transaction.atomic():
            insert_rows(Appointment, batch)
        added += len(batch)
        if progress:
            progress(added, missing)
    # COPY bypasses the booking services: announce the change as they do.
    clinic_data_changed.send(sender=Appointment, tenant_id=tenant.pk)
    return added
