"""The field x role matrix: every restricted field of the roles table (roles.FIELD_PERMISSIONS),
every role, through the API and the admin.

- a role allowed the field reads it in the API's answers and the admin's form, and writes it;
- a role refused it finds it in no answer (detail, list, a write's answer) and no admin form;
  asking for it by name (`?fields=`) or writing it is 403 in the API's error shape naming the
  field, and a crafted admin POST that sets it is refused; the stored value is unchanged.

A new entry of FIELD_PERMISSIONS is in the matrix the moment it exists;
`test_every_restricted_field_has_a_door_here` fails until its model says how to reach it.
"""

from dataclasses import dataclass
from datetime import timedelta

import pytest
from django.utils import timezone

from keneyapp.accounts.roles import FIELD_PERMISSIONS, Role
from keneyapp.core.scoping import scopes_disabled
from tests.error_shape import assert_error
from tests.factories import AppointmentFactory, PatientFactory

SECRET = "Suspected hypertension; recheck in 2 weeks."


@dataclass(frozen=True)
class Door:
    make: object  # user -> an object of the user's clinic holding SECRET in every restricted field
    detail: str  # API detail route, "{pk}" for the id
    list: str  # API list route
    admin_change: str  # admin change page, "{pk}" for the id
    admin_form: object  # object -> the admin form's other fields, as a browser posts them


def _patient(user):
    return PatientFactory(tenant=user.tenant, notes=SECRET, allergies="Penicillin")


def _appointment(user):
    start = timezone.now().replace(microsecond=0) + timedelta(days=3)
    return AppointmentFactory(tenant=user.tenant, notes=SECRET, appointment_date=start)


def _patient_form(patient) -> dict:
    return {
        "mrn": patient.mrn,
        "first_name": patient.first_name,
        "last_name": "Renamed",
        "date_of_birth": patient.date_of_birth.isoformat(),
        "sex": patient.sex,
        "email": patient.email,
        "phone_number": patient.phone_number,
        "address": patient.address,
        "emergency_contact": patient.emergency_contact,
        "allergies": patient.allergies,
        "_save": "Save",
    }


DOORS = {
    "patients.patient": Door(
        make=_patient,
        detail="/api/v1/patients/{pk}",
        list="/api/v1/patients",
        admin_change="/admin/patients/patient/{pk}/change/",
        admin_form=_patient_form,
    ),
    "appointments.appointment": Door(
        make=_appointment,
        detail="/api/v1/appointments/{pk}",
        list="/api/v1/appointments",
        admin_change="/admin/appointments/appointment/{pk}/change/",
        admin_form=None,  # the appointment admin's form is exercised by its own tests
    ),
}
CASES = [
    (key.rsplit(".", 1)[0], key.rsplit(".", 1)[1], role, role in roles)
    for key, roles in sorted(FIELD_PERMISSIONS.items())
    for role in Role
]
IDS = [f"{model}.{field}-{role}" for model, field, role, _ in CASES]


def test_every_restricted_field_has_a_door_here():
    assert {key.rsplit(".", 1)[0] for key in FIELD_PERMISSIONS} <= set(DOORS)


def test_clinical_text_is_for_clinicians_and_clinic_admins_and_allergies_for_everyone():
    clinical = {Role.ADMIN, Role.DOCTOR, Role.NURSE}
    assert FIELD_PERMISSIONS["patients.patient.notes"] == clinical
    assert FIELD_PERMISSIONS["appointments.appointment.notes"] == clinical
    assert "patients.patient.allergies" not in FIELD_PERMISSIONS


def _stored(obj, field):
    with scopes_disabled():
        obj.refresh_from_db()
    return getattr(obj, field)


@pytest.mark.parametrize(("model", "field", "role", "allowed"), CASES, ids=IDS)
def test_api_answers_hold_the_field_as_the_roles_table_says(api, staff_of, model, field, role, allowed):
    user = staff_of(role)
    with scopes_disabled():
        obj = DOORS[model].make(user)
    client = api(user)

    detail = client.get(DOORS[model].detail.format(pk=obj.pk))
    listed = client.get(DOORS[model].list)

    assert detail.status_code == 200 and listed.status_code == 200
    assert (field in detail.json()) is allowed
    [row] = [item for item in listed.json()["items"] if item["id"] == obj.pk]
    assert (field in row) is allowed
    if allowed:
        assert detail.json()[field] == SECRET
    assert SECRET not in detail.content.decode() + listed.content.decode() or allowed


@pytest.mark.parametrize(("model", "field", "role", "allowed"), CASES, ids=IDS)
def test_api_writes_of_the_field_as_the_roles_table_says(api, staff_of, model, field, role, allowed):
    user = staff_of(role)
    with scopes_disabled():
        obj = DOORS[model].make(user)

    response = api(user).patch(DOORS[model].detail.format(pk=obj.pk), {field: "rewritten"}, format="json")

    if allowed:
        assert response.status_code == 200, response.content
        assert _stored(obj, field) == "rewritten"
    else:
        body = assert_error(response, 403, code="permission_denied", fields=(field,))
        assert body["fields"][field][0]["code"] == "field_not_permitted"
        assert _stored(obj, field) == SECRET


def test_a_receptionist_asking_for_notes_by_name_gets_403_naming_it(api, receptionist):
    response = api(receptionist).get("/api/v1/patients?fields=id,notes")

    assert_error(response, 403, code="permission_denied", fields=("notes",))


