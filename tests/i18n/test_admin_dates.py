"""Dates and times in the admin read in the active language's format, never the other way round:
French d/m/Y (and ISO), English ISO only; each widget says the format it expects, and a value that
does not parse is a form error naming it, with nothing saved (keneyapp/core/date_fields.py)."""

from datetime import UTC, date, datetime

import pytest

from appointments.models import Appointment
from keneyapp.accounts.roles import Role
from keneyapp.core.scoping import scopes_disabled
from patients.models import Patient
from tests.factories import PatientFactory, UserFactory

APPOINTMENT_ADD = "/admin/appointments/appointment/add/"
PATIENT_ADD = "/admin/patients/patient/add/"


@pytest.fixture
def patient(clinic):
    return PatientFactory(tenant=clinic, first_name="Awa", last_name="Sy")


@pytest.fixture
def french_receptionist(clinic):
    return UserFactory(tenant=clinic, role=Role.RECEPTIONIST, username="fatou", language="fr")


@pytest.fixture
def english_receptionist(clinic):
    return UserFactory(tenant=clinic, role=Role.RECEPTIONIST, username="grace", language="en")


def booking(patient, day: str, time: str) -> dict:
    return {
        "patient": patient.pk,
        "provider": "",
        "appointment_date_0": day,
        "appointment_date_1": time,
        "duration_minutes": 30,
        "status": "scheduled",
        "reason": "Contrôle",
        "notes": "",
        "cancellation_reason": "",
        "_save": "Save",
    }


def new_patient(date_of_birth: str) -> dict:
    return {
        "first_name": "Khady",
        "last_name": "Ndoye",
        "date_of_birth": date_of_birth,
        "sex": "female",
        "email": "",
        "phone_number": "",
        "address": "",
        "_save": "Save",
    }


def form_errors(response) -> str:
    """The form's errors as the page showed them (in the request's language: the messages are
    lazy, so reading them here, after the request, would give English)."""
    html = response.content.decode()
    return " ".join(part.split("</ul>")[0] for part in html.split('class="errorlist"')[1:])


# --- French: 02/12/2026 is 2 December ---


def test_a_french_user_types_02_12_2026_at_14_30_and_books_2_december(browser, french_receptionist, patient):
    # The clinic is in Dakar (UTC all year): wall-clock time is UTC.
    response = browser(french_receptionist).post(APPOINTMENT_ADD, booking(patient, "02/12/2026", "14:30"))

    assert response.status_code == 302, form_errors(response)
    with scopes_disabled():
        booked = Appointment.objects.get(patient=patient)
    assert booked.appointment_date == datetime(2026, 12, 2, 14, 30, tzinfo=UTC)


def test_a_french_user_may_type_iso_too(browser, french_receptionist, patient):
    response = browser(french_receptionist).post(APPOINTMENT_ADD, booking(patient, "2026-12-02", "14:30"))

    assert response.status_code == 302, form_errors(response)
    with scopes_disabled():
        assert Appointment.objects.get(patient=patient).appointment_date.date() == date(2026, 12, 2)


def test_a_french_user_adds_a_patient_born_02_12_1990(browser, french_receptionist):
    response = browser(french_receptionist).post(PATIENT_ADD, new_patient("02/12/1990"))

    assert response.status_code == 302, form_errors(response)
    with scopes_disabled():
        assert Patient.objects.get(last_name="Ndoye").date_of_birth == date(1990, 12, 2)


def test_a_french_form_shows_dates_and_times_the_french_way(browser, french_receptionist, patient):
    html = browser(french_receptionist).get(APPOINTMENT_ADD).content.decode()

    assert 'placeholder="JJ/MM/AAAA"' in html
    assert 'placeholder="HH:mm"' in html


def test_a_french_date_that_does_not_parse_names_the_french_format(browser, french_receptionist, patient):
    response = browser(french_receptionist).post(APPOINTMENT_ADD, booking(patient, "12/31/2026", "14:30"))

    assert response.status_code == 200
    errors = form_errors(response)
    assert "Saisissez une date valide au format JJ/MM/AAAA" in errors
    assert "31/01/2026" in errors  # the example cannot be read the other way either
    with scopes_disabled():
        assert not Appointment.objects.exists()


def test_a_french_time_that_does_not_parse_names_the_format(browser, french_receptionist, patient):
    response = browser(french_receptionist).post(APPOINTMENT_ADD, booking(patient, "02/12/2026", "2h30 pm"))

    assert response.status_code == 200
    assert "HH:mm" in form_errors(response)
    with scopes_disabled():
        assert not Appointment.objects.exists()


# --- English: ISO only, so 02/12/2026 is never read as 12 February ---


def test_the_same_string_as_an_english_user_is_a_form_error_naming_the_iso_format(
    browser, english_receptionist, patient
):
    response = browser(english_receptionist).post(APPOINTMENT_ADD, booking(patient, "02/12/2026", "14:30"))

    assert response.status_code == 200
    errors = form_errors(response)
    assert "Enter a valid date as YYYY-MM-DD, e.g. 2026-01-31." in errors
    with scopes_disabled():
        assert not Appointment.objects.exists()  # neither 12 February nor 2 December


def test_an_english_patient_born_02_12_1990_is_a_form_error(browser, english_receptionist):
    response = browser(english_receptionist).post(PATIENT_ADD, new_patient("02/12/1990"))

    assert response.status_code == 200
    assert "YYYY-MM-DD" in form_errors(response)
    with scopes_disabled():
        assert not Patient.objects.filter(last_name="Ndoye").exists()


def test_an_english_user_books_in_iso(browser, english_receptionist, patient):
    response = browser(english_receptionist).post(APPOINTMENT_ADD, booking(patient, "2026-12-02", "14:30"))

    assert response.status_code == 302, form_errors(response)
    with scopes_disabled():
        booked = Appointment.objects.get(patient=patient)
    assert booked.appointment_date == datetime(2026, 12, 2, 14, 30, tzinfo=UTC)


def test_an_english_form_says_the_iso_format(browser, english_receptionist, patient):
    html = browser(english_receptionist).get(APPOINTMENT_ADD).content.decode()

    assert 'placeholder="YYYY-MM-DD"' in html


def test_a_french_change_form_shows_the_stored_date_the_french_way(browser, french_receptionist, patient):
    with scopes_disabled():
        appointment = Appointment.objects.create(
            tenant=patient.tenant,
            patient=patient,
            appointment_date=datetime(2026, 12, 2, 14, 30, tzinfo=UTC),
            ends_at=datetime(2026, 12, 2, 15, 0, tzinfo=UTC),
            duration_minutes=30,
        )
    html = browser(french_receptionist).get(f"/admin/appointments/appointment/{appointment.pk}/change/")

    content = html.content.decode()
    assert 'name="appointment_date_0" value="02/12/2026"' in content
    assert 'name="appointment_date_1" value="14:30"' in content
