"""Writes of patients. The clinic always comes from the caller (never from a request body).

The rules on a patient's values (a date of birth not in the future, a record number's and a phone
number's form, the free texts' lengths) are checked here, so the API's serializer and the admin's
form refuse the same input with the same words (`patient_value_problem`).
"""

import re
from datetime import date, timedelta

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F, QuerySet
from django.utils import timezone
from django.utils.translation import gettext
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
PHONE_PATTERN = re.compile(r"^\+?[0-9][0-9 ().\-]*$")
MRN_PATTERN = re.compile(r"^[A-Za-z0-9\-]+$")
OLDEST_BIRTH_YEAR = 1900
LATEST_UTC_OFFSET = timedelta(hours=14)
# The free texts' limits (the API's since it exists); the model's text columns have none.
TEXT_LIMITS = {"address": 2000, "allergies": 5000, "notes": 20000}
PATIENT_STAYS_IN_CLINIC = _("A patient cannot move to another clinic; register them in the new clinic.")
MRN_TAKEN = _("A patient of this clinic already has this record number.")
EMAIL_TAKEN = _("An active patient of this clinic already has this email.")


def date_of_birth_problem(value: date | str) -> tuple[str, str] | None:
    if isinstance(value, str):  # a script's ISO text: the model's field would take it
        try:
            value = date.fromisoformat(value)
        except ValueError:
            return gettext("Enter a valid date."), "invalid"
    # "Today" where it is latest on Earth (UTC+14): a baby born today anywhere is accepted.
    if value > (timezone.now() + LATEST_UTC_OFFSET).date():
        return gettext("Date of birth cannot be in the future."), "future_date"
    if value.year < OLDEST_BIRTH_YEAR:
        return gettext("Date of birth must be in %(year)s or later.") % {"year": OLDEST_BIRTH_YEAR}, "too_old"
    return None


def mrn_problem(value: str) -> tuple[str, str] | None:
    if value and not MRN_PATTERN.match(value):
        return gettext("Use letters, digits and dashes only."), "invalid_mrn"
    return None


def phone_number_problem(value: str) -> tuple[str, str] | None:
    if value and (not PHONE_PATTERN.match(value) or not 6 <= len(digits_only(value)) <= 15):
        return (
            gettext(
                "Enter a phone number of 6 to 15 digits, optionally starting with + "
                "(spaces, dots, dashes and brackets allowed)."
            ),
            "invalid_phone",
        )
    return None


def text_length_problem(name: str, value: str) -> tuple[str, str] | None:
    limit = TEXT_LIMITS.get(name)
    if limit is not None and value and len(value) > limit:
        return gettext("Ensure this field has no more than %(limit)d characters.") % {
            "limit": limit
        }, "max_length"
    return None


def patient_value_problem(name: str, value) -> tuple[str, str] | None:
    """What is wrong with this value of a patient's field, as (message, code); None if nothing."""
    if value is None:
        return None
    if name == "date_of_birth":
        return date_of_birth_problem(value)
    if name == "mrn":
        return mrn_problem(value)
    if name == "phone_number":
        return phone_number_problem(value)
    return text_length_problem(name, value)


def check_patient_values(values: dict) -> None:
    """Refuse the values that break a rule, every field at once (a 400 at the API, form errors in
    the admin)."""
    errors = {}
    for name, value in values.items():
        problem = patient_value_problem(name, value)
        if problem is not None:
            errors[name] = [ValidationError(problem[0], code=problem[1])]
    if errors:
        raise ValidationError(errors)


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
    check_patient_values(values)
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
    check_patient_values({name: data[name] for name in PATIENT_WRITABLE_FIELDS if name in data})
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
