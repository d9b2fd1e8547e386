"""The dashboard's answer shape, for the OpenAPI schema (dashboard.api builds the answer)."""

from drf_spectacular.utils import inline_serializer
from rest_framework import serializers

from appointments.models import AppointmentStatus


class ClinicSummaryOutput(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    timezone = serializers.CharField()


class PatientFiguresOutput(serializers.Serializer):
    total = serializers.IntegerField()
    new_this_month = serializers.IntegerField()


class AppointmentFiguresOutput(serializers.Serializer):
    today = inline_serializer(
        "AppointmentsTodayByStatus",
        {status: serializers.IntegerField() for status in AppointmentStatus.values},
        help_text="Today's appointments (clinic time), counted per status.",
    )
    next_7_days = serializers.IntegerField(help_text="From now, cancelled ones left out.")
    no_show_rate_30_days = serializers.FloatField(
        allow_null=True, help_text="no_show / (completed + no_show) over the last 30 days; null with neither."
    )


class UnreadFiguresOutput(serializers.Serializer):
    unread = serializers.IntegerField(help_text="The caller's unread messages.")


class DocumentFiguresOutput(serializers.Serializer):
    total = serializers.IntegerField()


class DashboardStatsOutput(serializers.Serializer):
    clinic = ClinicSummaryOutput()
    patients = PatientFiguresOutput()
    appointments = AppointmentFiguresOutput()
    messages = UnreadFiguresOutput()
    documents = DocumentFiguresOutput()
    computed_at = serializers.DateTimeField(help_text="When the figures were computed (they are cached).")
