"""Adding and changing appointments in the admin follows the API's booking rules: no double
booking, the status table, the roles table; the clinic is always the staff member's own."""

from datetime import timedelta

import pytest

from appointments.models import Appointment
from keneyapp.accounts.roles import Role
from keneyapp.core.scoping import scopes_disabled
from tests.factories import AppointmentFactory, PatientFactory

from .conftest import ADD, MONDAY_9, change_url, form_errors


def booking(patient, provider=None, *, day="2030-01-07", time="09:00:00", **overrides) -> dict:
    """An add/change form post. Dates and times are wall-clock in the clinic's zone (Dakar: UTC)."""
    data = {
        "patient": patient.pk,
        "provider": provider.pk if provider else "",
        "appointment_date_0": day,
        "appointment_date_1": time,
        "duration_minutes": 30,
        "status": "scheduled",
        "reason": "Check-up",
        "notes": "",
        "cancellation_reason": "",
        "_save": "Save",
    }
    data.update(overrides)
    return data


def as_post(appointment, **overrides) -> dict:
    """The change form's post for an appointment as it is, with some fields overridden."""
    data = booking(
        appointment.patient,
        appointment.provider,
        day=f"{appointment.appointment_date:%Y-%m-%d}",
        time=f"{appointment.appointment_date:%H:%M:%S}",
        status=appointment.status,
        duration_minutes=appointment.duration_minutes,
    )
    data.update(overrides)
    return data


@pytest.fixture
def patient(clinic):
    return PatientFactory(tenant=clinic, first_name="Awa", last_name="Sy")


# --- adding ---


def test_add_books_in_own_clinic_even_when_post_names_another(
    browser, receptionist, patient, doctor, other_clinic
):
    response = browser(receptionist).post(ADD, booking(patient, doctor, tenant=other_clinic.pk))

    assert response.status_code == 302, form_errors(response)
    with scopes_disabled():
        created = Appointment.objects.get(patient=patient)
    assert created.tenant_id == receptionist.tenant_id
    assert created.provider == doctor
    assert created.created_by == receptionist
    assert created.appointment_date == MONDAY_9
    assert created.ends_at == MONDAY_9 + timedelta(minutes=30)
    with scopes_disabled():
        assert not Appointment.objects.filter(tenant=other_clinic).exists()


def test_add_overlapping_a_providers_appointment_is_a_form_error(
    browser, receptionist, clinic, doctor, patient
):
    existing = AppointmentFactory(
        tenant=clinic, provider=doctor, appointment_date=MONDAY_9, duration_minutes=30
    )

    response = browser(receptionist).post(ADD, booking(patient, doctor, time="09:15:00"))

    assert response.status_code == 200
    assert f"already sees {existing.patient.full_name} ({existing.patient.mrn})" in form_errors(response)
    assert f"appointment {existing.pk}" not in form_errors(response)  # no internal number
    with scopes_disabled():
        assert not Appointment.objects.filter(patient=patient).exists()
        assert Appointment.objects.filter(provider=doctor).count() == 1


def test_add_right_after_a_providers_appointment_is_fine(browser, receptionist, clinic, doctor, patient):
    AppointmentFactory(tenant=clinic, provider=doctor, appointment_date=MONDAY_9, duration_minutes=30)

    response = browser(receptionist).post(ADD, booking(patient, doctor, time="09:30:00"))

    assert response.status_code == 302, form_errors(response)
    with scopes_disabled():
        assert Appointment.objects.filter(provider=doctor).count() == 2


def test_add_over_a_cancelled_appointment_is_fine(browser, receptionist, clinic, doctor, patient):
    AppointmentFactory(tenant=clinic, provider=doctor, appointment_date=MONDAY_9, status="cancelled")

    response = browser(receptionist).post(ADD, booking(patient, doctor))

    assert response.status_code == 302, form_errors(response)


def test_another_providers_or_clinics_appointment_is_no_clash(
    browser, receptionist, nurse, outsider, patient
):
    AppointmentFactory(tenant=outsider.tenant, provider=outsider, appointment_date=MONDAY_9)
    AppointmentFactory(tenant=nurse.tenant, provider=nurse, appointment_date=MONDAY_9)

    response = browser(receptionist).post(ADD, booking(patient, None))

    assert response.status_code == 302, form_errors(response)


def test_another_clinics_patient_or_provider_cannot_be_chosen(browser, receptionist, patient, doctor, theirs):
    their_patient, their_provider = theirs[0].patient, theirs[0].provider
    client = browser(receptionist)

    wrong_patient = client.post(ADD, booking(their_patient, doctor))
    wrong_provider = client.post(ADD, booking(patient, their_provider))

    assert wrong_patient.status_code == 200
    assert "patient" in wrong_patient.context["adminform"].form.errors
    assert wrong_provider.status_code == 200
    assert "provider" in wrong_provider.context["adminform"].form.errors
    with scopes_disabled():
        assert not Appointment.objects.filter(tenant=receptionist.tenant).exists()


