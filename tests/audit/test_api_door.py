"""The API door records every access to patient-linked data: who, what, which patient, the
outcome; never a value (tests of keneyapp.core.views.ClinicApiView's audit)."""

import pytest
from django.db import DatabaseError, connection

from keneyapp.core import audit
from keneyapp.core.scoping import scopes_disabled
from patients.models import Patient
from tests.audit.helpers import only, trail
from tests.documents.helpers import PDF, make_document, upload
from tests.error_shape import assert_error
from tests.factories import AppointmentFactory, MessageFactory, PatientFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def patient(clinic):
    return PatientFactory(tenant=clinic, first_name="Zébulon", last_name="Secret")


def test_a_view_records_who_what_which_patient_and_from_where(api, doctor, patient):
    response = api(doctor).get(f"/api/v1/patients/{patient.pk}", REMOTE_ADDR="10.1.2.3")
    assert response.status_code == 200
    event = only()
    assert (event.action, event.model, event.object_id, event.patient_id) == (
        "view", "patients.patient", patient.pk, patient.pk,
    )  # fmt: skip
    assert (event.user_id, event.role, event.tenant_id, event.door) == (
        doctor.pk, "doctor", doctor.tenant_id, "api",
    )  # fmt: skip
    assert (event.outcome, event.address, event.route) == ("allowed", "10.1.2.3", "patient-detail")


def test_the_client_address_honours_num_proxies(api, doctor, patient, settings):
    settings.NUM_PROXIES = 1
    api(doctor).get(
        f"/api/v1/patients/{patient.pk}", REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="1.2.3.4, 5.6.7.8"
    )
    assert only().address == "5.6.7.8"


def test_a_search_records_the_patients_shown_and_the_parameter_names_never_the_terms(
    api, doctor, patient, clinic
):
    other = PatientFactory(tenant=clinic, first_name="Zébulon", last_name="Autre")
    PatientFactory(tenant=clinic, first_name="Awa", last_name="Ndiaye")  # not matched: not shown
    response = api(doctor).get("/api/v1/patients", {"search": "zebulon", "fields": "last_name"})
    assert response.status_code == 200
    assert all(set(row) == {"last_name"} for row in response.json()["items"])  # ids left out...
    events = trail()
    assert {e.patient_id for e in events} == {patient.pk, other.pk}  # ...and recorded all the same
    assert {e.action for e in events} == {"list"}
    assert all(e.params == ["fields", "search"] for e in events)
    stored = repr([(e.params, e.fields, e.route, e.model) for e in events])
    assert "zebulon" not in stored.lower()


def test_an_empty_list_records_one_event_without_a_patient(api, doctor):
    assert api(doctor).get("/api/v1/patients").json()["items"] == []
    event = only()
    assert (event.action, event.patient_id) == ("list", None)


def test_a_create_records_the_new_row_and_its_patient(api, doctor):
    body = {"first_name": "Awa", "last_name": "Ndiaye", "date_of_birth": "1990-01-01", "sex": "female"}
    created = api(doctor).post("/api/v1/patients", body, format="json").json()
    event = only()
    assert (event.action, event.object_id, event.patient_id) == ("create", created["id"], created["id"])


def test_a_change_records_the_names_of_the_fields_changed_never_their_values(api, doctor, patient):
    body = {"first_name": "Zébulon", "last_name": "Nouveau", "email": "nouveau@example.org"}
    response = api(doctor).patch(f"/api/v1/patients/{patient.pk}", body, format="json")
    assert response.status_code == 200, response.content
    event = only()
    assert (event.action, event.patient_id) == ("change", patient.pk)
    assert event.fields == ["email", "last_name"]  # first_name was the same: not changed
    assert "Nouveau" not in repr(event.__dict__) and "nouveau@" not in repr(event.__dict__)


def test_a_delete_records_the_patient(api, doctor, patient):
    assert api(doctor).delete(f"/api/v1/patients/{patient.pk}").status_code == 204
    assert only().action == "delete"


def test_a_download_records_the_document_and_its_patient(api, doctor, patient, local_storage):
    document_id = upload(api(doctor), patient, PDF).json()["id"]
    assert api(doctor).get(f"/api/v1/documents/{document_id}/download").status_code == 200
    create, download = trail()
    assert (create.action, create.model, create.object_id, create.patient_id) == (
        "create", "documents.document", document_id, patient.pk,
    )  # fmt: skip
    assert (download.action, download.object_id, download.patient_id) == ("download", document_id, patient.pk)


