"""Reads of patients. Every function takes the clinic; nothing here can see another clinic."""

from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _
from rest_framework.exceptions import ErrorDetail

from keneyapp.accounts.models import Tenant
from keneyapp.core.resolvers import resolved
from keneyapp.core.row_counts import row_count
from keneyapp.core.text import fold_for_search
from patients.models import Patient

# What the API exposes, in answer order. `fields=` picks from these.
PATIENT_FIELDS = (
    "id",
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
    "created_at",
    "updated_at",
    "created_by",
)

# `ordering=` values -> ORM terms. Each ends on the primary key (a stable page order) and is served
# by one of the partial indexes on Patient, so no ordering sorts the whole clinic.
PATIENT_ORDERINGS = {
    "last_name": ("last_name", "first_name", "id"),
    "-last_name": ("-last_name", "-first_name", "-id"),
    "created_at": ("created_at", "id"),
    "-created_at": ("-created_at", "-id"),
    "id": ("id",),
    "-id": ("-id",),
    "mrn": ("mrn",),
    "-mrn": ("-mrn",),
}
DEFAULT_PATIENT_ORDERING = "last_name"
SEARCH_MAX_LENGTH = 100
# Maintained by the triggers of migration patients/0003.
ACTIVE_PATIENTS_COUNTER = "patients.active"


def patient_queryset(*, tenant: Tenant | int) -> QuerySet[Patient]:
    """The clinic's active (not deleted) patients: the starting point of every patient read."""
    return Patient.objects.filter(tenant=tenant, is_deleted=False)


def patient_search(*, tenant: Tenant, search: str = "") -> QuerySet[Patient]:
    """Every word of `search` must appear in a patient's name, email, phone or record number."""
    return patient_filter_search(patient_queryset(tenant=tenant), search)


def patient_filter_search(queryset: QuerySet, search: str, *, path: str = "search_text") -> QuerySet:
    """Keep rows whose patient matches every word; `path` reaches search_text from another model
    (e.g. "patient__search_text" for appointments)."""
    for term in fold_for_search(search).split():
        queryset = queryset.filter(**{f"{path}__contains": term})
    return queryset


def patient_page(
    *, tenant: Tenant, search: str, ordering: tuple[str, ...], fields: tuple[str, ...], skip: int, limit: int
) -> tuple[list[dict], int]:
    """One page of the patient list and the total behind it: two queries, whatever the page size
    and the clinic's size.

    Only the requested columns are loaded (`.values()`): no model instances are built. Without a
    search the total is the trigger-maintained count of active patients (an indexed read); a
    search counts its matches (the trigram index narrows them first).
    """
    queryset = patient_search(tenant=tenant, search=search)
    if fold_for_search(search).split():
        total = queryset.count()
    else:
        total = row_count(tenant=tenant, counter=ACTIVE_PATIENTS_COUNTER)
    if skip >= total:
        return [], total
    rows = list(queryset.order_by(*ordering).values(*fields)[skip : skip + limit])
    return rows, total


def patient_values(*, tenant: Tenant, patient_id: int, fields: tuple[str, ...]) -> dict | None:
    return patient_queryset(tenant=tenant).filter(pk=patient_id).values(*fields).first()


def patient_get(*, tenant: Tenant | int, patient_id: int) -> Patient | None:
    return patient_queryset(tenant=tenant).filter(pk=patient_id).first()


UNKNOWN_PATIENT = _("No such patient in this clinic.")


def patient_resolve(
    *,
    tenant: Tenant | int,
    patient_id: int,
    field: str = "patient_id",
    unknown: str | ErrorDetail | None = None,
) -> Patient:
    """The clinic's active patient an id in a request names, or the 400 naming `field`
    (keneyapp/core/resolvers.py). `unknown` is for the document routes only, whose answer
    predates this one and stays byte-identical for their clients. By default UNKNOWN_PATIENT, in
    the request's language."""
    patient = patient_get(tenant=tenant, patient_id=patient_id)
    unknown = str(UNKNOWN_PATIENT) if unknown is None else unknown
    return resolved(patient, field=field, unknown=unknown, model="patients.patient", object_id=patient_id)


def patient_as_dict(patient: Patient, fields: tuple[str, ...] = PATIENT_FIELDS) -> dict:
    """The API shape of a loaded instance, identical to what `.values(*fields)` returns."""
    return {name: getattr(patient, "created_by_id" if name == "created_by" else name) for name in fields}
