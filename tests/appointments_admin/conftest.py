"""Appointments admin fixtures: our clinic's and another clinic's staff, patients and appointments
(`browser` and `superuser` come from the root conftest)."""

from datetime import UTC, datetime

import pytest

from tests.factories import AppointmentFactory, PatientFactory

# Monday 7 January 2030, 09:00 UTC.
MONDAY_9 = datetime(2030, 1, 7, 9, 0, tzinfo=UTC)

CHANGELIST = "/admin/appointments/appointment/"
ADD = "/admin/appointments/appointment/add/"


def change_url(appointment) -> str:
    return f"/admin/appointments/appointment/{appointment.pk}/change/"


def shown_ids(response) -> set[int]:
    return {row.pk for row in response.context["cl"].result_list}


def form_errors(response) -> str:
    return str(response.context["adminform"].form.errors)


@pytest.fixture
def ours(clinic, doctor):
    """Two of our appointments: Éloïse Lefèvre with the doctor, Moussa Diop unassigned."""
    eloise = PatientFactory(tenant=clinic, first_name="Éloïse", last_name="Lefèvre", mrn="A0000001")
    moussa = PatientFactory(tenant=clinic, first_name="Moussa", last_name="Diop", mrn="A0000002")
    return [
        AppointmentFactory(tenant=clinic, patient=eloise, provider=doctor, appointment_date=MONDAY_9),
        AppointmentFactory(tenant=clinic, patient=moussa, appointment_date=MONDAY_9.replace(hour=11)),
    ]


@pytest.fixture
def theirs(other_clinic, outsider):
    """Another clinic's appointments, with a patient whose name matches ours without accents."""
    eloise = PatientFactory(tenant=other_clinic, first_name="Eloise", last_name="Lefevre", mrn="B0000001")
    quentin = PatientFactory(tenant=other_clinic, first_name="Quentin", last_name="Outsidera", mrn="B0000002")
    return [
        AppointmentFactory(tenant=other_clinic, patient=eloise, provider=outsider, appointment_date=MONDAY_9),
        AppointmentFactory(tenant=other_clinic, patient=quentin, appointment_date=MONDAY_9.replace(hour=12)),
    ]