def test_a_report_request_records_a_report_of_the_patient(api, doctor, patient):
    assert api(doctor).post(f"/api/v1/patients/{patient.pk}/report").status_code == 202
    report = [e for e in trail() if e.door == "api"]
    assert [(e.action, e.model, e.patient_id) for e in report] == [("report", "patients.patient", patient.pk)]


def test_appointment_and_message_reads_name_their_patient(api, doctor, patient, nurse):
    appointment = AppointmentFactory(tenant=doctor.tenant, patient=patient)
    message = MessageFactory(tenant=doctor.tenant, sender=nurse, receiver=doctor, patient=patient)
    client = api(doctor)
    client.get(f"/api/v1/appointments/{appointment.pk}")
    client.get("/api/v1/appointments")
    client.get(f"/api/v1/patients/{patient.pk}/appointments")
    client.get(f"/api/v1/messages/{message.pk}")
    events = [(e.action, e.model, e.patient_id, e.route) for e in trail()]
    assert events == [
        ("view", "appointments.appointment", patient.pk, "appointment-detail"),
        ("list", "appointments.appointment", patient.pk, "appointment-list"),
        ("list", "appointments.appointment", patient.pk, "patient-appointments"),
        ("view", "messaging.message", patient.pk, "message-detail"),
    ]


def test_a_document_list_and_detail_record_their_patient(api, doctor, patient):
    document = make_document(doctor.tenant, patient=patient)
    api(doctor).get("/api/v1/documents")
    api(doctor).get(f"/api/v1/documents/{document.pk}")
    assert [(e.action, e.patient_id) for e in trail()] == [("list", patient.pk), ("view", patient.pk)]


def test_a_refusal_by_role_is_recorded_and_still_403(api, receptionist, patient):
    response = api(receptionist).delete(f"/api/v1/patients/{patient.pk}")
    assert_error(response, 403, code="permission_denied")
    event = only()
    assert (event.action, event.outcome, event.patient_id, event.role) == (
        "delete", "denied", patient.pk, "receptionist",
    )  # fmt: skip
    with scopes_disabled():
        assert not Patient.objects.get(pk=patient.pk).is_deleted


def test_another_clinics_id_is_recorded_as_an_attempt_and_still_404(api, doctor, other_clinic):
    theirs = PatientFactory(tenant=other_clinic)
    for method in ("get", "patch", "delete"):
        response = getattr(api(doctor), method)(f"/api/v1/patients/{theirs.pk}", {}, format="json")
        assert_error(response, 404, code="not_found")
    events = trail()
    assert [(e.action, e.outcome) for e in events] == [
        ("view", "attempted"), ("change", "attempted"), ("delete", "attempted"),
    ]  # fmt: skip
    # Recorded in the caller's clinic, with the id tried: the other clinic's trail shows nothing.
    assert {(e.tenant_id, e.object_id, e.user_id) for e in events} == {
        (doctor.tenant_id, theirs.pk, doctor.pk)
    }


def test_an_unknown_id_is_recorded_as_an_attempt(api, doctor):
    assert api(doctor).get("/api/v1/documents/987654").status_code == 404
    event = only()
    assert (event.model, event.object_id, event.outcome, event.patient_id) == (
        "documents.document", 987654, "attempted", None,
    )  # fmt: skip


def test_routes_without_patient_data_record_nothing(api, doctor):
    api(doctor).get("/api/v1/auth/me")
    api(doctor).get("/api/v1/dashboard/stats")
    api(doctor).get("/api/v1/messages/unread-count")
    assert trail() == []


def test_one_insert_per_request(api, doctor, clinic, django_assert_num_queries):
    for _ in range(5):
        PatientFactory(tenant=clinic)
    client = api(doctor)
    client.get("/api/v1/auth/me")  # the user is cached now
    with django_assert_num_queries(3) as queries:  # the count, the page; the audit trail's INSERT
        client.get("/api/v1/patients", {"ordering": "id"})
    inserts = [q["sql"] for q in queries if q["sql"].startswith("INSERT")]
    assert len(inserts) == 1 and "core_auditevent" in inserts[0]
    assert len(trail()) == 5


