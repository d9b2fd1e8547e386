"""Appointments API: thin views that parse, call one selector or service, and answer."""

from datetime import timedelta

from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.exceptions import ValidationError
from rest_framework.permissions import SAFE_METHODS
from rest_framework.response import Response

from appointments import selectors, services
from appointments.serializers import (
    AppointmentCreateInput,
    AppointmentListQuery,
    AppointmentOutput,
    AppointmentUpdateInput,
    AvailabilityOutput,
    AvailabilityQuery,
    BookingOutput,
    CancelInput,
)
from keneyapp.accounts.permissions import (
    IsClinicStaff,
    RolePermission,
    check_field_writes,
    without_denied_fields,
)
from keneyapp.core.clinic_time import clinic_zone
from keneyapp.core.field_selection import parse_ordering
from keneyapp.core.pagination import page_response, parse_page_request
from keneyapp.core.serializers import page_output, validated_input
from keneyapp.core.views import ClinicApiView
from patients.selectors import patient_queryset

APPOINTMENT_MODEL = "appointments.appointment"  # `notes` is clinical text (roles.FIELD_PERMISSIONS)
LIST_PARAMETERS = [
    OpenApiParameter("skip", int),
    OpenApiParameter("limit", int, description="1 to 100 (default 50)."),
    OpenApiParameter("date_from", str, description="Date (whole day, clinic time) or ISO date-time."),
    OpenApiParameter("date_to", str, description="Date (inclusive) or ISO date-time (exclusive)."),
    OpenApiParameter("status", str, many=True, description="Repeat or comma-separate."),
    OpenApiParameter("patient_id", int),
    OpenApiParameter("provider_id", int),
    OpenApiParameter("ordering", str, enum=list(selectors.APPOINTMENT_ORDERINGS)),
]
APPOINTMENT_PAGE = page_output("AppointmentPage", AppointmentOutput(many=True))


class AppointmentAccessMixin:
    permission_classes = [IsClinicStaff, RolePermission]
    role_actions = {"GET": "appointments.view", "POST": "appointments.add", "PATCH": "appointments.change"}
    audit_model = "appointments.appointment"
    audit_patient = "patient.id"

    def zone(self, request):
        return clinic_zone(request.user.tenant)

    def load_object(self, request, pk: int):
        """An appointment of the clinic, its patient and provider joined (the routes of one appointment)."""
        return selectors.appointment_get(tenant=request.user.tenant, appointment_id=pk)

    def list_page(self, request, queryset, *, unfiltered_total=None):
        """One page of `queryset` after the list filters; `unfiltered_total()` gives the total
        cheaply when no filter is set."""
        zone = self.zone(request)
        page = parse_page_request(request.query_params)
        query = validated_input(
            AppointmentListQuery, AppointmentListQuery.data_from(request.query_params), context={"zone": zone}
        )
        ordering = parse_ordering(
            request.query_params,
            allowed=selectors.APPOINTMENT_ORDERINGS,
            default=selectors.DEFAULT_APPOINTMENT_ORDERING,
        )
        queryset = selectors.appointment_filter(
            queryset,
            starts_from=query.get("date_from"),
            starts_before=query.get("date_to"),
            statuses=query.get("status"),
            patient_id=query.get("patient_id"),
            provider_id=query.get("provider_id"),
        )
        filtered = any(
            query.get(name) for name in ("date_from", "date_to", "status", "patient_id", "provider_id")
        )
        items, total = selectors.appointment_page(
            queryset=queryset,
            ordering=ordering,
            skip=page.skip,
            limit=page.limit,
            zone=zone,
            total=None if filtered or unfiltered_total is None else unfiltered_total(),
        )
        items = [without_denied_fields(request.user, APPOINTMENT_MODEL, row) for row in items]
        return Response(page_response(items, total=total, page=page))


def booking_response(
    request, result: services.BookingResult, zone, status_code=status.HTTP_200_OK
) -> Response:
    body = without_denied_fields(
        request.user, APPOINTMENT_MODEL, selectors.appointment_as_api(result.appointment, zone)
    )
    body["outside_working_hours"] = result.outside_working_hours
    headers = {"Location": f"/api/v1/appointments/{result.appointment.pk}"} if status_code == 201 else None
    return Response(body, status=status_code, headers=headers)


