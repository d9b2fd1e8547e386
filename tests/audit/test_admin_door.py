"""The admin door records patient data shown and changed in the admin, refusals and attempts;
the trail itself is read-only there, for clinic administrators."""

import pytest
from django.db import DatabaseError

from keneyapp.accounts.roles import Role
from keneyapp.core import audit
from keneyapp.core.models import AuditEvent, AuditFlag
from keneyapp.core.scoping import scopes_disabled
from patients.models import Patient
from tests.admin.test_patient_admin import CHANGELIST, change_url, delete_url, patient_form
from tests.audit.helpers import only, trail
from tests.documents.helpers import make_document
from tests.factories import PatientFactory

pytestmark = pytest.mark.django_db
ADD = "/admin/patients/patient/add/"
TRAIL = "/admin/core/auditevent/"


@pytest.fixture
def patient(clinic):
    return PatientFactory(tenant=clinic, first_name="Zébulon", last_name="Secret")


def admin_events():
    return [e for e in trail() if e.door == "admin"]


def test_a_changelist_records_the_patients_shown_never_the_search(browser, doctor, patient, clinic):
    PatientFactory(tenant=clinic, first_name="Awa", last_name="Ndiaye")
    response = browser(doctor).get(CHANGELIST, {"q": "zebulon"})
    assert response.status_code == 200
    [event] = admin_events()
    assert (event.action, event.patient_id, event.params, event.route) == (
        "list", patient.pk, ["q"], "patients_patient_changelist",
    )  # fmt: skip
    assert (event.user_id, event.role, event.tenant_id) == (doctor.pk, "doctor", doctor.tenant_id)
    assert "zebulon" not in repr(event.__dict__).lower()


def test_a_change_page_records_a_view(browser, doctor, patient):
    assert browser(doctor).get(change_url(patient)).status_code == 200
    event = only()
    assert (event.door, event.action, event.object_id, event.patient_id) == (
        "admin",
        "view",
        patient.pk,
        patient.pk,
    )


def test_a_change_records_the_fields_changed(browser, doctor, patient):
    form = patient_form(first_name="Zébulon", last_name="Nouveau", mrn=patient.mrn,
                        date_of_birth=f"{patient.date_of_birth:%Y-%m-%d}", sex=patient.sex,
                        email=patient.email, phone_number=patient.phone_number)  # fmt: skip
    response = browser(doctor).post(change_url(patient), form)
    assert response.status_code == 302, response.context["adminform"].form.errors if response.context else ""
    [change] = [e for e in admin_events() if e.action == "change"]
    assert "last_name" in change.fields and "first_name" not in change.fields
    assert "Nouveau" not in repr(change.__dict__)


def test_an_add_records_a_create(browser, doctor):
    assert browser(doctor).post(ADD, patient_form()).status_code == 302
    with scopes_disabled():
        created = Patient.objects.get(last_name="Sarr")
    [create] = [e for e in admin_events() if e.action == "create"]
    assert (create.object_id, create.patient_id) == (created.pk, created.pk)


def test_a_delete_records_a_delete(browser, doctor, patient):
    assert browser(doctor).post(delete_url(patient), {"post": "yes"}).status_code == 302
    assert [(e.action, e.patient_id) for e in admin_events() if e.action == "delete"] == [
        ("delete", patient.pk)
    ]


def test_a_refused_delete_is_recorded(browser, receptionist, patient):
    assert browser(receptionist).post(delete_url(patient), {"post": "yes"}).status_code == 403
    event = only()
    assert (event.action, event.outcome, event.object_id, event.role) == (
        "delete", "denied", patient.pk, "receptionist",
    )  # fmt: skip


def test_another_clinics_patient_is_an_attempt(browser, doctor, other_clinic):
    theirs = PatientFactory(tenant=other_clinic)
    response = browser(doctor).get(change_url(theirs))
    assert response.status_code == 302  # the admin's "no such object": back to the admin index
    event = only()
    assert (event.action, event.outcome, event.object_id, event.tenant_id) == (
        "view", "attempted", theirs.pk, doctor.tenant_id,
    )  # fmt: skip


