"""Reading the audit trail: a clinic's events, filtered, newest first.

Every read leads with the clinic and reads one of the trail's three indexes ((tenant, patient_id,
-at), (tenant, user_id, -at), (tenant, -at)), so a patient's or a user's page is one indexed range
whatever the clinic's trail holds; the total is a count over the same range.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db.models import QuerySet

from keneyapp.core.models import AuditEvent

AUDIT_ITEM_FIELDS = (
    "id",
    "at",
    "user_id",
    "role",
    "door",
    "action",
    "outcome",
    "model",
    "object_id",
    "patient_id",
    "fields",
    "params",
    "route",
    "address",
)


@dataclass(frozen=True, slots=True)
class AuditFilters:
    user_id: int | None = None
    patient_id: int | None = None
    action: str | None = None
    door: str | None = None
    outcome: str | None = None
    at_from: datetime | None = None
    at_before: datetime | None = None


def audit_queryset(*, tenant_id: int, filters: AuditFilters = AuditFilters()) -> QuerySet[AuditEvent]:
    queryset = AuditEvent.objects.filter(tenant_id=tenant_id)
    conditions: dict[str, Any] = {
        "user_id": filters.user_id,
        "patient_id": filters.patient_id,
        "action": filters.action,
        "door": filters.door,
        "outcome": filters.outcome,
        "at__gte": filters.at_from,
        "at__lt": filters.at_before,
    }
    return queryset.filter(**{name: value for name, value in conditions.items() if value is not None})


def audit_page(
    *, tenant_id: int, filters: AuditFilters, skip: int, limit: int
) -> tuple[list[Mapping[str, Any]], int]:
    """One page of the clinic's trail (newest first) and its total: two indexed queries."""
    queryset = audit_queryset(tenant_id=tenant_id, filters=filters)
    total = queryset.count()
    if skip >= total:
        return [], total
    rows = list(queryset.order_by("-at", "-id").values(*AUDIT_ITEM_FIELDS)[skip : skip + limit])
    return rows, total


def patient_access_events(*, tenant_id: int, patient_id: int, limit: int) -> list[Mapping[str, Any]]:
    """Who accessed a patient's record, newest first: one query on (tenant, patient_id, -at)."""
    queryset = audit_queryset(tenant_id=tenant_id, filters=AuditFilters(patient_id=patient_id))
    return list(queryset.order_by("-at", "-id").values(*AUDIT_ITEM_FIELDS)[:limit])
