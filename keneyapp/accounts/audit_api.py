"""GET /api/v1/audit: a clinic's audit trail, for its administrators (thin: parse, select, answer)."""

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from keneyapp.accounts.models import User
from keneyapp.accounts.permissions import IsClinicStaff, RolePermission
from keneyapp.core import audit_selectors
from keneyapp.core.clinic_time import InvalidClinicTime, clinic_zone, parse_clinic_bound
from keneyapp.core.models import AuditEvent
from keneyapp.core.pagination import page_response, parse_page_request, query_integer
from keneyapp.core.serializers import page_output
from keneyapp.core.views import ClinicApiView

CHOICE_FILTERS = {
    "action": AuditEvent.Action.values,
    "door": AuditEvent.Door.values,
    "outcome": AuditEvent.Outcome.values,
}


class AuditEventOutput(serializers.Serializer):
    id = serializers.IntegerField()
    at = serializers.DateTimeField()
    user_id = serializers.IntegerField(allow_null=True)
    username = serializers.CharField(allow_null=True)
    role = serializers.CharField()
    door = serializers.ChoiceField(choices=AuditEvent.Door.choices)
    action = serializers.ChoiceField(choices=AuditEvent.Action.choices)
    outcome = serializers.ChoiceField(choices=AuditEvent.Outcome.choices)
    model = serializers.CharField()
    object_id = serializers.IntegerField(allow_null=True)
    patient_id = serializers.IntegerField(allow_null=True)
    # The names of the fields a change changed. DRF's metaclass moves declared fields out of the
    # class, so this does not shadow Serializer.fields at run time; the stubs cannot know that.
    fields = serializers.ListField(child=serializers.CharField())  # type: ignore[assignment]
    params = serializers.ListField(child=serializers.CharField())
    route = serializers.CharField()
    address = serializers.CharField()


def parse_audit_filters(query_params, zone) -> audit_selectors.AuditFilters:
    """The trail's filters from a query string: ASCII-integer ids, known choice values, ISO dates
    or date-times in the clinic's zone; anything else a 400 naming the parameter."""
    errors: dict[str, list[str]] = {}
    ids: dict[str, int | None] = {}
    for name in ("user_id", "patient_id"):
        try:
            ids[name] = query_integer(query_params, name)
        except ValidationError as error:
            errors.update(error.detail)  # type: ignore[arg-type]
    choices: dict[str, str | None] = {}
    for name, allowed in CHOICE_FILTERS.items():
        value = query_params.get(name) or None
        if value is not None and value not in allowed:
            errors[name] = [f"One of: {', '.join(allowed)}."]
        choices[name] = value
    bounds = {}
    for name, end_of_day in (("date_from", False), ("date_to", True)):
        raw = query_params.get(name) or None
        try:
            bounds[name] = None if raw is None else parse_clinic_bound(raw, zone, end_of_day=end_of_day)
        except InvalidClinicTime as error:
            errors[name] = [str(error)]
    if errors:
        raise ValidationError(errors)
    return audit_selectors.AuditFilters(
        user_id=ids["user_id"],
        patient_id=ids["patient_id"],
        action=choices["action"],
        door=choices["door"],
        outcome=choices["outcome"],
        at_from=bounds["date_from"],
        at_before=bounds["date_to"],
    )


def with_usernames(items: list, *, tenant_id: int) -> list[dict]:
    """The page's rows with each user's username: one query for the page's users."""
    user_ids = {row["user_id"] for row in items if row["user_id"] is not None}
    names = dict(User.objects.filter(tenant_id=tenant_id, pk__in=user_ids).values_list("pk", "username"))
    return [{**row, "username": names.get(row["user_id"])} for row in items]


class AuditListApi(ClinicApiView):
    permission_classes = [IsClinicStaff, RolePermission]
    role_actions = {"GET": "audit.view"}
    # Reading the trail is recorded too (without patients: the trail is about them, not theirs).
    audit_model = "core.auditevent"
    audit_patient_ids: list | None = []

    @extend_schema(
        operation_id="audit_list",
        parameters=[
            OpenApiParameter("skip", int, description="Rows to skip (>= 0)."),
            OpenApiParameter("limit", int, description="Page size, 1 to 100 (default 50)."),
            OpenApiParameter("user_id", int, description="Only this member of staff's accesses."),
            OpenApiParameter("patient_id", int, description="Only accesses to this patient's data."),
            OpenApiParameter("action", str, enum=AuditEvent.Action.values),
            OpenApiParameter("door", str, enum=AuditEvent.Door.values),
            OpenApiParameter("outcome", str, enum=AuditEvent.Outcome.values),
            OpenApiParameter("date_from", str, description="Date (whole day, clinic time) or ISO date-time."),
            OpenApiParameter("date_to", str, description="Date (inclusive) or ISO date-time (exclusive)."),
        ],
        responses=page_output("AuditEventPage", AuditEventOutput(many=True)),
    )
    def get(self, request):
        page = parse_page_request(request.query_params)
        filters = parse_audit_filters(request.query_params, clinic_zone(request.user.tenant))
        tenant_id = request.user.tenant_id
        items, total = audit_selectors.audit_page(
            tenant_id=tenant_id, filters=filters, skip=page.skip, limit=page.limit
        )
        return Response(page_response(with_usernames(items, tenant_id=tenant_id), total=total, page=page))
