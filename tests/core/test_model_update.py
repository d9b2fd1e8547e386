"""keneyapp.core.services: an update writes the changed columns only, or nothing."""

from datetime import time

import pytest

from appointments import services as appointment_services
from appointments.models import WorkingHours
from keneyapp.core.scoping import scopes_disabled
from keneyapp.core.services import model_update
from patients.models import Patient
from tests.factories import PatientFactory


@pytest.fixture
def patient(clinic):
    return PatientFactory(tenant=clinic, first_name="Awa", last_name="Sy")


def test_values_equal_to_the_current_ones_write_nothing(patient, django_assert_num_queries):
    with django_assert_num_queries(0):
        _, changed = model_update(
            instance=patient,
            fields=["first_name", "last_name"],
            data={"first_name": "Awa", "last_name": "Sy"},
        )

    assert changed == []


def test_only_the_changed_columns_and_updated_at_are_written(patient, django_assert_num_queries):
    before = patient.updated_at
    patient.notes = "set on the instance, never saved"

    with django_assert_num_queries(1) as queries:
        _, changed = model_update(
            instance=patient,
            fields=["first_name", "last_name", "email"],
            data={"first_name": "Awa", "last_name": "Ba", "mrn": "ignored: not in fields"},
        )

    assert changed == ["last_name"]
    assigned = queries[0]["sql"].split(" WHERE ")[0]
    assert '"last_name" = ' in assigned and '"updated_at" = ' in assigned
    assert '"first_name"' not in assigned and '"notes"' not in assigned
    with scopes_disabled():
        stored = Patient.objects.get(pk=patient.pk)
    assert (stored.last_name, stored.notes, stored.mrn) == ("Ba", "", patient.mrn)
    assert stored.updated_at > before


def test_a_schedule_update_naming_the_current_values_writes_nothing(
    clinic, doctor, django_assert_num_queries
):
    hours = WorkingHours.objects.create(
        tenant=clinic, provider=doctor, weekday=0, starts_at=time(8), ends_at=time(12)
    )

    # The service's transaction only (a savepoint in the test's).
    with django_assert_num_queries(2):
        appointment_services.schedule_entry_update(entry=hours, data={"weekday": 0, "starts_at": time(8)})
