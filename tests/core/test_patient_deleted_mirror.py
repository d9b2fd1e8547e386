"""`patient_deleted` of appointments and documents is the patient's `is_deleted`, kept by the
database (keneyapp/core/migration_operations.py::MirrorPatientDeleted), and the trigger-kept counts
of what the API shows follow it: on both engines, whatever writes."""

import pytest
from django.db import connection

from appointments.models import Appointment
from documents.models import Document
from keneyapp.core.models import TenantRowCount
from keneyapp.core.scoping import scopes_disabled
from patients.models import Patient
from patients.services import patient_soft_delete
from tests.documents.helpers import make_document
from tests.factories import AppointmentFactory, PatientFactory

pytestmark = pytest.mark.django_db


def flags(patient) -> tuple[set[bool], set[bool]]:
    with scopes_disabled():
        return (
            set(Appointment.objects.filter(patient=patient).values_list("patient_deleted", flat=True)),
            set(Document.objects.filter(patient=patient).values_list("patient_deleted", flat=True)),
        )


def assert_counts_match(tenant) -> None:
    with scopes_disabled():
        counts = dict(TenantRowCount.objects.filter(tenant=tenant).values_list("counter", "total"))
        shown_appointments = Appointment.objects.filter(tenant=tenant, patient__is_deleted=False).count()
        shown_documents = Document.objects.filter(tenant=tenant, is_deleted=False, patient__is_deleted=False)
        assert counts.get("appointments.active", 0) == shown_appointments
        assert counts.get("documents.visible", 0) == shown_documents.count()


def test_a_soft_delete_and_a_restore_reach_every_row_of_the_patient(clinic):
    patient, other = PatientFactory(tenant=clinic), PatientFactory(tenant=clinic)
    for someone in (patient, patient, other):
        AppointmentFactory(tenant=clinic, patient=someone)
        make_document(clinic, patient=someone)
    assert flags(patient) == ({False}, {False})
    assert_counts_match(clinic)

    with scopes_disabled():
        patient_soft_delete(patient=patient)
    assert flags(patient) == ({True}, {True})
    assert flags(other) == ({False}, {False})
    assert_counts_match(clinic)

    with scopes_disabled():
        Patient.objects.filter(pk=patient.pk).update(is_deleted=False)  # a restore, below the model
    assert flags(patient) == ({False}, {False})
    assert_counts_match(clinic)


def test_a_row_written_for_a_deleted_patient_takes_the_flag_whatever_it_says(clinic):
    patient = PatientFactory(tenant=clinic)
    kept = AppointmentFactory(tenant=clinic, patient=patient)
    with scopes_disabled():
        stale = Appointment.objects.get(pk=kept.pk)  # patient_deleted=False in memory
        patient_soft_delete(patient=patient)
        stale.notes = "saved from an instance read before the delete"
        stale.save()  # writes every column, patient_deleted=False included
        AppointmentFactory(tenant=clinic, patient=patient)  # an insert naming False
        make_document(clinic, patient=patient)
    assert flags(patient) == ({True}, {True})
    assert_counts_match(clinic)


def test_a_raw_insert_that_names_no_flag_gets_the_patients(clinic):
    patient = PatientFactory(tenant=clinic)
    with scopes_disabled():
        patient_soft_delete(patient=patient)
        template = AppointmentFactory.build(tenant=clinic, patient=patient)
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO appointments_appointment (tenant_id, patient_id, appointment_date, duration_minutes,"
            " ends_at, status, reason, notes, cancellation_reason, created_at, updated_at)"
            " VALUES (%s, %s, %s, 30, %s, 'scheduled', '', '', '', %s, %s)",
            [clinic.pk, patient.pk, template.appointment_date, template.ends_at,
             template.appointment_date, template.appointment_date],
        )  # fmt: skip
    assert flags(patient)[0] == {True}
    assert_counts_match(clinic)
