"""Clinic administrators read their clinic's trail (GET /api/v1/audit) and a patient's access
report (JSON and PDF); nobody else does."""

from datetime import timedelta

import pytest
from django.utils import timezone

from keneyapp.accounts.roles import Role
from keneyapp.core.models import AuditEvent
from tests.audit.helpers import trail
from tests.error_shape import assert_error
from tests.factories import PatientFactory, UserFactory

pytestmark = pytest.mark.django_db
AUDIT_URL = "/api/v1/audit"


def event(tenant, *, user_id, patient_id=None, days_ago=0, **fields) -> AuditEvent:
    values = {"door": "api", "action": "view", "model": "patients.patient", "role": "doctor"} | fields
    return AuditEvent._base_manager.create(
        at=timezone.now() - timedelta(days=days_ago),
        tenant=tenant,
        user_id=user_id,
        object_id=patient_id,
        patient_id=patient_id,
        **values,
    )


@pytest.mark.parametrize("role", [Role.DOCTOR, Role.NURSE, Role.RECEPTIONIST])
def test_only_clinic_administrators_read_the_trail(api, staff_of, role):
    assert_error(api(staff_of(role)).get(AUDIT_URL), 403, code="permission_denied")
    refused = [e for e in trail() if e.outcome == "denied"]
    assert [(e.model, e.action) for e in refused] == [("core.auditevent", "list")]


def test_the_trail_pages_newest_first_with_usernames(api, clinic_admin, doctor, clinic):
    patient = PatientFactory(tenant=clinic)
    older = event(clinic, user_id=doctor.pk, patient_id=patient.pk, days_ago=2)
    newer = event(
        clinic, user_id=doctor.pk, patient_id=patient.pk, days_ago=1, action="change", fields=["phone"]
    )
    # (By user: the administrator's own reads are in the trail too.)
    body = api(clinic_admin).get(AUDIT_URL, {"limit": 1, "user_id": doctor.pk}).json()
    assert (body["total"], body["skip"], body["limit"]) == (2, 0, 1)
    [item] = body["items"]
    assert (item["id"], item["username"], item["fields"], item["action"]) == (
        newer.pk, doctor.username, ["phone"], "change",
    )  # fmt: skip
    second = api(clinic_admin).get(AUDIT_URL, {"skip": 1, "limit": 1, "user_id": doctor.pk}).json()
    assert second["items"][0]["id"] == older.pk


def test_filters_narrow_the_trail(api, clinic_admin, doctor, nurse, clinic):
    mine, theirs = PatientFactory(tenant=clinic), PatientFactory(tenant=clinic)
    a = event(clinic, user_id=doctor.pk, patient_id=mine.pk)
    b = event(clinic, user_id=nurse.pk, patient_id=theirs.pk, action="download", role="nurse")
    c = event(clinic, user_id=nurse.pk, patient_id=mine.pk, outcome="denied", door="admin", days_ago=10)
    client = api(clinic_admin)

    def ids(**params):
        return {item["id"] for item in client.get(AUDIT_URL, params).json()["items"]}

    assert ids(user_id=nurse.pk) == {b.pk, c.pk}
    assert ids(patient_id=mine.pk) == {a.pk, c.pk}
    assert ids(action="download") == {b.pk}
    assert ids(door="admin") == {c.pk}
    assert ids(outcome="denied") == {c.pk}
    three_days_ago = (timezone.now() - timedelta(days=3)).date().isoformat()
    assert ids(patient_id=mine.pk, date_from=three_days_ago) == {a.pk}
    assert ids(date_to=(timezone.now() - timedelta(days=5)).date().isoformat()) == {c.pk}


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("user_id", "abc"),
        ("user_id", "١٢"),
        ("patient_id", "0"),
        ("patient_id", "99999999999999999999"),
        ("action", "peek"),
        ("door", "window"),
        ("outcome", "maybe"),
        ("date_from", "yesterday"),
        ("date_to", "2026-02-30"),
        ("limit", "1000"),
    ],
)
def test_a_bad_filter_is_a_400_naming_it(api, clinic_admin, name, value):
    assert_error(api(clinic_admin).get(AUDIT_URL, {name: value}), 400, fields=(name,))


def test_another_clinics_user_or_patient_is_an_empty_page(api, clinic_admin, other_clinic, outsider):
    theirs = PatientFactory(tenant=other_clinic)
    event(other_clinic, user_id=outsider.pk, patient_id=theirs.pk)
    for params in ({"user_id": outsider.pk}, {"patient_id": theirs.pk}):
        body = api(clinic_admin).get(AUDIT_URL, params).json()
        assert (body["items"], body["total"]) == ([], 0), params
    unfiltered = api(clinic_admin).get(AUDIT_URL).json()["items"]
    assert {item["user_id"] for item in unfiltered} == {clinic_admin.pk}  # its own reads only