# --- fail closed ---
@pytest.fixture
def audit_down(monkeypatch):
    def refuse(*args, **kwargs):
        raise DatabaseError("audit table unavailable")

    monkeypatch.setattr(audit, "insert_events", refuse)


def test_a_read_whose_trail_cannot_be_stored_is_a_503_without_the_data(api, doctor, patient, audit_down):
    response = api(doctor).get(f"/api/v1/patients/{patient.pk}")
    assert_error(response, 503, code="audit_unavailable")
    assert response["Retry-After"].isdigit()  # as every 503 of the project says when to retry
    assert "Secret" not in response.content.decode()
    response = api(doctor).get("/api/v1/patients")
    assert_error(response, 503, code="audit_unavailable")
    assert "Secret" not in response.content.decode()


def test_a_write_whose_trail_cannot_be_stored_is_rolled_back(api, doctor, patient, audit_down):
    response = api(doctor).patch(f"/api/v1/patients/{patient.pk}", {"last_name": "Changed"}, format="json")
    assert_error(response, 503, code="audit_unavailable")
    with scopes_disabled():
        assert Patient.objects.get(pk=patient.pk).last_name == "Secret"
    response = api(doctor).post(
        "/api/v1/patients",
        {"first_name": "Awa", "last_name": "Unrecorded", "date_of_birth": "1990-01-01", "sex": "female"},
        format="json",
    )
    assert_error(response, 503, code="audit_unavailable")
    with scopes_disabled():
        assert not Patient.objects.filter(last_name="Unrecorded").exists()


def test_a_download_whose_trail_cannot_be_stored_sends_no_file(
    api, doctor, patient, local_storage, monkeypatch
):
    document_id = upload(api(doctor), patient, PDF).json()["id"]
    monkeypatch.setattr(audit, "insert_events", lambda events: (_ for _ in ()).throw(DatabaseError()))
    response = api(doctor).get(f"/api/v1/documents/{document_id}/download")
    assert_error(response, 503, code="audit_unavailable")


def test_the_trail_can_be_turned_off_for_the_benchmark(api, doctor, patient, settings):
    settings.AUDIT_TRAIL = False
    assert api(doctor).get(f"/api/v1/patients/{patient.pk}").status_code == 200
    assert trail() == []


def test_a_list_of_a_hundred_patients_is_still_one_insert(api, doctor, clinic, django_assert_num_queries):
    # On SQLite Django's bulk_create would split this into batches of 999 parameters.
    for _ in range(100):
        PatientFactory(tenant=clinic)
    client = api(doctor)
    client.get("/api/v1/auth/me")
    with django_assert_num_queries(3) as queries:  # the count, the page, the trail's one INSERT
        assert len(client.get("/api/v1/patients", {"limit": 100}).json()["items"]) == 100
    assert sum(q["sql"].startswith("INSERT") for q in queries) == 1
    assert len({e.patient_id for e in trail()}) == 100


def test_many_events_of_several_kinds_are_stored_whole(clinic, monkeypatch, django_assert_num_queries):
    monkeypatch.setattr(audit, "SQLITE_MAX_PARAMETERS", 14 * 40)  # SQLite: 40 rows a statement
    with audit.open_trail(audit.Door.COMMAND, route="test") as trail_:
        trail_.record(audit.Action.EXPORT, "patients.patient", patient_ids=range(1, 101), tenant_id=clinic.pk)
        trail_.record(audit.Action.CHANGE, "patients.patient", object_id=7, patient_id=7, fields=["b", "a"],
                      tenant_id=clinic.pk, outcome=audit.Outcome.DENIED)  # fmt: skip
        trail_.record(audit.Action.VIEW, "documents.document", object_id=9, tenant_id=clinic.pk)
        with django_assert_num_queries(1 if connection.vendor == "postgresql" else 3):
            trail_.flush()
    stored = trail()
    assert len(stored) == 102
    assert {e.patient_id for e in stored if e.action == "export"} == set(range(1, 101))
    change = only(action="change")
    assert (change.object_id, change.patient_id, change.fields, change.outcome, change.tenant_id) == (
        7, 7, ["a", "b"], "denied", clinic.pk,
    )  # fmt: skip
    view = only(action="view")
    assert (view.model, view.object_id, view.patient_id, view.params) == ("documents.document", 9, None, [])
