"""The admin books and edits through the API's services: the same end times (computed in UTC),
the same refusals, the same live events; a save that changes nothing writes nothing."""

from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from appointments.models import Appointment
from keneyapp.accounts.roles import Role
from keneyapp.core.scoping import scopes_disabled
from tests.factories import AppointmentFactory, PatientFactory, TenantFactory, UserFactory
from tests.live_events import staff_events

from .conftest import ADD, MONDAY_9, change_url, form_errors
from .test_form import as_post, booking

API = "/api/v1/appointments"


@pytest.fixture
def paris(db):
    return TenantFactory(name="Clinique Lumière", slug="lumiere", timezone="Europe/Paris")


@pytest.fixture
def paris_doctor(paris):
    return UserFactory(tenant=paris, role=Role.DOCTOR, username="pierre")


def updates_in(queries) -> list[str]:
    """The UPDATE statements on appointments (the session's own writes are not ours)."""
    return [query["sql"] for query in queries if query["sql"].startswith('UPDATE "appointments_')]


def test_a_booking_across_the_autumn_change_ends_at_the_same_instant_in_the_admin_and_the_api(
    browser, api, paris, paris_doctor
):
    # Sunday 27 October 2030, 01:30 in Paris (UTC+2); clocks go back at 03:00. A 90-minute visit
    # ends 90 real minutes later, at 01:00 UTC (02:00 on the clock, UTC+1), not at 03:00 local.
    patient = PatientFactory(tenant=paris)
    form = booking(patient, day="2030-10-27", time="01:30:00", duration_minutes=90, reason="admin")

    through_admin = browser(paris_doctor).post(ADD, form)
    through_api = api(paris_doctor).post(
        API,
        {"patient_id": patient.pk, "appointment_date": "2030-10-27T01:30:00", "duration_minutes": 90},
        format="json",
    )

    assert through_admin.status_code == 302, form_errors(through_admin)
    assert through_api.status_code == 201, through_api.content
    with scopes_disabled():
        # The reason is encrypted: no SQL filters on it, so the admin's booking is found in Python.
        (admin_booked,) = [a for a in Appointment.objects.filter(patient=patient) if a.reason == "admin"]
        api_booked = Appointment.objects.get(pk=through_api.json()["id"])
    assert (
        admin_booked.appointment_date
        == api_booked.appointment_date
        == datetime(2030, 10, 26, 23, 30, tzinfo=UTC)
    )
    assert admin_booked.ends_at == api_booked.ends_at == datetime(2030, 10, 27, 1, 0, tzinfo=UTC)


def test_rescheduling_in_the_admin_across_the_change_computes_the_end_in_utc(browser, paris, paris_doctor):
    appointment = AppointmentFactory(tenant=paris, appointment_date=datetime(2030, 10, 20, 8, 0, tzinfo=UTC))

    response = browser(paris_doctor).post(
        change_url(appointment),
        as_post(
            appointment, appointment_date_0="2030-10-27", appointment_date_1="01:30:00", duration_minutes=90
        ),
    )

    assert response.status_code == 302, form_errors(response)
    appointment.refresh_from_db()
    assert appointment.ends_at - appointment.appointment_date == timedelta(minutes=90)


def test_an_admin_edit_publishes_the_same_live_event_as_the_api(
    browser, api, doctor, clinic, django_capture_on_commit_callbacks
):
    patient = PatientFactory(tenant=clinic)
    by_api, by_admin = AppointmentFactory.create_batch(
        2, tenant=clinic, patient=patient, appointment_date=MONDAY_9
    )

    with staff_events(clinic.pk) as heard, django_capture_on_commit_callbacks(execute=True):
        api_response = api(doctor).patch(f"{API}/{by_api.pk}", {"status": "confirmed"}, format="json")
        admin_response = browser(doctor).post(change_url(by_admin), as_post(by_admin, status="confirmed"))

    assert api_response.status_code == 200
    assert admin_response.status_code == 302, form_errors(admin_response)
    assert [event["appointment"]["id"] for event in heard] == [by_api.pk, by_admin.pk]
    from_api, from_admin = heard
    assert from_admin["type"] == from_api["type"] == "appointment.updated"
    assert from_admin["appointment"] == {**from_api["appointment"], "id": by_admin.pk}
    assert from_admin["appointment"]["status"] == "confirmed"


def test_an_admin_booking_publishes_appointment_created(
    browser, doctor, clinic, django_capture_on_commit_callbacks
):
    patient = PatientFactory(tenant=clinic)

    with staff_events(clinic.pk) as heard, django_capture_on_commit_callbacks(execute=True):
        response = browser(doctor).post(ADD, booking(patient, doctor))

    assert response.status_code == 302, form_errors(response)
    with scopes_disabled():
        created = Appointment.objects.get(patient=patient)
    assert [(event["type"], event["appointment"]["id"]) for event in heard] == [
        ("appointment.created", created.pk)
    ]


