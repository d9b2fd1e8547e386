"""Input validation for appointments (bodies and query parameters)."""

from django.utils.translation import gettext as _
from rest_framework import serializers

from appointments.models import MAX_DURATION_MINUTES, MIN_DURATION_MINUTES, AppointmentStatus
from keneyapp.core.clinic_time import InvalidClinicTime, check_day_in_range, parse_clinic_bound
from keneyapp.core.serializers import (
    ClinicDateTimeField,
    IsoDateField,
    PatientSummaryOutput,
    PersonSummaryOutput,
    StrictInputSerializer,
    StrictIntegerField,
)

MAX_AVAILABILITY_DAYS = 31


class AppointmentCreateInput(StrictInputSerializer):
    patient_id = StrictIntegerField()
    provider_id = StrictIntegerField(required=False, allow_null=True)
    appointment_date = ClinicDateTimeField()
    duration_minutes = StrictIntegerField(
        min_value=MIN_DURATION_MINUTES, max_value=MAX_DURATION_MINUTES, required=False, default=30
    )
    reason = serializers.CharField(max_length=255, required=False, allow_blank=True, default="")
    notes = serializers.CharField(max_length=5000, required=False, allow_blank=True, default="")


class AppointmentUpdateInput(StrictInputSerializer):
    provider_id = StrictIntegerField(required=False, allow_null=True)
    appointment_date = ClinicDateTimeField(required=False)
    duration_minutes = StrictIntegerField(
        min_value=MIN_DURATION_MINUTES, max_value=MAX_DURATION_MINUTES, required=False
    )
    status = serializers.ChoiceField(choices=AppointmentStatus.choices, required=False)
    reason = serializers.CharField(max_length=255, required=False, allow_blank=True)
    notes = serializers.CharField(max_length=5000, required=False, allow_blank=True)
    cancellation_reason = serializers.CharField(max_length=255, required=False, allow_blank=True)

    def validate(self, attrs):
        if not attrs:
            raise serializers.ValidationError(_("Nothing to change."), code="empty")
        if "cancellation_reason" in attrs and attrs.get("status") != AppointmentStatus.CANCELLED:
            raise serializers.ValidationError(
                {"cancellation_reason": [_("Only with status 'cancelled' (or use POST .../cancel).")]}
            )
        return attrs


class CancelInput(StrictInputSerializer):
    reason = serializers.CharField(max_length=255)


class ClinicBoundField(serializers.CharField):
    """A date (the whole day in the clinic's zone) or a date-time, for range filters."""

    def __init__(self, *, end_of_day: bool, **kwargs):
        self.end_of_day = end_of_day
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        value = super().to_internal_value(data)
        try:
            return parse_clinic_bound(value, self.context["zone"], end_of_day=self.end_of_day)
        except InvalidClinicTime as exc:
            raise serializers.ValidationError(str(exc), code=exc.code) from None


class AppointmentListQuery(serializers.Serializer):
    """Query parameters of the appointment lists; paging is parsed by keneyapp.core.pagination."""

    date_from = ClinicBoundField(end_of_day=False, required=False)
    date_to = ClinicBoundField(end_of_day=True, required=False)
    status = serializers.ListField(
        child=serializers.ChoiceField(choices=AppointmentStatus.choices), required=False, allow_empty=True
    )
    patient_id = StrictIntegerField(required=False)
    provider_id = StrictIntegerField(required=False)

    def validate(self, attrs):
        if "date_from" in attrs and "date_to" in attrs and attrs["date_to"] <= attrs["date_from"]:
            raise serializers.ValidationError({"date_to": [_("date_to must not be before date_from.")]})
        return attrs

    @staticmethod
    def data_from(query_params) -> dict:
        """QueryDict -> plain dict; `status` may repeat (status=a&status=b) or be comma-separated."""
        data = {name: query_params[name] for name in ("date_from", "date_to", "patient_id", "provider_id")
                if name in query_params}  # fmt: skip
        statuses = [part for value in query_params.getlist("status") for part in value.split(",") if part]
        if statuses:
            data["status"] = statuses
        return data


class AvailabilityQuery(serializers.Serializer):
    provider_id = StrictIntegerField()
    date_from = IsoDateField()
    date_to = IsoDateField()
    duration = StrictIntegerField(
        min_value=MIN_DURATION_MINUTES, max_value=MAX_DURATION_MINUTES, required=False, default=30
    )

    def validate(self, attrs):
        for name in ("date_from", "date_to"):
            try:
                check_day_in_range(attrs[name])
            except InvalidClinicTime as exc:
                raise serializers.ValidationError({name: [str(exc)]}, code=exc.code) from None
        days = (attrs["date_to"] - attrs["date_from"]).days + 1
        if days < 1:
            raise serializers.ValidationError({"date_to": [_("date_to must not be before date_from.")]})
        if days > MAX_AVAILABILITY_DAYS:
            raise serializers.ValidationError(
                {
                    "date_to": [
                        _("At most %(most)s days per request (asked for %(days)s).")
                        % {"most": MAX_AVAILABILITY_DAYS, "days": days}
                    ]
                }
            )
        return attrs


class AppointmentOutput(serializers.Serializer):
    """Documents the answer's shape for the OpenAPI schema (appointments.selectors.
    appointment_row_as_api builds it); date-times are in the clinic's zone."""

    id = serializers.IntegerField()
    patient = PatientSummaryOutput()
    provider = PersonSummaryOutput(allow_null=True)
    appointment_date = serializers.DateTimeField()
    ends_at = serializers.DateTimeField()
    duration_minutes = serializers.IntegerField()
    status = serializers.ChoiceField(choices=AppointmentStatus.choices)
    reason = serializers.CharField()
    notes = serializers.CharField()
    created_by = serializers.IntegerField(allow_null=True)
    cancelled_at = serializers.DateTimeField(allow_null=True)
    cancellation_reason = serializers.CharField()
    reminder_sent_at = serializers.DateTimeField(allow_null=True)
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()


class BookingOutput(AppointmentOutput):
    """The answer to a booking or a change: the appointment, and whether it falls outside the
    provider's working hours (allowed, but the client may want to say so)."""

    outside_working_hours = serializers.BooleanField()


class SlotOutput(serializers.Serializer):
    start = serializers.DateTimeField()
    end = serializers.DateTimeField()


class AvailabilityOutput(serializers.Serializer):
    provider_id = serializers.IntegerField()
    date_from = serializers.DateField()
    date_to = serializers.DateField()
    duration = serializers.IntegerField(help_text="Slot length in minutes.")
    timezone = serializers.CharField(help_text="The clinic's time zone, the zone of every slot.")
    slots = SlotOutput(many=True)
