"""Writes of patients. The clinic always comes from the caller (never from a request body)."""

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from keneyapp.accounts.models import Tenant, User
from keneyapp.core import audit
from keneyapp.core.services import apply_changes, retry_on_contention, update_fields_for
from keneyapp.core.text import digits_only, fold_for_search
from patients.cache import invalidate_patients
from patients.models import Patient, PatientNumberSequence
from patients.selectors import patient_queryset

# Fields a create or an update may set; anything else is ignored by design (tenant, audit, flags).
PATIENT_WRITABLE_FIELDS = (
    "mrn",
    "first_name",
    "last_name",
    "date_of_birth",
    "sex",
    "email",
    "phone_number",
    "address",
    "emergency_contact",
    "allergies",
    "notes",
)
MRN_WIDTH = 8
PATIENT_STAYS_IN_CLINIC = _("A patient cannot move to another clinic; register them in the new clinic.")
MRN_TAKEN = _("A patient of this clinic already has this record number.")
EMAIL_TAKEN = _("An active patient of this clinic already has this email.")


def patient_search_text(*, first_name: str, last_name: str, email: str, phone_number: str, mrn: str) -> str:
    parts = [first_name, last_name, email, phone_number, digits_only(phone_number), mrn]
    return fold_for_search(" ".join(part for part in parts if part))


def refresh_search_text(patient: Patient) -> None:
    patient.search_text = patient_search_text(
        first_name=patient.first_name,
        last_name=patient.last_name,
        email=patient.email,
        phone_number=patient.phone_number,
        mrn=patient.mrn,
    )


def allocate_record_numbers(*, tenant: Tenant, count: int = 1) -> range:
    """Reserve `count` consecutive record numbers for a clinic; must run inside a transaction.

    The UPDATE takes the sequence row's lock until commit, so concurrent creations in one clinic
    get distinct numbers; other clinics are not blocked.
    """
    updated = PatientNumberSequence.objects.filter(tenant=tenant).update(last_value=F("last_value") + count)
    if not updated:
        try:
            with transaction.atomic():
                PatientNumberSequence.objects.create(tenant=tenant, last_value=count)
        except IntegrityError:  # another request created it first: take our numbers after theirs
            PatientNumberSequence.objects.filter(tenant=tenant).update(last_value=F("last_value") + count)
    last = PatientNumberSequence.objects.values_list("last_value", flat=True).get(tenant=tenant)
    return range(last - count + 1, last + 1)


def format_record_number(value: int) -> str:
    return str(value).zfill(MRN_WIDTH)


def next_record_number(tenant: Tenant) -> str:
    # A number a clinic typed in by hand may already hold the next value: skip past it.
    while True:
        candidate = format_record_number(allocate_record_numbers(tenant=tenant)[0])
        if not Patient.objects.filter(tenant=tenant, mrn=candidate).exists():
            return candidate


def _check_unique(
    *, tenant: Tenant | int, mrn: str | None, email: str | None, exclude_id: int | None
) -> None:
    errors = {}
    taken: QuerySet[Patient]
    if mrn:
        taken = Patient.objects.filter(tenant=tenant, mrn=mrn)
        if exclude_id:
            taken = taken.exclude(pk=exclude_id)
        if taken.exists():
            errors["mrn"] = [MRN_TAKEN]
    if email:
        taken = patient_queryset(tenant=tenant).filter(email__iexact=email)
        if exclude_id:
            taken = taken.exclude(pk=exclude_id)
        if taken.exists():
            errors["email"] = [EMAIL_TAKEN]
    if errors:
        raise ValidationError(errors)


def _save_or_explain(patient: Patient, **save_kwargs) -> None:
    """Save; a unique constraint lost to a concurrent request becomes the same 400 as the check."""
    try:
        with transaction.atomic():
            patient.save(**save_kwargs)
    except IntegrityError as exc:
        message = str(exc)
        # The email constraint is matched by name first: the database's message also quotes the
        # duplicate value, and an email such as "mrn.diop@..." must not read as a record number clash.
        if "patient_unique_active_email" not in message and "mrn" in message:
            raise ValidationError({"mrn": [MRN_TAKEN]}) from None
        if "email" in message:
            raise ValidationError({"email": [EMAIL_TAKEN]}) from None
        raise