def test_an_admin_download_is_recorded(browser, doctor, patient):
    document = make_document(doctor.tenant, patient=patient)
    response = browser(doctor).get(f"/admin/documents/document/{document.pk}/download/")
    assert response.status_code in (200, 302)
    [download] = [e for e in admin_events() if e.action == "download"]
    assert (download.object_id, download.patient_id, download.model) == (
        document.pk, patient.pk, "documents.document",
    )  # fmt: skip


@pytest.fixture
def audit_down(monkeypatch):
    def refuse(*args, **kwargs):
        raise DatabaseError("audit table unavailable")

    monkeypatch.setattr(audit, "insert_events", refuse)


def test_an_admin_page_whose_trail_cannot_be_stored_is_a_503(browser, doctor, patient, audit_down):
    response = browser(doctor).get(change_url(patient))
    assert response.status_code == 503
    assert response["Retry-After"].isdigit()  # the outage page of every 503
    assert "Secret" not in response.content.decode()


def test_an_admin_change_whose_trail_cannot_be_stored_is_rolled_back(browser, doctor, patient, audit_down):
    form = patient_form(first_name="Zébulon", last_name="Unrecorded", mrn=patient.mrn,
                        date_of_birth=f"{patient.date_of_birth:%Y-%m-%d}", sex=patient.sex,
                        email=patient.email, phone_number=patient.phone_number)  # fmt: skip
    assert browser(doctor).post(change_url(patient), form).status_code == 503
    with scopes_disabled():
        assert Patient.objects.get(pk=patient.pk).last_name == "Secret"


# --- the trail in the admin ---
def event(tenant, **fields) -> AuditEvent:
    from django.utils import timezone

    values = {"door": "api", "action": "view", "model": "patients.patient", "user_id": 1} | fields
    return AuditEvent._base_manager.create(at=timezone.now(), tenant=tenant, **values)


def test_clinic_administrators_read_their_clinics_trail_only(browser, clinic_admin, clinic, other_clinic):
    ours, theirs = event(clinic, patient_id=1), event(other_clinic, patient_id=2)
    response = browser(clinic_admin).get(TRAIL)
    assert response.status_code == 200
    shown = {row.pk for row in response.context["cl"].result_list}
    assert ours.pk in shown and theirs.pk not in shown


@pytest.mark.parametrize("role", [Role.DOCTOR, Role.NURSE, Role.RECEPTIONIST])
def test_no_other_role_reads_the_trail(browser, staff_of, role):
    assert browser(staff_of(role)).get(TRAIL).status_code == 403


def test_the_trail_is_read_only_in_the_admin(browser, clinic_admin, clinic):
    row = event(clinic)
    client = browser(clinic_admin)
    assert client.get(f"{TRAIL}add/").status_code == 403
    assert client.post(f"{TRAIL}{row.pk}/delete/", {"post": "yes"}).status_code == 403
    page = client.get(f"{TRAIL}{row.pk}/change/")
    assert page.status_code == 200 and b'name="_save"' not in page.content
    assert client.post(f"{TRAIL}{row.pk}/change/", {"action": "delete"}).status_code == 403
    with scopes_disabled():
        assert AuditEvent.objects.get(pk=row.pk).action == "view"


def test_the_trail_filters_by_user_patient_action_door_outcome_and_date(
    browser, clinic_admin, doctor, clinic
):
    a = event(clinic, user_id=doctor.pk, patient_id=987654, action="download", door="admin", outcome="denied")
    b = event(clinic, user_id=clinic_admin.pk, patient_id=6)
    client = browser(clinic_admin)

    def shown(**params):
        return {row.pk for row in client.get(TRAIL, params).context["cl"].result_list} & {a.pk, b.pk}

    assert shown(user_id=doctor.pk) == {a.pk}
    assert shown(patient_id=6) == {b.pk}
    assert shown(q="987654") == {a.pk}  # the search box: an exact patient, user or object id
    assert shown(action__exact="download") == {a.pk}
    assert shown(door__exact="admin") == {a.pk}
    assert shown(outcome__exact="denied") == {a.pk}
    assert shown(at__gte="2000-01-01 00:00:00+00:00") == {a.pk, b.pk}
    assert shown(at__lt="2000-01-01 00:00:00+00:00") == set()


