"""Input validation for patient writes. Output is built from `.values()` in the selectors."""

import re
from datetime import date, timedelta

from django.utils import timezone
from django.utils.translation import gettext as _
from rest_framework import serializers

from keneyapp.core.serializers import IsoDateField, StrictInputSerializer
from keneyapp.core.text import digits_only
from patients.models import Sex

PHONE_PATTERN = re.compile(r"^\+?[0-9][0-9 ().\-]*$")
MRN_PATTERN = re.compile(r"^[A-Za-z0-9\-]+$")
OLDEST_BIRTH_YEAR = 1900
LATEST_UTC_OFFSET = timedelta(hours=14)


def validate_phone_number(value: str) -> str:
    if value and (not PHONE_PATTERN.match(value) or not 6 <= len(digits_only(value)) <= 15):
        raise serializers.ValidationError(
            _(
                "Enter a phone number of 6 to 15 digits, optionally starting with + "
                "(spaces, dots, dashes and brackets allowed)."
            ),
            code="invalid_phone",
        )
    return value


class PatientInput(StrictInputSerializer):
    mrn = serializers.CharField(max_length=32, required=False)
    first_name = serializers.CharField(max_length=100)
    last_name = serializers.CharField(max_length=100)
    date_of_birth = IsoDateField()
    sex = serializers.ChoiceField(choices=Sex.choices, required=False)
    email = serializers.EmailField(max_length=254, required=False, allow_blank=True)
    phone_number = serializers.CharField(
        max_length=32, required=False, allow_blank=True, validators=[validate_phone_number]
    )
    address = serializers.CharField(max_length=2000, required=False, allow_blank=True)
    emergency_contact = serializers.CharField(max_length=255, required=False, allow_blank=True)
    allergies = serializers.CharField(max_length=5000, required=False, allow_blank=True)
    notes = serializers.CharField(max_length=20000, required=False, allow_blank=True)

    def validate_mrn(self, value: str) -> str:
        if not MRN_PATTERN.match(value):
            raise serializers.ValidationError(_("Use letters, digits and dashes only."), code="invalid_mrn")
        return value

    def validate_date_of_birth(self, value: date) -> date:
        # "Today" where it is latest on Earth (UTC+14): a baby born today anywhere is accepted.
        if value > (timezone.now() + LATEST_UTC_OFFSET).date():
            raise serializers.ValidationError(_("Date of birth cannot be in the future."), code="future_date")
        if value.year < OLDEST_BIRTH_YEAR:
            raise serializers.ValidationError(
                _("Date of birth must be in %(year)s or later.") % {"year": OLDEST_BIRTH_YEAR}, code="too_old"
            )
        return value


class PatientOutput(serializers.Serializer):
    """Documents the answer's shape for the OpenAPI schema; answers are built from `.values()`."""

    id = serializers.IntegerField()
    mrn = serializers.CharField()
    first_name = serializers.CharField()
    last_name = serializers.CharField()
    date_of_birth = serializers.DateField()
    sex = serializers.ChoiceField(choices=Sex.choices)
    email = serializers.EmailField()
    phone_number = serializers.CharField()
    address = serializers.CharField()
    emergency_contact = serializers.CharField()
    allergies = serializers.CharField()
    notes = serializers.CharField()
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()
    created_by = serializers.IntegerField(allow_null=True)