@retry_on_contention  # one transaction; a deadlock on the number or counter rows: once more, then 409
def patient_create(*, tenant: Tenant, created_by: User | None, data: dict) -> Patient:
    values = {name: data[name] for name in PATIENT_WRITABLE_FIELDS if name in data}
    _check_unique(tenant=tenant, mrn=values.get("mrn"), email=values.get("email"), exclude_id=None)
    if not values.get("mrn"):
        values["mrn"] = next_record_number(tenant)
    patient = Patient(tenant=tenant, created_by=created_by, **values)
    refresh_search_text(patient)
    _save_or_explain(patient)  # the save invalidates the cached reads (patients/cache.py)
    return patient


@transaction.atomic
def patient_update(*, patient: Patient, data: dict) -> Patient:
    """Write the values of `data` that differ from the patient's; nothing changed: nothing written
    (no UPDATE, no cache invalidation, `updated_at` kept).

    A patient never changes clinic: their appointments, documents and messages stay in the clinic
    that wrote them, and the database refuses the move while any refers to them (the triggers of
    keneyapp/core/migration_operations.py::KeepClinicWhileReferenced)."""
    if "tenant" in data and getattr(data["tenant"], "pk", data["tenant"]) != patient.tenant_id:
        raise ValidationError({"tenant": [PATIENT_STAYS_IN_CLINIC]})
    _check_unique(
        tenant=patient.tenant_id,
        mrn=data.get("mrn") if data.get("mrn") != patient.mrn else None,
        email=data.get("email") if data.get("email", "").lower() != patient.email.lower() else None,
        exclude_id=patient.pk,
    )
    changed = apply_changes(instance=patient, fields=PATIENT_WRITABLE_FIELDS, data=data)
    if not changed:
        return patient
    refresh_search_text(patient)
    # The save invalidates the cached reads (patients/cache.py).
    _save_or_explain(patient, update_fields=update_fields_for(patient, [*changed, "search_text"]))
    return patient


def patient_soft_delete(*, patient: Patient) -> None:
    """Hide the patient from every read; the row (and its history) stays in the database."""
    now = timezone.now()
    Patient.objects.filter(pk=patient.pk, is_deleted=False).update(
        is_deleted=True, deleted_at=now, updated_at=now
    )
    patient.is_deleted = True
    patient.deleted_at = now
    # An UPDATE sends no post_save: invalidate the cached reads here.
    invalidate_patients(tenant_id=patient.tenant_id, patient_id=patient.pk)


@transaction.atomic
def patient_restore(*, tenant: Tenant | int, patient_id: int) -> Patient:
    """Undo a soft delete: the patient is back in every read (the triggers put their appointments and
    documents back in the lists and totals). Recorded as `restore` in the current door's trail.
    ValidationError when the clinic has no such deleted patient, or an active patient now has
    their email (the unique constraint among active patients)."""
    patient = (
        Patient.objects.select_for_update().filter(tenant=tenant, pk=patient_id, is_deleted=True).first()
    )
    if patient is None:
        raise ValidationError({"patient_id": [_("No such deleted patient in this clinic.")]})
    _check_unique(tenant=tenant, mrn=None, email=patient.email or None, exclude_id=patient.pk)
    now = timezone.now()
    Patient.objects.filter(pk=patient.pk).update(is_deleted=False, deleted_at=None, updated_at=now)
    patient.is_deleted, patient.deleted_at, patient.updated_at = False, None, now
    audit.record(audit.Action.RESTORE, Patient, object_id=patient.pk, patient_id=patient.pk)
    # An UPDATE sends no post_save: invalidate the cached reads here, as the soft delete does.
    invalidate_patients(tenant_id=patient.tenant_id, patient_id=patient.pk)
    return patient
