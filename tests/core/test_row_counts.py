"""The trigger-maintained per-clinic counts stay exact whatever path writes the rows."""

import pytest
from django.db import connection

from demo.bulk_insert import insert_rows
from keneyapp.core.row_counts import CountRowsPerTenant, row_count
from keneyapp.core.scoping import scopes_disabled
from patients.models import Patient
from patients.selectors import ACTIVE_PATIENTS_COUNTER
from patients.services import patient_create, patient_soft_delete
from tests.factories import PatientFactory

pytestmark = pytest.mark.django_db


def active(tenant) -> int:
    with scopes_disabled():
        return row_count(tenant=tenant, counter=ACTIVE_PATIENTS_COUNTER)


def true_count(tenant) -> int:
    with scopes_disabled():
        return Patient.objects.filter(tenant=tenant, is_deleted=False).count()


def test_a_clinic_without_patients_counts_zero(clinic):
    assert active(clinic) == 0


def test_every_write_path_keeps_the_count_exact(clinic, other_clinic, doctor):
    PatientFactory.create_batch(3, tenant=clinic)  # plain ORM inserts
    with scopes_disabled():
        patient_create(tenant=clinic, created_by=doctor, data={"first_name": "A", "last_name": "B",
                                                               "date_of_birth": "1990-01-01"})  # fmt: skip
        Patient.objects.bulk_create(PatientFactory.build_batch(4, tenant=clinic))
    PatientFactory.create_batch(2, tenant=other_clinic)
    assert (active(clinic), active(other_clinic)) == (8, 2)

    with scopes_disabled():
        patient_soft_delete(patient=Patient.objects.filter(tenant=clinic).first())
        Patient.objects.filter(tenant=clinic, is_deleted=False)[:1].get().delete()  # a hard delete
    assert active(clinic) == 6

    with scopes_disabled():
        Patient.objects.filter(tenant=clinic, is_deleted=True).update(is_deleted=False)  # undelete
        moved = Patient.objects.filter(tenant=clinic).first()
        moved.tenant = other_clinic
        moved.save()
        Patient.objects.filter(tenant=clinic).update(notes="touched")  # no change to the count
    assert (active(clinic), active(other_clinic)) == (true_count(clinic), true_count(other_clinic)) == (6, 3)


def test_bulk_copy_of_many_rows_is_counted(clinic):
    rows = [
        {
            "tenant_id": clinic.pk,
            "mrn": f"C{n:06d}",
            "first_name": "Bulk",
            "last_name": "Row",
            "date_of_birth": "1980-01-01",
        }
        for n in range(500)
    ]
    with scopes_disabled():
        insert_rows(Patient, rows)
    assert active(clinic) == true_count(clinic) == 500


def test_the_patient_list_total_is_the_count(api, doctor):
    PatientFactory.create_batch(5, tenant=doctor.tenant)
    with scopes_disabled():
        Patient.objects.filter(pk=Patient.objects.first().pk).update(is_deleted=True)
    assert api(doctor).get("/api/v1/patients").json()["total"] == 4


@pytest.mark.parametrize(
    ("counter", "table", "flag"),
    [
        ("patients active", "patients_patient", None),
        ("patients.active", "patients; drop", None),
        ("patients.active", "patients_patient", "is_deleted OR 1=1"),
    ],
)
def test_the_operation_refuses_anything_but_identifiers(counter, table, flag):
    with pytest.raises(ValueError, match="not an identifier"):
        CountRowsPerTenant(counter=counter, table=table, flag=flag)


def test_triggers_are_installed_for_the_database_in_use():
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT tgname FROM pg_trigger WHERE tgname LIKE 'rowcount_patients_active_%%'")
        else:
            cursor.execute("SELECT name FROM sqlite_master WHERE type = 'trigger' AND name LIKE 'rowcount_%'")
        names = {row[0] for row in cursor.fetchall()}
    assert {"rowcount_patients_active_insert", "rowcount_patients_active_update",
            "rowcount_patients_active_delete"} <= names  # fmt: skip