def test_the_trail_changelist_costs_the_same_queries_whatever_its_size(
    browser, clinic_admin, clinic, django_assert_max_num_queries
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = browser(clinic_admin)
    event(clinic)
    client.get(TRAIL)
    with CaptureQueriesContext(connection) as few:
        client.get(TRAIL)
    for i in range(150):
        event(clinic, patient_id=i)
    with django_assert_max_num_queries(len(few)):
        client.get(TRAIL)


def test_flags_are_shown_to_clinic_administrators(browser, clinic_admin, doctor, clinic):
    from django.utils import timezone

    AuditFlag.objects.create(
        tenant=clinic, user_id=doctor.pk, reason="many_patients", hour=timezone.now(), count=77
    )
    response = browser(clinic_admin).get("/admin/core/auditflag/")
    assert response.status_code == 200
    assert [row.count for row in response.context["cl"].result_list] == [77]


def test_the_patient_autocomplete_records_the_patients_it_suggested(browser, receptionist, patient, clinic):
    PatientFactory(tenant=clinic, first_name="Awa", last_name="Ndiaye")
    response = browser(receptionist).get(
        "/admin/autocomplete/",
        {"app_label": "appointments", "model_name": "appointment", "field_name": "patient", "term": "zeb"},
    )
    assert response.status_code == 200
    assert [int(item["id"]) for item in response.json()["results"]] == [patient.pk]
    [event] = admin_events()
    assert (event.action, event.model, event.patient_id, event.route) == (
        "list", "patients.patient", patient.pk, "autocomplete",
    )  # fmt: skip
    assert "term" in event.params and "zeb" not in repr(event.__dict__)


def test_the_provider_autocomplete_records_nothing(browser, receptionist, doctor):
    response = browser(receptionist).get(
        "/admin/autocomplete/",
        {"app_label": "appointments", "model_name": "appointment", "field_name": "provider", "term": ""},
    )
    assert response.status_code == 200
    assert admin_events() == []


def test_a_superusers_changelist_records_each_patient_in_their_clinics_trail(
    browser, superuser, patient, clinic, other_clinic
):
    theirs = PatientFactory(tenant=other_clinic)

    assert browser(superuser).get(CHANGELIST).status_code == 200

    shown = {(e.patient_id, e.tenant_id, e.user_id, e.action) for e in admin_events()}
    assert shown == {
        (patient.pk, clinic.pk, superuser.pk, "list"),
        (theirs.pk, other_clinic.pk, superuser.pk, "list"),
    }


def test_a_superuser_attached_to_a_clinic_records_another_clinics_patient_in_that_clinics_trail(
    browser, staff_of, patient, other_clinic
):
    operator = staff_of(Role.ADMIN, username="operator", is_superuser=True)
    theirs = PatientFactory(tenant=other_clinic)

    assert browser(operator).get(change_url(theirs)).status_code == 200

    assert [(e.action, e.patient_id, e.tenant_id) for e in admin_events()] == [
        ("view", theirs.pk, other_clinic.pk)
    ]


def test_a_clinic_admins_attempt_on_another_clinics_patient_stays_in_their_own_trail(
    browser, staff_of, clinic, other_clinic
):
    theirs = PatientFactory(tenant=other_clinic)

    browser(staff_of(Role.ADMIN, username="adele")).get(change_url(theirs))

    assert [(e.outcome, e.object_id, e.tenant_id) for e in admin_events()] == [
        ("attempted", theirs.pk, clinic.pk)
    ]
