"""Bad input to POST and PATCH: a 4xx in the API's error shape, and nothing created or changed."""

import pytest

from appointments.models import Appointment
from keneyapp.accounts.roles import Role
from keneyapp.core.scoping import scopes_disabled
from tests.factories import AppointmentFactory, PatientFactory, UserFactory

from .helpers import DAKAR, LIST_URL, assert_error, at, detail_url, field_codes, guide_body, snapshot

# (body changes, the field the 400 names). Each applies to a booking and to a reschedule.
INVALID_VALUES = [
    pytest.param({"duration_minutes": 4}, "duration_minutes", id="duration-too-short"),
    pytest.param({"duration_minutes": 481}, "duration_minutes", id="duration-too-long"),
    pytest.param({"duration_minutes": "abc"}, "duration_minutes", id="duration-not-a-number"),
    pytest.param({"duration_minutes": 30.5}, "duration_minutes", id="duration-fractional"),
    pytest.param({"duration_minutes": None}, "duration_minutes", id="duration-null"),
    pytest.param({"appointment_date": "2025-13-01T10:00"}, "appointment_date", id="month-13"),
    pytest.param({"appointment_date": "tomorrow"}, "appointment_date", id="words"),
    pytest.param({"appointment_date": "2025-02-30T10:00:00"}, "appointment_date", id="february-30"),
    pytest.param({"appointment_date": "2025-12-15T25:00:00"}, "appointment_date", id="hour-25"),
    pytest.param({"appointment_date": "15/12/2025 10:00"}, "appointment_date", id="not-iso"),
    pytest.param({"appointment_date": "2025-12-15"}, "appointment_date", id="a-date-only"),
    pytest.param({"appointment_date": ""}, "appointment_date", id="empty"),
    pytest.param({"appointment_date": 1765792800}, "appointment_date", id="a-number"),
    pytest.param({"appointment_date": None}, "appointment_date", id="null"),
    pytest.param({"appointment_date": "9999-12-31T23:59:00"}, "appointment_date", id="end-of-time"),
    pytest.param({"appointment_date": "0001-01-01T00:00:00"}, "appointment_date", id="start-of-time"),
    pytest.param({"reason": "a" * 256}, "reason", id="reason-too-long"),
    pytest.param({"notes": "a" * 5001}, "notes", id="notes-too-long"),
    pytest.param({"provider_id": "abc"}, "provider_id", id="provider-not-a-number"),
    pytest.param({"provider_id": 0}, "provider_id", id="provider-zero"),
    pytest.param({"provider_id": 987654}, "provider_id", id="provider-unknown"),
    pytest.param({"tenant_id": 2}, "tenant_id", id="tenant-is-not-input"),
    pytest.param({"ends_at": "2030-01-07T10:00:00"}, "ends_at", id="ends-at-is-computed"),
    pytest.param({"created_by": 1}, "created_by", id="created-by-is-not-input"),
    pytest.param({"reminder_sent_at": "2030-01-07T10:00:00"}, "reminder_sent_at", id="reminder-is-not-input"),
    pytest.param({"apointment_date": "2030-01-07T10:00:00"}, "apointment_date", id="misspelled-field"),
]


@pytest.fixture
def appointment(clinic, doctor, patient):
    return AppointmentFactory(
        tenant=clinic, patient=patient, provider=doctor, appointment_date=at(DAKAR, 2030, 1, 7, 9)
    )


def post(client, body):
    return client.post(LIST_URL, body, format="json")


# --- POST -------------------------------------------------------------------------------------


@pytest.mark.parametrize(("changes", "field"), INVALID_VALUES)
def test_booking_with_an_invalid_value_is_a_400_naming_the_field(api, doctor, patient, changes, field):
    response = post(api(doctor), guide_body(patient, **changes))

    assert_error(response, 400, fields=(field,), code="validation_error")
    with scopes_disabled():
        assert Appointment.objects.count() == 0


def test_a_patient_of_another_clinic_is_a_400_naming_patient_id(api, doctor, foreign_patient):
    response = post(api(doctor), guide_body(foreign_patient))

    assert_error(response, 400, fields=("patient_id",), code="validation_error")
    with scopes_disabled():
        assert Appointment.objects.count() == 0


@pytest.mark.parametrize("patient_id", [987654, 0, -1, "abc", None, 2**63])
def test_an_unknown_or_invalid_patient_is_a_400_naming_patient_id(api, doctor, patient, patient_id):
    response = post(api(doctor), guide_body(patient, patient_id=patient_id))

    assert_error(response, 400, fields=("patient_id",))
    with scopes_disabled():
        assert Appointment.objects.count() == 0


def test_a_deleted_patient_cannot_be_booked(api, doctor, clinic):
    gone = PatientFactory(tenant=clinic, is_deleted=True)

    response = post(api(doctor), guide_body(gone))

    assert_error(response, 400, fields=("patient_id",))
    with scopes_disabled():
        assert Appointment.objects.count() == 0


@pytest.fixture(params=["other-clinic-doctor", "receptionist", "admin", "inactive-nurse"])
def not_our_provider(request, clinic, other_clinic):
    return {
        "other-clinic-doctor": lambda: UserFactory(tenant=other_clinic, role=Role.DOCTOR),
        "receptionist": lambda: UserFactory(tenant=clinic, role=Role.RECEPTIONIST),
        "admin": lambda: UserFactory(tenant=clinic, role=Role.ADMIN),
        "inactive-nurse": lambda: UserFactory(tenant=clinic, role=Role.NURSE, is_active=False),
    }[request.param]()


