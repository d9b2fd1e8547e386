"""One lifecycle across domains: a soft-deleted patient is gone from every API route of every
domain (README "What a deleted patient leaves behind").

Built on the tenant isolation matrix's tables, so a route added there is checked here too: every
object route whose object belongs to a patient is 404 for every method once the patient is
deleted, every list hides their rows (and its total does not count them), and every id of theirs
in a body or query string is a 400 naming `patient_id` that changes nothing.
"""

import pytest
from django.forms.models import model_to_dict

from appointments.models import Appointment
from documents.models import Document
from keneyapp.accounts.roles import Role
from keneyapp.core.scoping import scopes_disabled
from messaging.models import Message
from patients.models import Patient
from patients.services import patient_soft_delete
from tests.factories import AppointmentFactory, PatientFactory, UserFactory
from tests.test_tenant_isolation import (
    CONTROL_BODIES,
    ID_PARAMETER_ROUTES,
    LIST_ROUTES,
    MULTIPART_ROUTES,
    OBJECT_ROUTES,
    api_routes,
    methods_of,
    url_of,
)


def _patient_of(row) -> Patient | None:
    if isinstance(row, Patient):
        return row
    return getattr(row, "patient", None)


def _delete_patient(patient: Patient) -> None:
    with scopes_disabled():
        patient_soft_delete(patient=patient)


# The object routes whose object is, or belongs to, a patient (messages may name none).
PATIENT_OBJECT_ROUTES = sorted(name for name in OBJECT_ROUTES if not name.startswith("message-"))
# The audit trail is the one list that keeps a deleted patient's rows: it is append-only, the record
# of who accessed them (README, "What a deleted patient leaves behind").
PATIENT_LIST_ROUTES = sorted(
    name for name in LIST_ROUTES if not name.startswith("message-") and name != "audit-list"
)
PATIENT_ID_CASES = [
    (name, index)
    for name, cases in sorted(ID_PARAMETER_ROUTES.items())
    for index, (_, make) in enumerate(cases)
    if "PatientFactory" in make.__code__.co_names  # the case names a patient of the clinic
]


def _snapshot(row):
    with scopes_disabled():
        return model_to_dict(type(row).objects.get(pk=row.pk))


@pytest.mark.parametrize("name", PATIENT_OBJECT_ROUTES)
def test_a_deleted_patients_object_is_404_for_every_method(api, doctor, name):
    route, entry = api_routes()[name]
    ours = OBJECT_ROUTES[name](doctor.tenant)
    _delete_patient(_patient_of(ours))
    before = _snapshot(ours)
    for method in methods_of(entry):
        body = CONTROL_BODIES.get(name, {"notes": "changed after the patient was deleted"})
        response = getattr(api(doctor), method)(url_of(route, ours.pk), body, format="json")
        assert response.status_code == 404, (method, route, response.content)
        assert response.json()["code"] == "not_found"
    assert _snapshot(ours) == before


@pytest.mark.parametrize("name", PATIENT_LIST_ROUTES)
def test_lists_never_show_a_deleted_patients_rows(api, doctor, name):
    route, _ = api_routes()[name]
    make, search = LIST_ROUTES[name]
    kept = make(doctor.tenant)
    gone = make(doctor.tenant)
    _delete_patient(_patient_of(gone))
    for params in ({}, search):
        body = api(doctor).get(url_of(route), params).json()
        assert [item["id"] for item in body["items"]] == [kept.pk], (route, params, body)
        assert body["total"] == 1, (route, params, body)


@pytest.mark.parametrize(("name", "case"), PATIENT_ID_CASES)
def test_a_deleted_patients_id_in_parameters_is_refused(api, doctor, name, case):
    method, make = ID_PARAMETER_ROUTES[name][case]
    data = make(doctor.tenant)
    if data.get("receiver_id", 0) is None:  # a message about the patient, to a colleague
        data["receiver_id"] = UserFactory(tenant=doctor.tenant, role=Role.NURSE).pk
        name = "message-list"
    route, _ = api_routes()[name]
    with scopes_disabled():
        _delete_patient(Patient.objects.get(pk=data["patient_id"]))
        before = Appointment.objects.count(), Document.objects.count(), Message.objects.count()
    if method == "get":
        response = api(doctor).get(url_of(route), data)
    else:
        body_format = "multipart" if name in MULTIPART_ROUTES else "json"
        response = getattr(api(doctor), method)(url_of(route), data, format=body_format)
    if method == "get":  # a list filtered on a deleted patient: nothing of theirs, or the 400
        assert response.status_code in (200, 400), response.content
        if response.status_code == 200:
            assert response.json()["items"] == []
    else:
        assert response.status_code == 400, (name, data, response.content)
        assert "patient_id" in response.json()["fields"], response.json()
    with scopes_disabled():
        assert (Appointment.objects.count(), Document.objects.count(), Message.objects.count()) == before


def test_the_patients_appointments_and_list_filter_hide_a_deleted_patient(api, doctor):
    appointment = AppointmentFactory(tenant=doctor.tenant)
    _delete_patient(appointment.patient)
    client = api(doctor)
    assert client.get(f"/api/v1/patients/{appointment.patient_id}/appointments").status_code == 404
    body = client.get("/api/v1/appointments", {"patient_id": appointment.patient_id}).json()
    assert body["items"] == [] and body["total"] == 0


def test_a_deleted_patients_appointment_still_holds_the_providers_time(api, doctor):
    """Availability is unaffected: the booked time stays busy (the exclusion constraint sees it)."""
    from datetime import UTC, datetime, time

    from appointments.models import WorkingHours

    start = datetime(2030, 1, 7, 9, 0, tzinfo=UTC)  # a Monday; Dakar is UTC
    with scopes_disabled():
        WorkingHours.objects.create(
            tenant=doctor.tenant, provider=doctor, weekday=0, starts_at=time(9), ends_at=time(10)
        )
    appointment = AppointmentFactory(tenant=doctor.tenant, provider=doctor, appointment_date=start)
    _delete_patient(appointment.patient)
    params = {"provider_id": doctor.pk, "date_from": "2030-01-07", "date_to": "2030-01-07"}
    slots = api(doctor).get("/api/v1/appointments/availability", params).json()["slots"]
    assert [slot["start"][11:16] for slot in slots] == ["09:30"]
    booking = {"patient_id": PatientFactory(tenant=doctor.tenant).pk, "provider_id": doctor.pk}
    response = api(doctor).post(
        "/api/v1/appointments", {**booking, "appointment_date": "2030-01-07T09:00:00"}, format="json"
    )
    assert response.status_code == 409


def test_the_admin_keeps_a_deleted_patients_documents_and_appointments_as_the_record(browser, doctor):
    """What the README says stays visible: the legal record, in the admin, to the clinic's staff."""
    from tests.documents.helpers import make_document

    document = make_document(doctor.tenant)
    appointment = AppointmentFactory(tenant=doctor.tenant, patient=document.patient)
    _delete_patient(document.patient)
    staff = browser(doctor)
    assert staff.get(f"/admin/documents/document/{document.pk}/download/").status_code in (200, 302)
    assert staff.get(f"/admin/appointments/appointment/{appointment.pk}/change/").status_code == 200
    assert staff.get(f"/admin/patients/patient/{document.patient_id}/change/").status_code in (302, 404)
