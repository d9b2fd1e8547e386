"""Reading the audit trail in tests."""

from keneyapp.core.models import AuditEvent
from keneyapp.core.scoping import scopes_disabled


def trail(**filters) -> list[AuditEvent]:
    """The events recorded so far, oldest first, as stored."""
    with scopes_disabled():
        return list(AuditEvent.objects.filter(**filters).order_by("id"))


def only(**filters) -> AuditEvent:
    events = trail(**filters)
    assert len(events) == 1, [(e.action, e.model, e.object_id, e.patient_id, e.outcome) for e in events]
    return events[0]
