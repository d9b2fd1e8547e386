from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field, inline_serializer
from rest_framework import serializers

from keneyapp.core.clinic_time import InvalidClinicTime, parse_clinic_datetime, refuse_non_ascii
from keneyapp.core.pagination import MAX_ID, ascii_integer


class StrictInputSerializer(serializers.Serializer):
    """An input serializer that refuses keys it does not declare.

    A misspelled field ("frist_name") silently ignored is a lost edit; here it is a 400 naming it.
    Read-only fields are not accepted as input either.
    """

    def to_internal_value(self, data):
        if isinstance(data, dict):
            writable = {name for name, field in self.fields.items() if not field.read_only}
            unknown = sorted(set(data) - writable)
            if unknown:
                raise serializers.ValidationError(
                    {
                        name: [serializers.ErrorDetail(gettext("Unknown field."), code="unknown_field")]
                        for name in unknown
                    }
                )
        return super().to_internal_value(data)


class StrictIntegerField(serializers.IntegerField):
    """An integer from a JSON number or a string of ASCII digits (a query string, a form), within
    [min_value, max_value] (by default a positive 64-bit id).

    DRF's IntegerField passes strings through int(), which takes "١٢", full-width "12", "1_000", " 5" and
    "+5", and turns 5.0 into 5; and it has no upper bound, so a 20-digit id reaches PostgreSQL,
    which refuses it with an error (a 500). Here each of those is a 400 naming the field.
    """

    def __init__(self, *, min_value: int = 1, max_value: int = MAX_ID, **kwargs):
        super().__init__(min_value=min_value, max_value=max_value, **kwargs)

    def to_internal_value(self, data):
        if isinstance(data, int) and not isinstance(data, bool):
            return data
        value = ascii_integer(data) if isinstance(data, str) else None
        if value is None:
            self.fail("invalid")
        return value


class IsoDateField(serializers.DateField):
    """An ISO 8601 date (YYYY-MM-DD) in ASCII digits. DRF's DateField takes Arabic-Indic digits (Django's
    date regex matches any Unicode digit), while the date-time fields of the same API refuse it."""

    def to_internal_value(self, value):
        if isinstance(value, str):
            try:
                refuse_non_ascii(value)
            except InvalidClinicTime:
                self.fail("invalid", format="YYYY-MM-DD")
        return super().to_internal_value(value)


class StrictInputModelSerializer(StrictInputSerializer, serializers.ModelSerializer):
    pass


def validated_input(serializer_class, data, **kwargs) -> dict:
    """Validate a request body with an input serializer; a ValidationError becomes a 400."""
    serializer = serializer_class(data=data, **kwargs)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


@extend_schema_field(OpenApiTypes.DATETIME)
class ClinicDateTimeField(serializers.Field):
    """An ISO 8601 date-time; without an offset it is wall-clock time in the clinic's zone
    (`context["zone"]`), and a time that daylight saving skips there is refused."""

    default_error_messages = {"invalid": _("Enter an ISO 8601 date-time, e.g. 2025-12-15T10:00:00.")}

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        try:
            return parse_clinic_datetime(data, self.context["zone"])
        except InvalidClinicTime as exc:
            raise serializers.ValidationError(str(exc), code=exc.code) from None

    def to_representation(self, value):
        return value.isoformat()


# --- Answer shapes for the OpenAPI schema (answers are built from `.values()`, not from these) ---


class PersonSummaryOutput(serializers.Serializer):
    """A staff member as answers nest them: their full name, or their username without one."""

    id = serializers.IntegerField()
    name = serializers.CharField()


class PatientSummaryOutput(serializers.Serializer):
    """A patient as answers nest them."""

    id = serializers.IntegerField()
    name = serializers.CharField()
    mrn = serializers.CharField()


def page_output(name: str, item: serializers.Serializer) -> serializers.Serializer:
    """The shape of keneyapp.core.pagination.page_response around `item`, named `name`."""
    return inline_serializer(
        name,
        {
            "items": item,
            "total": serializers.IntegerField(),
            "skip": serializers.IntegerField(),
            "limit": serializers.IntegerField(),
        },
    )