class AppointmentListApi(AppointmentAccessMixin, ClinicApiView):
    @extend_schema(operation_id="appointments_list", parameters=LIST_PARAMETERS, responses=APPOINTMENT_PAGE)
    def get(self, request):
        tenant = request.user.tenant
        return self.list_page(
            request,
            selectors.appointment_queryset(tenant=tenant),
            unfiltered_total=lambda: selectors.appointment_count(tenant=tenant),
        )

    @extend_schema(request=AppointmentCreateInput, responses={201: BookingOutput})
    def post(self, request):
        zone = self.zone(request)
        data = validated_input(AppointmentCreateInput, request.data, context={"zone": zone})
        check_field_writes(request.user, APPOINTMENT_MODEL, request.data)  # `data` has defaults
        result = services.appointment_book(
            tenant=request.user.tenant,
            created_by=request.user,
            patient_id=data["patient_id"],
            provider_id=data.get("provider_id"),
            starts_at=data["appointment_date"],
            duration_minutes=data["duration_minutes"],
            reason=data["reason"],
            notes=data["notes"],
            zone=zone,
        )
        return booking_response(request, result, zone, status.HTTP_201_CREATED)


class AppointmentDetailApi(AppointmentAccessMixin, ClinicApiView):
    def load_object(self, request, pk: int):
        if request.method in SAFE_METHODS:  # a read loads its answer, one query of values
            return selectors.appointment_detail(
                tenant=request.user.tenant, appointment_id=pk, zone=self.zone(request)
            )
        return super().load_object(request, pk)

    @extend_schema(operation_id="appointments_retrieve", responses=AppointmentOutput)
    def get(self, request, pk: int):
        return Response(without_denied_fields(request.user, APPOINTMENT_MODEL, self.object))

    @extend_schema(request=AppointmentUpdateInput, responses=BookingOutput)
    def patch(self, request, pk: int):
        zone = self.zone(request)
        changes = validated_input(AppointmentUpdateInput, request.data, context={"zone": zone})
        check_field_writes(request.user, APPOINTMENT_MODEL, changes)
        result = services.appointment_update(
            appointment=self.object, actor=request.user, changes=changes, zone=zone
        )
        return booking_response(request, result, zone)


class AppointmentCancelApi(AppointmentAccessMixin, ClinicApiView):
    role_actions = {"POST": "appointments.cancel"}

    @extend_schema(request=CancelInput, responses=AppointmentOutput)
    def post(self, request, pk: int):
        data = validated_input(CancelInput, request.data)
        appointment = services.appointment_cancel(
            appointment=self.object, actor=request.user, reason=data["reason"]
        )
        body = selectors.appointment_as_api(appointment, self.zone(request))
        return Response(without_denied_fields(request.user, APPOINTMENT_MODEL, body))


class PatientAppointmentsApi(AppointmentAccessMixin, ClinicApiView):
    """A patient's appointment history, with the same paging and filters as the clinic's list."""

    role_actions = {"GET": "appointments.view"}
    audit_patient = "pk"
    audit_actions = {"GET": "list", "HEAD": "list"}

    def load_object(self, request, pk: int):
        """The patient's id, once it is known to be an active patient of the clinic."""
        return pk if patient_queryset(tenant=request.user.tenant).filter(pk=pk).exists() else None

    @extend_schema(
        operation_id="patients_appointments_list", parameters=LIST_PARAMETERS, responses=APPOINTMENT_PAGE
    )
    def get(self, request, pk: int):
        if "patient_id" in request.query_params:
            raise ValidationError({"patient_id": [_("The patient is given by the path.")]})
        queryset = selectors.appointment_queryset(tenant=request.user.tenant).filter(patient_id=pk)
        return self.list_page(request, queryset)


class AvailabilityApi(AppointmentAccessMixin, ClinicApiView):
    role_actions = {"GET": "appointments.view"}
    audit_model = ""
    audit_exempt = "a provider's free slots: no patient is named"

    @extend_schema(
        operation_id="appointments_availability",
        parameters=[
            OpenApiParameter("provider_id", int, required=True),
            OpenApiParameter("date_from", str, required=True, description="YYYY-MM-DD, clinic time."),
            OpenApiParameter(
                "date_to", str, required=True, description="YYYY-MM-DD, inclusive; 31 days at most."
            ),
            OpenApiParameter("duration", int, description="Slot length in minutes (default 30)."),
        ],
        responses=AvailabilityOutput,
    )
    def get(self, request):
        zone = self.zone(request)
        query = validated_input(AvailabilityQuery, request.query_params.dict())
        slots = selectors.provider_availability(
            tenant=request.user.tenant,
            provider_id=query["provider_id"],
            date_from=query["date_from"],
            date_to=query["date_to"],
            duration=timedelta(minutes=query["duration"]),
            zone=zone,
        )
        return Response(
            {
                "provider_id": query["provider_id"],
                "date_from": query["date_from"],
                "date_to": query["date_to"],
                "duration": query["duration"],
                "timezone": zone.key,
                "slots": [{"start": s.start.astimezone(zone), "end": s.end.astimezone(zone)} for s in slots],
            }
        )