def test_a_provider_who_is_not_our_doctor_or_nurse_is_a_400_naming_provider_id(
    api, doctor, patient, not_our_provider
):
    response = post(api(doctor), guide_body(patient, provider_id=not_our_provider.pk))

    assert_error(response, 400, fields=("provider_id",), code="validation_error")
    with scopes_disabled():
        assert Appointment.objects.count() == 0


@pytest.mark.parametrize("missing", ["patient_id", "appointment_date"])
def test_booking_without_a_required_field_is_a_400(api, doctor, patient, missing):
    body = guide_body(patient)
    del body[missing]

    response = post(api(doctor), body)

    assert field_codes(assert_error(response, 400, fields=(missing,)), missing) == {"required"}
    with scopes_disabled():
        assert Appointment.objects.count() == 0


def test_a_time_skipped_by_daylight_saving_is_a_400(api, paris_doctor, paris_patient):
    # On 29 March 2026 Paris clocks jump from 02:00 to 03:00: 02:30 never happens there.
    response = post(api(paris_doctor), guide_body(paris_patient, appointment_date="2026-03-29T02:30:00"))

    body = assert_error(response, 400, fields=("appointment_date",), code="validation_error")
    assert field_codes(body, "appointment_date") == {"nonexistent_time"}
    with scopes_disabled():
        assert Appointment.objects.count() == 0


def test_the_same_time_with_an_offset_is_accepted(api, paris_doctor, paris_patient):
    response = post(
        api(paris_doctor), guide_body(paris_patient, appointment_date="2026-03-29T02:30:00+01:00")
    )

    assert response.status_code == 201, response.content
    assert response.json()["appointment_date"] == "2026-03-29T03:30:00+02:00"


def test_the_same_wall_clock_time_is_fine_in_a_clinic_without_that_change(api, doctor, patient):
    response = post(api(doctor), guide_body(patient, appointment_date="2026-03-29T02:30:00"))

    assert response.status_code == 201, response.content


# --- PATCH ------------------------------------------------------------------------------------


@pytest.mark.parametrize(("changes", "field"), INVALID_VALUES)
def test_rescheduling_with_an_invalid_value_is_a_400_and_changes_nothing(
    api, doctor, appointment, changes, field
):
    before = snapshot(appointment)

    response = api(doctor).patch(detail_url(appointment), changes, format="json")

    assert_error(response, 400, fields=(field,), code="validation_error")
    assert snapshot(appointment) == before


def test_reassigning_to_a_provider_who_is_not_our_doctor_or_nurse_is_a_400(
    api, doctor, appointment, not_our_provider
):
    before = snapshot(appointment)

    response = api(doctor).patch(detail_url(appointment), {"provider_id": not_our_provider.pk}, format="json")

    assert_error(response, 400, fields=("provider_id",))
    assert snapshot(appointment) == before


def test_rescheduling_into_a_daylight_saving_gap_is_a_400(api, paris_clinic, paris_doctor, paris_patient):
    appointment = AppointmentFactory(tenant=paris_clinic, patient=paris_patient)
    before = snapshot(appointment)

    response = api(paris_doctor).patch(
        detail_url(appointment), {"appointment_date": "2026-03-29T02:30:00"}, format="json"
    )

    body = assert_error(response, 400, fields=("appointment_date",))
    assert field_codes(body, "appointment_date") == {"nonexistent_time"}
    assert snapshot(appointment) == before


@pytest.mark.parametrize("status", ["done", "SCHEDULED", "", None, 3])
def test_an_unknown_status_is_a_400(api, doctor, appointment, status):
    before = snapshot(appointment)

    response = api(doctor).patch(detail_url(appointment), {"status": status}, format="json")

    assert_error(response, 400, fields=("status",))
    assert snapshot(appointment) == before


@pytest.mark.parametrize("raw", [b"{}", b""])
def test_an_empty_patch_is_a_400(api, doctor, appointment, raw):
    before = snapshot(appointment)

    response = api(doctor).patch(detail_url(appointment), raw, content_type="application/json")

    assert_error(response, 400, code="validation_error")
    assert snapshot(appointment) == before


# --- the body itself --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw",
    [
        pytest.param(b'{"patient_id": 1,', id="truncated"),
        pytest.param(b"{'patient_id': 1}", id="single-quotes"),
        pytest.param(b"[]", id="a-list"),
        pytest.param(b'"text"', id="a-string"),
        pytest.param(b"\xff\xfe", id="not-utf8"),
    ],
)
def test_malformed_json_is_a_400(api, doctor, appointment, raw):
    client = api(doctor)
    before = snapshot(appointment)

    created = client.post(LIST_URL, raw, content_type="application/json")
    patched = client.patch(detail_url(appointment), raw, content_type="application/json")

    assert_error(created, 400, code="malformed_request")
    assert_error(patched, 400, code="malformed_request")
    with scopes_disabled():
        assert Appointment.objects.count() == 1
    assert snapshot(appointment) == before


@pytest.mark.parametrize(
    "content_type", ["text/plain", "application/x-www-form-urlencoded", "application/xml"]
)
def test_a_body_that_is_not_json_is_a_415(api, doctor, patient, appointment, content_type):
    client = api(doctor)
    before = snapshot(appointment)

    created = client.post(LIST_URL, f"patient_id={patient.pk}", content_type=content_type)
    patched = client.patch(detail_url(appointment), "notes=x", content_type=content_type)

    assert_error(created, 415, code="unsupported_media_type")
    assert_error(patched, 415, code="unsupported_media_type")
    with scopes_disabled():
        assert Appointment.objects.count() == 1
    assert snapshot(appointment) == before


def test_multipart_is_a_415(api, doctor, patient):
    response = api(doctor).post(LIST_URL, guide_body(patient), format="multipart")

    assert_error(response, 415, code="unsupported_media_type")
    with scopes_disabled():
        assert Appointment.objects.count() == 0
