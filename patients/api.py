"""Patients API: thin views that parse, call one selector or service, and answer."""

from django.http import HttpResponse
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.exceptions import ErrorDetail, ValidationError
from rest_framework.permissions import SAFE_METHODS
from rest_framework.response import Response

from keneyapp.accounts.permissions import IsClinicStaff, RolePermission, check_field_writes, readable_fields
from keneyapp.core.field_selection import parse_fields, parse_ordering
from keneyapp.core.pagination import page_response, parse_page_request
from keneyapp.core.serializers import page_output, validated_input
from keneyapp.core.views import ClinicApiView
from patients import access_report, cache, selectors, services
from patients.serializers import PatientInput, PatientOutput

FIELDS_PARAMETER = OpenApiParameter(
    "fields",
    OpenApiTypes.STR,
    description=f"Comma-separated subset of: {', '.join(selectors.PATIENT_FIELDS)}. "
    "`notes` is for doctors, nurses and clinic administrators: left out for other roles, 403 if named.",
)
PATIENT_MODEL = "patients.patient"


def answer_fields(request) -> tuple[str, ...]:
    """The `?fields=` the caller asked for, less what the caller's role may not read."""
    fields = parse_fields(request.query_params, allowed=selectors.PATIENT_FIELDS)
    requested = bool(request.query_params.get("fields", "").strip())
    return readable_fields(request.user, PATIENT_MODEL, fields, requested=requested)


class PatientAccessMixin:
    permission_classes = [IsClinicStaff, RolePermission]
    audit_model = "patients.patient"
    audit_patient = "pk"
    role_actions = {
        "GET": "patients.view",
        "POST": "patients.add",
        "PATCH": "patients.change",
        "DELETE": "patients.delete",
    }


class PatientListApi(PatientAccessMixin, ClinicApiView):
    @extend_schema(
        operation_id="patients_list",
        parameters=[
            OpenApiParameter("skip", int, description="Rows to skip (>= 0)."),
            OpenApiParameter("limit", int, description="Page size, 1 to 100 (default 50)."),
            OpenApiParameter(
                "search", str, description="Words matched in name, email, phone, record number."
            ),
            OpenApiParameter("ordering", str, enum=list(selectors.PATIENT_ORDERINGS)),
            FIELDS_PARAMETER,
        ],
        responses=page_output("PatientPage", PatientOutput(many=True)),
    )
    def get(self, request):
        params = request.query_params
        page = parse_page_request(params)
        fields = answer_fields(request)
        ordering = parse_ordering(
            params, allowed=selectors.PATIENT_ORDERINGS, default=selectors.DEFAULT_PATIENT_ORDERING
        )
        search = params.get("search", "")
        if len(search) > selectors.SEARCH_MAX_LENGTH:
            raise ValidationError(
                {"search": [_("At most %(count)s characters.") % {"count": selectors.SEARCH_MAX_LENGTH}]}
            )
        if "\x00" in search:  # PostgreSQL refuses NUL in a text parameter: a 500, not "no match"
            error = ErrorDetail(_("Null characters are not allowed."), code="null_characters_not_allowed")
            raise ValidationError({"search": [error]})
        # The audit records which patients were shown, so their ids are read even when the answer
        # leaves them out (`fields=last_name`).
        loaded = fields if "id" in fields else ("id", *fields)
        items, total = cache.cached_patient_page(
            tenant=request.user.tenant,
            search=search,
            ordering=ordering,
            fields=loaded,
            skip=page.skip,
            limit=page.limit,
        )
        self.audit_patient_ids = [row["id"] for row in items]
        if loaded is not fields:
            items = [{name: row[name] for name in fields} for row in items]
        return Response(page_response(items, total=total, page=page))

    @extend_schema(request=PatientInput, responses={201: PatientOutput})
    def post(self, request):
        data = validated_input(PatientInput, request.data)
        check_field_writes(request.user, PATIENT_MODEL, data)
        patient = services.patient_create(tenant=request.user.tenant, created_by=request.user, data=data)
        fields = readable_fields(request.user, PATIENT_MODEL, selectors.PATIENT_FIELDS, requested=False)
        return Response(
            selectors.patient_as_dict(patient, fields),
            status=status.HTTP_201_CREATED,
            headers={"Location": f"/api/v1/patients/{patient.pk}"},
        )


class PatientDetailApi(PatientAccessMixin, ClinicApiView):
    def load_object(self, request, pk: int):
        if request.method in SAFE_METHODS:
            # A read loads its answer: the cached row, which costs no query when cached.
            fields = answer_fields(request)
            return cache.cached_patient_values(tenant=request.user.tenant, patient_id=pk, fields=fields)
        return selectors.patient_get(tenant=request.user.tenant, patient_id=pk)

    @extend_schema(operation_id="patients_retrieve", parameters=[FIELDS_PARAMETER], responses=PatientOutput)
    def get(self, request, pk: int):
        return Response(self.object)

    @extend_schema(request=PatientInput(partial=True), responses=PatientOutput)
    def patch(self, request, pk: int):
        fields = answer_fields(request)
        data = validated_input(PatientInput, request.data, partial=True)
        check_field_writes(request.user, PATIENT_MODEL, data)
        patient = services.patient_update(patient=self.object, data=data)
        return Response(selectors.patient_as_dict(patient, fields))

    @extend_schema(responses={204: None})
    def delete(self, request, pk: int):
        services.patient_soft_delete(patient=self.object)
        return Response(status=status.HTTP_204_NO_CONTENT)


class AccessReportOutput(serializers.Serializer):
    class Access(serializers.Serializer):
        at = serializers.DateTimeField()
        user_id = serializers.IntegerField(allow_null=True)
        staff_name = serializers.CharField(allow_null=True)
        role = serializers.CharField()
        action = serializers.CharField()
        door = serializers.CharField()
        outcome = serializers.CharField()
        model = serializers.CharField()

    patient = inline_serializer(
        "AccessReportPatient",
        {"id": serializers.IntegerField(), "mrn": serializers.CharField(), "name": serializers.CharField()},
    )
    generated_at = serializers.DateTimeField()
    truncated = serializers.BooleanField()
    accesses = Access(many=True)


class AccessReportMixin:
    """A patient's access report (who accessed the record), for the patient's request."""

    permission_classes = [IsClinicStaff, RolePermission]
    role_actions = {"GET": "audit.report"}
    audit_model = "patients.patient"
    audit_patient = "pk"
    audit_actions = {"GET": "report", "HEAD": "report"}

    def load_object(self, request, pk: int):
        return selectors.patient_get(tenant=request.user.tenant, patient_id=pk)


class PatientAccessReportApi(AccessReportMixin, ClinicApiView):
    @extend_schema(operation_id="patients_access_report", responses=AccessReportOutput)
    def get(self, request, pk: int):
        return Response(access_report.access_report(self.object))


class PatientAccessReportPdfApi(AccessReportMixin, ClinicApiView):
    @extend_schema(
        operation_id="patients_access_report_pdf",
        responses={(200, "application/pdf"): OpenApiTypes.BINARY},
    )
    def get(self, request, pk: int):
        report = access_report.access_report(self.object)
        content = access_report.render_access_report_pdf(report, tenant=request.user.tenant)
        response = HttpResponse(content, content_type="application/pdf")
        response["Content-Disposition"] = f'attachment; filename="access-report-{self.object.mrn}.pdf"'
        return response
