"""Cached patient reads that are never stale (issue 5).

The detail of a patient and the first pages of a clinic's list are kept in the two-level cache
service under versioned keys:

- a detail depends on "tenant:<clinic>:patient:<id>";
- a list page depends on "tenant:<clinic>:patients".

Every write invalidates: `Patient.save()` and `.delete()` through the signal receiver below (the
services' create and update, the admin, factories), and the writes that bypass signals call
`invalidate_patients` themselves (the soft delete's UPDATE, the demo seeding's bulk insert, an admin
move to another clinic). A bulk write added elsewhere must do the same. Invalidating bumps the
namespaces; a versioned read checks the namespaces' versions in the shared cache
before using any level, so the next read in any process after a write misses and reads the
database. The keys always carry the clinic, and the query (search, ordering, fields, skip, limit)
is hashed by the cache service, so no query string can reach another clinic's entry.

Cached values are the rows after a JSON round trip (dates and datetimes as ISO strings), which the
renderer writes byte for byte as it writes the original rows. `CACHE_API_RESPONSES=0` turns this off.
"""

from django.conf import settings
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from keneyapp.accounts.models import Tenant
from keneyapp.core.caching import bump_on_commit, cache_service, clinic_namespace
from keneyapp.core.signals import clinic_data_changed
from patients import selectors
from patients.models import Patient

PATIENT_CACHE_SECONDS = 300  # the guide's TTL; entries are invalidated on write anyway
# Only the first pages are cached: deep pages are rare, and each would be one more entry per query.
LIST_CACHE_MAX_SKIP = 200
DETAIL_PREFIX = "patients.detail"
LIST_PREFIX = "patients.list"
_MISSING = object()


def patients_namespace(tenant_id: int) -> str:
    return clinic_namespace(tenant_id, "patients")


def patient_namespace(tenant_id: int, patient_id: int) -> str:
    return clinic_namespace(tenant_id, f"patient:{int(patient_id)}")


def caching_enabled() -> bool:
    return getattr(settings, "CACHE_API_RESPONSES", True)


def cached_patient_page(
    *, tenant: Tenant, search: str, ordering: tuple[str, ...], fields: tuple[str, ...], skip: int, limit: int
) -> tuple[list, int]:
    """`selectors.patient_page`, served from the cache for the first pages."""
    key = None
    if caching_enabled() and skip < LIST_CACHE_MAX_SKIP:
        key = cache_service.versioned_key(
            LIST_PREFIX,
            tenant.pk,
            search,
            ordering,
            fields,
            skip,
            limit,
            namespaces=[patients_namespace(tenant.pk)],
        )
    if key is not None:
        found = cache_service.get(key, _MISSING)
        if found is not _MISSING:
            return found["items"], found["total"]
    items, total = selectors.patient_page(
        tenant=tenant, search=search, ordering=ordering, fields=fields, skip=skip, limit=limit
    )
    if key is not None:
        cache_service.count_computed(key)
        cache_service.set(key, {"items": items, "total": total}, PATIENT_CACHE_SECONDS)
    return items, total


def cached_patient_values(*, tenant: Tenant, patient_id: int, fields: tuple[str, ...]) -> dict | None:
    """`selectors.patient_values`, served from the cache; a missing patient is not cached."""
    key = None
    if caching_enabled():
        key = cache_service.versioned_key(
            DETAIL_PREFIX,
            tenant.pk,
            patient_id,
            fields,
            namespaces=[patient_namespace(tenant.pk, patient_id)],
        )
    if key is not None:
        found = cache_service.get(key, _MISSING)
        if found is not _MISSING:
            return found
    row = selectors.patient_values(tenant=tenant, patient_id=patient_id, fields=fields)
    if key is not None and row is not None:
        cache_service.count_computed(key)
        cache_service.set(key, row, PATIENT_CACHE_SECONDS)
    return row


def invalidate_patients(*, tenant_id: int, patient_id: int | None = None) -> None:
    """Make cached reads of the clinic's lists (and one patient) miss: now, and after commit (see
    `bump_on_commit`); and announce the change to whatever counts patients (the dashboard)."""
    namespaces = [patients_namespace(tenant_id)]
    if patient_id is not None:
        namespaces.append(patient_namespace(tenant_id, patient_id))
    for namespace in namespaces:
        bump_on_commit(namespace)
    clinic_data_changed.send(sender=Patient, tenant_id=tenant_id)


@receiver([post_save, post_delete], sender=Patient, dispatch_uid="patients.cache.invalidate")
def _invalidate_on_write(sender, instance: Patient, **kwargs) -> None:
    invalidate_patients(tenant_id=instance.tenant_id, patient_id=instance.pk)
