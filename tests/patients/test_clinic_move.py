"""A patient cannot change clinic: the service refuses it, and the database refuses it while rows
of another domain refer to the patient (triggers on both backends), whatever the write path."""

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from keneyapp.core.scoping import scopes_disabled
from patients.models import Patient
from patients.services import patient_update
from tests.documents.helpers import make_document
from tests.factories import AppointmentFactory, MessageFactory, PatientFactory

pytestmark = pytest.mark.django_db


def test_the_service_refuses_a_move_and_changes_nothing(clinic, other_clinic):
    patient = PatientFactory(tenant=clinic)
    with scopes_disabled(), pytest.raises(ValidationError) as refused:
        patient_update(patient=patient, data={"tenant": other_clinic, "first_name": "Moved"})
    assert "tenant" in refused.value.message_dict
    with scopes_disabled():
        assert Patient.objects.filter(pk=patient.pk, tenant=clinic).exclude(first_name="Moved").exists()


def test_the_service_keeps_an_unchanged_clinic(clinic):
    patient = PatientFactory(tenant=clinic)
    with scopes_disabled():
        patient_update(patient=patient, data={"tenant": clinic, "first_name": "Same"})
        assert Patient.objects.get(pk=patient.pk).first_name == "Same"


@pytest.mark.parametrize(
    "refer",
    [
        lambda patient: AppointmentFactory(tenant=patient.tenant, patient=patient),
        lambda patient: make_document(patient.tenant, patient=patient),
        lambda patient: MessageFactory(tenant=patient.tenant, patient=patient),
    ],
    ids=["appointment", "document", "message"],
)
def test_the_database_refuses_moving_a_referred_patient(clinic, other_clinic, refer):
    patient = PatientFactory(tenant=clinic)
    refer(patient)
    with scopes_disabled():
        with pytest.raises(IntegrityError), transaction.atomic():
            Patient.objects.filter(pk=patient.pk).update(tenant=other_clinic)
        assert Patient.objects.get(pk=patient.pk).tenant_id == clinic.pk


def test_the_database_lets_an_unreferred_patient_move(clinic, other_clinic):
    """The control: the trigger refuses only a move that would strand other domains' rows."""
    patient = PatientFactory(tenant=clinic)
    AppointmentFactory(tenant=clinic)  # someone else's appointment
    with scopes_disabled():
        Patient.objects.filter(pk=patient.pk).update(tenant=other_clinic)
        assert Patient.objects.get(pk=patient.pk).tenant_id == other_clinic.pk