def test_a_receptionist_cannot_be_the_provider(browser, clinic_admin, receptionist, patient):
    response = browser(clinic_admin).post(ADD, booking(patient, receptionist))

    assert response.status_code == 200
    assert "provider" in response.context["adminform"].form.errors


def test_provider_choices_are_own_clinic_doctors_and_nurses(
    browser, receptionist, doctor, nurse, clinic_admin, outsider
):
    form = browser(receptionist).get(ADD).context["adminform"].form

    assert set(form.fields["provider"].queryset) == {doctor, nurse}
    assert list(form.fields["tenant"].queryset) == [receptionist.tenant]
    assert form.fields["tenant"].disabled


def test_patient_choices_are_own_clinic_patients(browser, receptionist, patient, theirs):
    form = browser(receptionist).get(ADD).context["adminform"].form

    assert patient in form.fields["patient"].queryset
    assert theirs[0].patient not in form.fields["patient"].queryset


def test_a_deleted_patient_cannot_be_booked(browser, receptionist, clinic):
    gone = PatientFactory(tenant=clinic, is_deleted=True)

    response = browser(receptionist).post(ADD, booking(gone))

    assert response.status_code == 200
    # The booking service's refusal, as the API's (a deleted patient is no longer the clinic's).
    assert response.context["adminform"].form.errors["patient"] == ["No such patient in this clinic."]
    with scopes_disabled():
        assert not Appointment.objects.filter(patient=gone).exists()


def test_an_appointment_of_a_since_deleted_patient_can_still_be_cancelled(browser, receptionist, clinic):
    appointment = AppointmentFactory(tenant=clinic, appointment_date=MONDAY_9)
    appointment.patient.is_deleted = True
    appointment.patient.save(update_fields=["is_deleted"])

    response = browser(receptionist).post(change_url(appointment), as_post(appointment, status="cancelled"))

    assert response.status_code == 302, form_errors(response)
    appointment.refresh_from_db()
    assert appointment.status == "cancelled"


def test_a_receptionist_cannot_add_an_appointment_already_completed(browser, receptionist, patient):
    response = browser(receptionist).post(ADD, booking(patient, status="completed"))

    assert response.status_code == 200
    assert "status" in response.context["adminform"].form.errors
    with scopes_disabled():
        assert not Appointment.objects.filter(patient=patient).exists()


def test_a_doctor_may_record_a_completed_visit(browser, doctor, patient):
    response = browser(doctor).post(ADD, booking(patient, doctor, status="completed"))

    assert response.status_code == 302, form_errors(response)
    with scopes_disabled():
        assert Appointment.objects.get(patient=patient).status == "completed"


def test_duration_out_of_range_is_a_form_error(browser, receptionist, patient):
    response = browser(receptionist).post(ADD, booking(patient, duration_minutes=481))

    assert response.status_code == 200
    assert "duration_minutes" in response.context["adminform"].form.errors
    with scopes_disabled():
        assert not Appointment.objects.filter(patient=patient).exists()


# --- changing ---


def test_moving_onto_a_providers_other_appointment_is_a_form_error(browser, doctor, clinic, ours):
    other = AppointmentFactory(tenant=clinic, provider=doctor, appointment_date=MONDAY_9.replace(hour=14))
    target = ours[0]  # 09:00 with the doctor

    response = browser(doctor).post(change_url(target), as_post(target, appointment_date_1="14:10:00"))

    assert response.status_code == 200
    assert f"already sees {other.patient.full_name} ({other.patient.mrn})" in form_errors(response)
    assert f"appointment {other.pk}" not in form_errors(response)  # no internal number
    target.refresh_from_db()
    assert target.appointment_date == MONDAY_9


def test_saving_an_appointment_unchanged_is_not_a_clash_with_itself(browser, doctor, ours):
    target = ours[0]

    response = browser(doctor).post(change_url(target), as_post(target, reason="Follow-up"))

    assert response.status_code == 302, form_errors(response)
    target.refresh_from_db()
    assert target.reason == "Follow-up"


def test_rescheduling_moves_the_end_too(browser, doctor, ours):
    target = ours[0]

    response = browser(doctor).post(
        change_url(target), as_post(target, appointment_date_1="15:00:00", duration_minutes=45)
    )

    assert response.status_code == 302, form_errors(response)
    target.refresh_from_db()
    assert target.appointment_date == MONDAY_9.replace(hour=15)
    assert target.ends_at == MONDAY_9.replace(hour=15, minute=45)