def test_the_admin_and_the_api_refuse_the_same_double_booking(browser, api, receptionist, clinic, doctor):
    existing = AppointmentFactory(tenant=clinic, provider=doctor, appointment_date=MONDAY_9)
    patient = PatientFactory(tenant=clinic)

    through_api = api(receptionist).post(
        API,
        {"patient_id": patient.pk, "provider_id": doctor.pk, "appointment_date": "2030-01-07T09:15:00"},
        format="json",
    )
    through_admin = browser(receptionist).post(ADD, booking(patient, doctor, time="09:15:00"))

    assert through_api.status_code == 409
    assert through_api.json()["code"] == "double_booking"
    assert through_api.json()["conflicting_appointment"]["id"] == existing.pk
    assert through_admin.status_code == 200  # the form again, with the service's refusal on it
    errors = through_admin.context["adminform"].form.non_field_errors()
    # The same refusal, said for staff: who is booked then, and the clash's number (admin_booking).
    (error,) = errors
    assert f"already sees {existing.patient.full_name} ({existing.patient.mrn})" in error
    assert f"(appointment {existing.pk})" not in error  # the API answers the id; the desk reads a name
    with scopes_disabled():
        assert Appointment.objects.filter(provider=doctor).count() == 1


def test_an_admin_save_that_changes_nothing_writes_nothing_and_publishes_nothing(
    browser, doctor, clinic, django_capture_on_commit_callbacks
):
    appointment = AppointmentFactory(tenant=clinic, provider=doctor, appointment_date=MONDAY_9)
    with scopes_disabled():
        before = Appointment.objects.get(pk=appointment.pk).updated_at
    client = browser(doctor)

    with (
        staff_events(clinic.pk) as heard,
        django_capture_on_commit_callbacks(execute=True),
        CaptureQueriesContext(connection) as queries,
    ):
        response = client.post(change_url(appointment), as_post(appointment))

    assert response.status_code == 302, form_errors(response)
    assert updates_in(queries) == []
    assert heard == []
    with scopes_disabled():
        assert Appointment.objects.get(pk=appointment.pk).updated_at == before


def test_an_admin_edit_writes_only_the_changed_columns(browser, doctor, clinic):
    appointment = AppointmentFactory(tenant=clinic, provider=doctor, appointment_date=MONDAY_9)

    with CaptureQueriesContext(connection) as queries:
        response = browser(doctor).post(change_url(appointment), as_post(appointment, reason="Follow-up"))

    assert response.status_code == 302, form_errors(response)
    [update] = updates_in(queries)
    assert update.startswith('UPDATE "appointments_appointment" SET "reason" = ')
    assert '"updated_at" = ' in update
    for column in ("appointment_date", "status", "provider_id", "notes", "ends_at"):
        assert f'"{column}"' not in update.split(" WHERE ")[0]


def test_a_platform_operator_may_record_a_completed_visit(browser, superuser, clinic, doctor):
    patient = PatientFactory(tenant=clinic)

    response = browser(superuser).post(ADD, booking(patient, doctor, tenant=clinic.pk, status="completed"))

    assert response.status_code == 302, form_errors(response)
    with scopes_disabled():
        assert Appointment.objects.get(patient=patient).status == "completed"


def test_cancelling_in_the_admin_records_when_and_why(browser, receptionist, clinic):
    appointment = AppointmentFactory(tenant=clinic, appointment_date=MONDAY_9)

    response = browser(receptionist).post(
        change_url(appointment), as_post(appointment, status="cancelled", cancellation_reason="Called in")
    )

    assert response.status_code == 302, form_errors(response)
    appointment.refresh_from_db()
    assert (appointment.status, appointment.cancellation_reason) == ("cancelled", "Called in")
    assert appointment.cancelled_at is not None


def test_a_cancellation_reason_without_cancelling_is_a_form_error(browser, receptionist, clinic):
    appointment = AppointmentFactory(tenant=clinic, appointment_date=MONDAY_9)

    response = browser(receptionist).post(
        change_url(appointment), as_post(appointment, cancellation_reason="?")
    )

    assert response.status_code == 200
    assert "cancellation_reason" in response.context["adminform"].form.errors
    appointment.refresh_from_db()
    assert appointment.cancellation_reason == ""


def test_a_booking_outside_the_providers_hours_is_saved_with_a_warning(browser, receptionist, clinic, doctor):
    patient = PatientFactory(tenant=clinic)  # the doctor has no working hours at all

    response = browser(receptionist).post(ADD, booking(patient, doctor), follow=True)

    with scopes_disabled():
        assert Appointment.objects.filter(patient=patient).exists()
    assert "outside the provider's working hours" in " ".join(str(m) for m in response.context["messages"])


def test_the_admin_may_give_an_appointment_to_another_patient_of_the_clinic_not_a_deleted_one(
    browser, receptionist, clinic
):
    appointment = AppointmentFactory(tenant=clinic, appointment_date=MONDAY_9)
    other, gone = PatientFactory(tenant=clinic), PatientFactory(tenant=clinic, is_deleted=True)
    client = browser(receptionist)

    refused = client.post(change_url(appointment), as_post(appointment, patient=gone.pk))
    moved = client.post(change_url(appointment), as_post(appointment, patient=other.pk))

    assert refused.status_code == 200
    assert refused.context["adminform"].form.errors["patient"] == ["No such patient in this clinic."]
    assert moved.status_code == 302, form_errors(moved)
    appointment.refresh_from_db()
    assert appointment.patient == other
