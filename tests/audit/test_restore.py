"""A soft-deleted patient is brought back by `manage.py restore_patient` only (no API or admin
door restores), and the restore is in the clinic's audit trail."""

import io

import pytest
from django.core.management import CommandError, call_command

from keneyapp.core.scoping import scopes_disabled
from patients.models import Patient
from patients.services import patient_soft_delete
from tests.audit.helpers import only, trail
from tests.factories import PatientFactory

pytestmark = pytest.mark.django_db


def soft_delete(patient):
    with scopes_disabled():
        patient_soft_delete(patient=patient)


def restore(*args):
    call_command("restore_patient", *args, stdout=io.StringIO())


def test_a_restore_brings_the_patient_back_and_is_recorded(api, doctor, clinic):
    patient = PatientFactory(tenant=clinic)
    soft_delete(patient)
    assert api(doctor).get(f"/api/v1/patients/{patient.pk}").status_code == 404
    listed = api(doctor).get("/api/v1/patients").json()["total"]

    restore(clinic.slug, str(patient.pk))

    event = only(action="restore")
    assert (event.model, event.object_id, event.patient_id, event.tenant_id) == (
        "patients.patient", patient.pk, patient.pk, clinic.pk,
    )  # fmt: skip
    assert (event.door, event.route, event.outcome) == ("command", "restore_patient", "allowed")
    assert api(doctor).get(f"/api/v1/patients/{patient.pk}").status_code == 200
    assert api(doctor).get("/api/v1/patients").json()["total"] == listed + 1


def test_only_a_deleted_patient_of_the_named_clinic_is_restored(clinic, other_clinic):
    active = PatientFactory(tenant=clinic)
    theirs = PatientFactory(tenant=other_clinic)
    soft_delete(theirs)

    for args in ((clinic.slug, str(active.pk)), (clinic.slug, str(theirs.pk)), ("nowhere", "1")):
        with pytest.raises(CommandError):
            restore(*args)

    with scopes_disabled():
        assert Patient.objects.get(pk=theirs.pk).is_deleted
    assert not trail(action="restore")


def test_a_restore_refused_by_an_active_patients_email_changes_nothing(clinic):
    gone = PatientFactory(tenant=clinic, email="same@example.org")
    soft_delete(gone)
    PatientFactory(tenant=clinic, email="SAME@example.org")

    with pytest.raises(CommandError, match="email"):
        restore(clinic.slug, str(gone.pk))

    assert not trail(action="restore")
