"""Writes made in the admin show on the dashboard at once, as API writes do."""

from django.utils import timezone

from tests.admin.test_patient_admin import patient_form
from tests.appointments_admin.test_form import booking
from tests.factories import PatientFactory

STATS = "/api/v1/dashboard/stats"


def test_a_patient_added_in_the_admin_counts_at_once(
    api, browser, doctor, django_capture_on_commit_callbacks
):
    client = api(doctor)
    before = client.get(STATS).json()["patients"]["total"]  # cached now
    with django_capture_on_commit_callbacks(execute=True):
        response = browser(doctor).post("/admin/patients/patient/add/", patient_form())
    assert response.status_code == 302
    assert client.get(STATS).json()["patients"]["total"] == before + 1


def test_an_appointment_booked_in_the_admin_counts_at_once(
    api, browser, doctor, clinic, django_capture_on_commit_callbacks
):
    patient = PatientFactory(tenant=clinic)
    client = api(doctor)
    before = client.get(STATS).json()["appointments"]["next_7_days"]  # cached now
    soon = timezone.localtime(timezone.now() + timezone.timedelta(days=2))
    data = booking(patient, day=f"{soon:%Y-%m-%d}", time="10:00:00")
    with django_capture_on_commit_callbacks(execute=True):
        response = browser(doctor).post("/admin/appointments/appointment/add/", data)
    assert response.status_code == 302, response.context and response.context["adminform"].form.errors
    assert client.get(STATS).json()["appointments"]["next_7_days"] == before + 1
