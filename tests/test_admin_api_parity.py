"""The admin refuses what the API refuses, with the same plain words: the rules live in the
services (patients, appointments, accounts), the admin's forms and the API's serializers both
meet them. No message names a constraint, the clinic's internal "tenant" field or a row's id."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from appointments.models import Appointment, WorkingHours
from keneyapp.accounts import services as account_services
from keneyapp.accounts.models import User
from keneyapp.accounts.roles import Role
from keneyapp.core.scoping import scopes_disabled
from patients.models import Patient
from tests.appointments_admin.test_form import booking
from tests.factories import AppointmentFactory, PatientFactory

pytestmark = pytest.mark.django_db
JARGON = ("constraint", "tenant", "violated", "_unique_", "integrity")


def admin_errors(response) -> str:
    assert response.status_code == 200, "the form again, with its errors"
    form = response.context["adminform"].form
    return " ".join(str(message) for messages in form.errors.values() for message in messages)


def api_errors(response) -> str:
    assert response.status_code == 400, response.content
    return str(response.json())


def plain(text: str) -> bool:
    return not any(word in text.lower() for word in JARGON)


# --- patients ---
def patient_form(**overrides) -> dict:
    return {
        "mrn": "",
        "first_name": "Awa",
        "last_name": "Ndiaye",
        "date_of_birth": "1990-05-17",
        "sex": "female",
        "email": "",
        "phone_number": "",
        "address": "",
        "emergency_contact": "",
        "allergies": "",
        "notes": "",
        "_save": "Save",
        **overrides,
    }


def patient_body(**overrides) -> dict:
    return {key: value for key, value in patient_form(**overrides).items() if value != "" and key != "_save"}


IN_TWO_DAYS = (timezone.localdate() + timedelta(days=2)).isoformat()


@pytest.mark.parametrize(
    ("field", "value", "words"),
    [
        ("date_of_birth", IN_TWO_DAYS, "Date of birth cannot be in the future."),
        ("date_of_birth", "1850-01-01", "Date of birth must be in 1900 or later."),
        ("mrn", "A 12/3", "Use letters, digits and dashes only."),
        ("phone_number", "call me", "Enter a phone number of 6 to 15 digits"),
        ("address", "x" * 2001, "no more than 2000 characters"),
    ],
)
def test_a_bad_patient_value_is_refused_by_both_in_the_same_words(browser, api, doctor, field, value, words):
    through_admin = browser(doctor).post("/admin/patients/patient/add/", patient_form(**{field: value}))
    through_api = api(doctor).post("/api/v1/patients", patient_body(**{field: value}), format="json")
    assert words in admin_errors(through_admin)
    assert words in api_errors(through_api)
    assert field in str(through_api.json())  # the API names the field
    with scopes_disabled():
        assert not Patient.objects.exists()


def test_a_future_date_of_birth_is_refused_on_the_change_form_too(browser, doctor, clinic):
    patient = PatientFactory(tenant=clinic, mrn="A0000001")
    response = browser(doctor).post(
        f"/admin/patients/patient/{patient.pk}/change/",
        patient_form(mrn="A0000001", date_of_birth=IN_TWO_DAYS),
    )
    assert "Date of birth cannot be in the future." in admin_errors(response)


def test_a_taken_record_number_is_said_plainly_by_both(browser, api, doctor, clinic):
    PatientFactory(tenant=clinic, mrn="A0000009")
    through_admin = admin_errors(
        browser(doctor).post("/admin/patients/patient/add/", patient_form(mrn="A0000009"))
    )
    through_api = api_errors(
        api(doctor).post("/api/v1/patients", patient_body(mrn="A0000009"), format="json")
    )
    words = "A patient of this clinic already has this record number."
    assert words in through_admin and words in through_api
    assert plain(through_admin)


def test_the_add_form_says_an_empty_record_number_is_assigned_and_hides_the_record_dates(browser, doctor):
    page = browser(doctor).get("/admin/patients/patient/add/")
    text = page.content.decode()
    assert "next record number is assigned" in text
    assert "Tenant" not in text and "Clinic" in text
    fields = {name for _, options in page.context["adminform"].fieldsets for name in options["fields"]}
    assert "created_at" not in fields and "updated_at" not in fields


# --- appointments ---
@pytest.fixture
def patient(clinic):
    return PatientFactory(tenant=clinic, first_name="Awa", last_name="Sy")


def appointment_body(patient, doctor, **overrides) -> dict:
    return {
        "patient_id": patient.pk,
        "provider_id": doctor.pk,
        "appointment_date": "2030-01-07T09:00:00",
        "duration_minutes": 30,
        **overrides,
    }


@pytest.mark.parametrize(
    ("form", "body", "words"),
    [
        ({"duration_minutes": 2}, {"duration_minutes": 2}, "greater than or equal to 5"),
        ({"duration_minutes": 600}, {"duration_minutes": 600}, "less than or equal to 480"),
        ({"notes": "x" * 5001}, {"notes": "x" * 5001}, "no more than 5000 characters"),
    ],
)
def test_a_bad_booking_is_refused_by_both(browser, api, doctor, patient, form, body, words):
    through_admin = admin_errors(
        browser(doctor).post("/admin/appointments/appointment/add/", booking(patient, doctor, **form))
    )
    body = appointment_body(patient, doctor, **body)
    through_api = api_errors(api(doctor).post("/api/v1/appointments", body, format="json"))
    assert words in through_admin and words in through_api
    assert plain(through_admin)
    with scopes_disabled():
        assert not Appointment.objects.exists()


def test_a_double_booking_is_refused_by_both_and_the_admin_names_no_internal_number(
    browser, api, doctor, patient, clinic
):
    from tests.appointments_admin.conftest import MONDAY_9

    existing = AppointmentFactory(tenant=clinic, provider=doctor, appointment_date=MONDAY_9)
    through_api = api(doctor).post("/api/v1/appointments", appointment_body(patient, doctor), format="json")
    assert through_api.status_code == 409
    through_admin = browser(doctor).post("/admin/appointments/appointment/add/", booking(patient, doctor))
    error = admin_errors(through_admin)
    shown = error.split("href")[0]
    # No "(appointment 12)": the number may appear inside other figures (a record number, a time).
    assert "already sees" in shown and not re.search(rf"(?<![\w:]){existing.pk}(?![\w:])", shown)
    assert plain(error)


def test_the_booking_form_hides_times_and_cancellation_on_a_new_appointment(browser, doctor):
    page = browser(doctor).get("/admin/appointments/appointment/add/")
    fields = {name for _, options in page.context["adminform"].fieldsets for name in options["fields"]}
    assert not {"cancellation_reason", "cancelled_at", "created_at", "updated_at", "ends_at"} & fields
    assert "Tenant" not in page.content.decode()


# --- working hours ---
def hours_form(doctor, start: str, end: str, weekday: int = 0) -> dict:
    return {"provider": doctor.pk, "weekday": weekday, "starts_at": start, "ends_at": end, "_save": "Save"}


def test_working_hours_ending_before_they_start_are_refused_plainly(browser, clinic_admin, doctor):
    error = admin_errors(browser(clinic_admin).post("/admin/appointments/workinghours/add/",
                                                    hours_form(doctor, "12:00", "08:00")))  # fmt: skip
    assert "The end must be after the start." in error and plain(error)


def test_overlapping_working_hours_are_refused_with_the_hours_they_overlap(
    browser, clinic_admin, doctor, clinic
):
    WorkingHours.objects.create(tenant=clinic, provider=doctor, weekday=0, starts_at="08:00", ends_at="12:00")
    error = admin_errors(browser(clinic_admin).post("/admin/appointments/workinghours/add/",
                                                    hours_form(doctor, "11:00", "13:00")))  # fmt: skip
    assert "overlap hours already set for this person on Monday, 08:00 to 12:00" in error and plain(error)
    # Next to each other is no overlap.
    response = browser(clinic_admin).post(
        "/admin/appointments/workinghours/add/", hours_form(doctor, "12:00", "13:00")
    )
    assert response.status_code == 302


# --- staff ---
def test_a_taken_username_is_refused_by_the_admin_and_the_service(browser, clinic_admin, clinic, doctor):
    password = "Baobab-sous-la-pluie-42"
    response = browser(clinic_admin).post(
        "/admin/accounts/user/add/",
        {"username": doctor.username, "role": Role.NURSE, "password1": password, "password2": password},
    )
    error = admin_errors(response)
    with pytest.raises(account_services.ValidationError) as refused:
        account_services.staff_create(
            tenant=clinic, username=doctor.username, role=Role.NURSE, password=password
        )
    assert refused.value.message_dict["username"][0] in error
    assert plain(error)
    assert User.objects.filter(username=doctor.username).count() == 1


def test_time_off_ending_before_it_starts_is_refused_plainly(browser, clinic_admin, doctor):
    form = {
        "provider": doctor.pk,
        "starts_at_0": "2030-01-07",
        "starts_at_1": "12:00",
        "ends_at_0": "2030-01-07",
        "ends_at_1": "08:00",
        "reason": "",
        "_save": "Save",
    }
    error = admin_errors(browser(clinic_admin).post("/admin/appointments/timeoff/add/", form))
    assert "The end must be after the start." in error and plain(error)