def test_reading_the_trail_is_itself_recorded_without_patients(api, clinic_admin, doctor, clinic):
    event(clinic, user_id=doctor.pk, patient_id=PatientFactory(tenant=clinic).pk)
    api(clinic_admin).get(AUDIT_URL, {"patient_id": 1})
    read = trail(user_id=clinic_admin.pk)
    assert [(e.action, e.model, e.patient_id, e.params) for e in read] == [
        ("list", "core.auditevent", None, ["patient_id"]),
    ]  # fmt: skip


def test_a_patients_trail_is_one_indexed_query(api, clinic_admin, clinic, django_assert_num_queries):
    patient = PatientFactory(tenant=clinic)
    kw = {"at": timezone.now(), "tenant": clinic, "user_id": 1, "door": "api", "action": "view"}
    AuditEvent._base_manager.bulk_create(
        [
            AuditEvent(model="patients.patient", patient_id=patient.pk if i % 10 == 0 else 10**6 + i, **kw)
            for i in range(500)
        ]
    )
    client = api(clinic_admin)
    client.get("/api/v1/auth/me")
    # The count and the page (each one range of the (tenant, patient_id, -at) index), the page's
    # usernames, the trail's own INSERT.
    with django_assert_num_queries(4) as queries:
        body = client.get(AUDIT_URL, {"patient_id": patient.pk, "limit": 100}).json()
    assert body["total"] == 50 and len(body["items"]) == 50
    assert sum("core_auditevent" in q["sql"] and q["sql"].startswith("SELECT") for q in queries) == 2


# --- the patient's access report ---
def test_the_access_report_lists_who_accessed_the_record(api, clinic_admin, doctor, clinic):
    patient = PatientFactory(tenant=clinic, first_name="Awa", last_name="Ndiaye")
    doctor.first_name, doctor.last_name = "Mamadou", "Diallo"
    doctor.save()
    api(doctor).get(f"/api/v1/patients/{patient.pk}")
    api(doctor).patch(f"/api/v1/patients/{patient.pk}", {"notes": "x"}, format="json")
    other = PatientFactory(tenant=clinic)
    api(doctor).get(f"/api/v1/patients/{other.pk}")  # another patient: not in this report
    report = api(clinic_admin).get(f"/api/v1/patients/{patient.pk}/access-report")
    assert report.status_code == 200, report.content
    body = report.json()
    assert body["patient"]["id"] == patient.pk and body["truncated"] is False
    assert [(a["action"], a["staff_name"], a["role"]) for a in body["accesses"]] == [
        ("change", "Mamadou Diallo", "doctor"),
        ("view", "Mamadou Diallo", "doctor"),
    ]
    # The report is an access too: it is in the next one.
    again = api(clinic_admin).get(f"/api/v1/patients/{patient.pk}/access-report").json()
    assert again["accesses"][0]["action"] == "report"


def test_the_access_report_pdf(api, clinic_admin, doctor, clinic):
    patient = PatientFactory(tenant=clinic)
    api(doctor).get(f"/api/v1/patients/{patient.pk}")
    response = api(clinic_admin).get(f"/api/v1/patients/{patient.pk}/access-report.pdf")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF-")


@pytest.mark.parametrize("suffix", ["access-report", "access-report.pdf"])
def test_the_access_report_is_for_administrators_and_this_clinic(api, doctor, clinic, other_clinic, suffix):
    patient = PatientFactory(tenant=clinic)
    assert_error(api(doctor).get(f"/api/v1/patients/{patient.pk}/{suffix}"), 403, code="permission_denied")
    theirs = PatientFactory(tenant=other_clinic)
    admin = UserFactory(tenant=clinic, role=Role.ADMIN)
    assert_error(api(admin).get(f"/api/v1/patients/{theirs.pk}/{suffix}"), 404, code="not_found")


def test_a_deleted_patients_accesses_stay_in_the_trail(api, clinic_admin, doctor, clinic):
    patient = PatientFactory(tenant=clinic)
    api(doctor).get(f"/api/v1/patients/{patient.pk}")
    assert api(doctor).delete(f"/api/v1/patients/{patient.pk}").status_code == 204
    body = api(clinic_admin).get(AUDIT_URL, {"patient_id": patient.pk}).json()
    assert [item["action"] for item in body["items"]] == ["delete", "view"]
