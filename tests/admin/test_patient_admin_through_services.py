"""The patients admin saves through patients.services: a page saved as it was writes nothing."""

from django.db import connection
from django.test.utils import CaptureQueriesContext

from keneyapp.core.caching import cache_service
from keneyapp.core.scoping import scopes_disabled
from patients.models import Patient
from tests.factories import PatientFactory

from .test_patient_admin import change_url, patient_form


def as_post(patient, **overrides) -> dict:
    fields = ("mrn", "first_name", "last_name", "sex", "email", "phone_number", "address")
    return patient_form(
        **{name: getattr(patient, name) for name in fields},
        date_of_birth=f"{patient.date_of_birth}",
        **overrides,
    )


def test_a_patient_page_saved_unchanged_writes_and_invalidates_nothing(browser, doctor, clinic, monkeypatch):
    patient = PatientFactory(tenant=clinic, emergency_contact="", allergies="", notes="")
    with scopes_disabled():
        before = Patient.objects.get(pk=patient.pk).updated_at
    bumped: list[str] = []
    monkeypatch.setattr(cache_service, "bump", bumped.append)

    with CaptureQueriesContext(connection) as queries:
        response = browser(doctor).post(change_url(patient), as_post(patient))

    assert response.status_code == 302, response.context["adminform"].form.errors
    assert not [q for q in queries if q["sql"].startswith('UPDATE "patients_')]
    assert bumped == []
    with scopes_disabled():
        assert Patient.objects.get(pk=patient.pk).updated_at == before


def test_a_patient_page_writes_only_the_changed_columns(browser, doctor, clinic):
    patient = PatientFactory(tenant=clinic, emergency_contact="", allergies="", notes="")

    with CaptureQueriesContext(connection) as queries:
        response = browser(doctor).post(change_url(patient), as_post(patient, notes="Asthma"))

    assert response.status_code == 302, response.context["adminform"].form.errors
    [update] = [q["sql"] for q in queries if q["sql"].startswith('UPDATE "patients_')]
    assigned = update.split(" WHERE ")[0]
    assert '"notes" = ' in assigned and '"updated_at" = ' in assigned
    assert '"first_name" = ' not in assigned and '"email" = ' not in assigned
