"""Input validation for patient writes. Output is built from `.values()` in the selectors."""

from datetime import date

from rest_framework import serializers

from keneyapp.core.serializers import IsoDateField, StrictInputSerializer
from patients import services
from patients.models import Sex


def _refuse(problem: tuple[str, str] | None) -> None:
    if problem is not None:
        raise serializers.ValidationError(problem[0], code=problem[1])


def validate_phone_number(value: str) -> str:
    _refuse(services.phone_number_problem(value))
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

    # The rules are the service's (the admin's form meets the same ones).
    def validate_mrn(self, value: str) -> str:
        _refuse(services.mrn_problem(value))
        return value

    def validate_date_of_birth(self, value: date) -> date:
        _refuse(services.date_of_birth_problem(value))
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