def test_a_receptionist_creating_a_patient_with_notes_is_refused_and_nothing_is_created(api, receptionist):
    body = {"first_name": "Awa", "last_name": "Ndiaye", "date_of_birth": "1980-01-01", "notes": "x"}

    response = api(receptionist).post("/api/v1/patients", body, format="json")

    assert_error(response, 403, code="permission_denied", fields=("notes",))
    with scopes_disabled():
        from patients.models import Patient

        assert not Patient.objects.filter(last_name="Ndiaye").exists()


def test_a_receptionist_booking_with_notes_is_refused(api, receptionist, doctor):
    with scopes_disabled():
        patient = PatientFactory(tenant=receptionist.tenant)
    start = (timezone.now() + timedelta(days=2)).replace(microsecond=0).isoformat()
    body = {"patient_id": patient.pk, "provider_id": doctor.pk, "appointment_date": start, "notes": "x"}

    response = api(receptionist).post("/api/v1/appointments", body, format="json")

    assert_error(response, 403, code="permission_denied", fields=("notes",))


def test_a_receptionist_still_books_and_sees_the_reason(api, receptionist, doctor):
    with scopes_disabled():
        patient = PatientFactory(tenant=receptionist.tenant)
    start = (timezone.now() + timedelta(days=2)).replace(microsecond=0).isoformat()
    body = {"patient_id": patient.pk, "provider_id": doctor.pk, "appointment_date": start, "reason": "Fever"}

    response = api(receptionist).post("/api/v1/appointments", body, format="json")

    assert response.status_code == 201, response.content
    assert response.json()["reason"] == "Fever"
    assert "notes" not in response.json()


@pytest.mark.parametrize("path", ["/api/v1/patients/{pk}", "/api/v1/patients"])
def test_a_cached_clinicians_answer_is_never_served_to_a_receptionist(api, doctor, receptionist, path):
    with scopes_disabled():
        patient = _patient(doctor)
    url = path.format(pk=patient.pk)

    assert SECRET in api(doctor).get(url).content.decode()  # cached now
    assert SECRET in api(doctor).get(url).content.decode()  # served from the cache
    seen = api(receptionist).get(url)

    assert seen.status_code == 200
    assert SECRET not in seen.content.decode()
    assert "Penicillin" in seen.content.decode()  # allergies: everyone at the desk sees them


# --- the admin ---


@pytest.mark.parametrize(("model", "field", "role", "allowed"), CASES, ids=IDS)
def test_admin_form_shows_the_field_as_the_roles_table_says(browser, staff_of, model, field, role, allowed):
    user = staff_of(role)
    with scopes_disabled():
        obj = DOORS[model].make(user)

    response = browser(user).get(DOORS[model].admin_change.format(pk=obj.pk))

    assert response.status_code == 200
    assert (field in response.context["adminform"].form.fields) is allowed
    assert (SECRET in response.content.decode()) is allowed


@pytest.mark.parametrize(
    ("model", "field", "role", "allowed"),
    [case for case in CASES if DOORS[case[0]].admin_form is not None],
    ids=[i for i, case in zip(IDS, CASES, strict=True) if DOORS[case[0]].admin_form is not None],
)
def test_admin_post_of_the_field_as_the_roles_table_says(browser, staff_of, model, field, role, allowed):
    user = staff_of(role)
    with scopes_disabled():
        obj = DOORS[model].make(user)
    form = DOORS[model].admin_form(obj) | {field: "rewritten"}

    response = browser(user).post(DOORS[model].admin_change.format(pk=obj.pk), form)

    if allowed:
        assert response.status_code == 302, response.context["adminform"].form.errors
        assert _stored(obj, field) == "rewritten"
    else:
        assert response.status_code == 200
        errors = response.context["adminform"].form.non_field_errors()
        assert errors == [f"Your role may not change the field {field}."]
        assert _stored(obj, field) == SECRET
        assert _stored(obj, "last_name") != "Renamed"  # refused whole


def test_a_receptionist_edits_a_patient_in_the_admin_without_the_notes(browser, receptionist):
    with scopes_disabled():
        patient = _patient(receptionist)

    url = f"/admin/patients/patient/{patient.pk}/change/"

    response = browser(receptionist).post(url, _patient_form(patient))

    assert response.status_code == 302
    assert _stored(patient, "last_name") == "Renamed"
    assert _stored(patient, "notes") == SECRET


def test_a_receptionist_books_in_the_admin_without_the_notes(browser, receptionist, doctor):
    with scopes_disabled():
        patient = PatientFactory(tenant=receptionist.tenant)
    start = timezone.localtime(timezone.now() + timedelta(days=2))
    form = {
        "patient": patient.pk,
        "provider": doctor.pk,
        "appointment_date_0": start.strftime("%Y-%m-%d"),
        "appointment_date_1": "10:00:00",
        "duration_minutes": 30,
        "status": "scheduled",
        "reason": "Check-up",
        "cancellation_reason": "",
        "_save": "Save",
    }

    response = browser(receptionist).post("/admin/appointments/appointment/add/", form)

    assert response.status_code == 302, response.context["adminform"].form.errors
    with scopes_disabled():
        from appointments.models import Appointment

        booked = Appointment.objects.get(patient=patient)
    assert (booked.reason, booked.notes) == ("Check-up", "")