@pytest.mark.parametrize(
    ("current", "target_status"),
    [
        ("completed", "scheduled"),
        ("cancelled", "confirmed"),
        ("no_show", "checked_in"),
        ("checked_in", "scheduled"),
    ],
)
def test_a_forbidden_status_change_is_a_form_error(browser, doctor, clinic, current, target_status):
    appointment = AppointmentFactory(tenant=clinic, status=current, appointment_date=MONDAY_9)

    response = browser(doctor).post(change_url(appointment), as_post(appointment, status=target_status))

    assert response.status_code == 200
    assert f"cannot become {target_status}" in form_errors(response)
    appointment.refresh_from_db()
    assert appointment.status == current


def test_a_receptionist_cannot_mark_an_appointment_completed(browser, receptionist, ours):
    target = ours[1]

    response = browser(receptionist).post(change_url(target), as_post(target, status="completed"))

    assert response.status_code == 200
    assert "Your role (receptionist) may not" in form_errors(response)
    target.refresh_from_db()
    assert target.status == "scheduled"


@pytest.mark.parametrize("role", [Role.DOCTOR, Role.NURSE])
def test_clinical_staff_can_mark_an_appointment_completed(browser, staff_of, ours, role):
    target = ours[1]

    response = browser(staff_of(role)).post(change_url(target), as_post(target, status="completed"))

    assert response.status_code == 302, form_errors(response)
    target.refresh_from_db()
    assert target.status == "completed"


@pytest.mark.parametrize("status", ["confirmed", "checked_in", "no_show", "cancelled"])
def test_a_receptionist_may_confirm_check_in_mark_no_show_or_cancel(browser, receptionist, ours, status):
    target = ours[1]

    response = browser(receptionist).post(change_url(target), as_post(target, status=status))

    assert response.status_code == 302, form_errors(response)
    target.refresh_from_db()
    assert target.status == status


def test_reassigning_to_another_clinics_provider_changes_nothing(browser, doctor, outsider, ours):
    target = ours[0]
    post = as_post(target)
    post["provider"] = outsider.pk

    response = browser(doctor).post(change_url(target), post)

    assert response.status_code == 200
    target.refresh_from_db()
    assert target.provider == doctor


def test_changing_the_clinic_field_is_ignored(browser, doctor, other_clinic, ours):
    target = ours[1]

    response = browser(doctor).post(
        change_url(target), as_post(target, tenant=other_clinic.pk, reason="Moved?")
    )

    assert response.status_code == 302, form_errors(response)
    target.refresh_from_db()
    assert target.tenant_id == doctor.tenant_id
    assert target.reason == "Moved?"


# --- a superuser picks the clinic; patient and provider must belong to it ---


def test_superuser_cannot_mix_clinics_in_one_appointment(
    browser, superuser, clinic, patient, outsider, theirs
):
    client = browser(superuser)

    foreign_provider = client.post(ADD, booking(patient, outsider, tenant=clinic.pk, time="16:00:00"))
    foreign_patient = client.post(ADD, booking(theirs[0].patient, None, tenant=clinic.pk, time="13:00:00"))

    assert foreign_provider.status_code == 200
    assert "provider" in foreign_provider.context["adminform"].form.errors
    assert foreign_patient.status_code == 200
    assert "patient" in foreign_patient.context["adminform"].form.errors
    with scopes_disabled():
        assert not Appointment.objects.filter(tenant=clinic).exists()


def test_superuser_books_for_the_clinic_chosen(browser, superuser, clinic, patient, doctor):
    response = browser(superuser).post(ADD, booking(patient, doctor, tenant=clinic.pk))

    assert response.status_code == 302, form_errors(response)
    with scopes_disabled():
        assert Appointment.objects.get(patient=patient).tenant == clinic


# --- a finished visit is history: only its notes change (as the API's appointment_closed) ---


@pytest.mark.parametrize("status", ["completed", "cancelled", "no_show"])
def test_a_closed_appointment_cannot_be_rescheduled_or_reassigned(browser, doctor, nurse, clinic, status):
    closed = AppointmentFactory(tenant=clinic, status=status, provider=doctor, appointment_date=MONDAY_9)
    client = browser(doctor)

    moved = client.post(change_url(closed), as_post(closed, appointment_date_1="15:00:00"))
    reassigned = client.post(change_url(closed), as_post(closed, provider=nurse.pk))

    for response in (moved, reassigned):
        assert response.status_code == 200
        assert "can no longer be rescheduled" in form_errors(response)
    closed.refresh_from_db()
    assert (closed.appointment_date, closed.provider) == (MONDAY_9, doctor)


def test_a_completed_appointments_notes_can_still_be_written(browser, doctor, clinic):
    done = AppointmentFactory(tenant=clinic, status="completed", provider=doctor, appointment_date=MONDAY_9)

    response = browser(doctor).post(change_url(done), as_post(done, notes="Blood test results normal."))

    assert response.status_code == 302, form_errors(response)
    done.refresh_from_db()
    assert done.notes == "Blood test results normal."
