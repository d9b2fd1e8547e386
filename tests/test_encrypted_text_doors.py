"""Through the API and the admin, encrypted clinical text reads and writes as before: shown in clear,
accepted up to its limit (a 400 in the error shape beyond it), and search on names, record numbers,
email and phone still finds the patient (keneyapp/core/encrypted_fields.py)."""

import pytest
from django.db import connection

from keneyapp.core.encrypted_fields import PREFIX
from keneyapp.core.scoping import scopes_disabled
from tests.error_shape import assert_error
from tests.factories import PatientFactory

PATIENTS = "/api/v1/patients"
APPOINTMENTS = "/api/v1/appointments"
MESSAGES = "/api/v1/messages"
NOTE = "Zqdoor allergic to penicillin since 2019"


def stored(table: str, column: str, pk: int) -> str:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {column} FROM {table} WHERE id = %s", [pk])  # noqa: S608 (fixed names)
        return cursor.fetchone()[0]


@pytest.fixture
def patient(clinic):
    return PatientFactory(
        tenant=clinic,
        first_name="Aïssatou",
        last_name="Ndiaye",
        mrn="KN-000417",
        email="aissatou.ndiaye@example.org",
        phone_number="+221 77 555 12 34",
        notes=NOTE,
        allergies="Penicillin",
        emergency_contact="Moussa Ndiaye +221 77 000 00 01",
    )


SEARCHES = ["ndiaye", "aissatou", "KN-000417", "aissatou.ndiaye@example.org", "775551234", "+221 77 555"]


@pytest.mark.parametrize("term", SEARCHES)
def test_api_search_by_name_record_number_email_and_phone_finds_the_patient(api, doctor, patient, term):
    PatientFactory(tenant=patient.tenant, last_name="Sow")  # not a match

    response = api(doctor).get(PATIENTS, {"search": term})

    assert response.status_code == 200, response.content
    assert [row["id"] for row in response.json()["items"]] == [patient.pk]
    assert response.json()["items"][0]["notes"] == NOTE


def test_api_search_does_not_look_into_the_encrypted_text(api, doctor, patient):
    response = api(doctor).get(PATIENTS, {"search": "penicillin"})

    assert response.status_code == 200
    assert response.json()["items"] == []


@pytest.mark.parametrize("term", SEARCHES)
def test_admin_search_by_name_record_number_email_and_phone_finds_the_patient(browser, doctor, patient, term):
    PatientFactory(tenant=patient.tenant, last_name="Sow")

    response = browser(doctor).get("/admin/patients/patient/", {"q": term})

    assert response.status_code == 200
    assert [p.pk for p in response.context["cl"].result_list] == [patient.pk]


def test_the_api_shows_and_accepts_the_text_and_stores_it_encrypted(api, doctor, patient):
    client = api(doctor)

    assert client.get(f"{PATIENTS}/{patient.pk}").json()["allergies"] == "Penicillin"
    response = client.patch(f"{PATIENTS}/{patient.pk}", {"allergies": "Latex ✓"}, format="json")

    assert response.status_code == 200, response.content
    assert client.get(f"{PATIENTS}/{patient.pk}").json()["allergies"] == "Latex ✓"
    raw = stored("patients_patient", "allergies", patient.pk)
    assert raw.startswith(PREFIX) and "Latex" not in raw


def test_appointments_and_messages_show_what_was_written_and_store_it_encrypted(api, doctor, nurse, patient):
    booked = api(doctor).post(
        APPOINTMENTS,
        {
            "patient_id": patient.pk,
            "appointment_date": "2030-03-04T10:00:00",
            "reason": "Zqreason",
            "notes": NOTE,
        },
        format="json",
    )
    sent = api(doctor).post(
        MESSAGES, {"receiver_id": nurse.pk, "subject": "Zqsubject", "body": NOTE}, format="json"
    )

    assert booked.status_code == 201, booked.content
    assert sent.status_code == 201, sent.content
    appointment = api(doctor).get(f"{APPOINTMENTS}/{booked.json()['id']}").json()
    assert (appointment["reason"], appointment["notes"]) == ("Zqreason", NOTE)
    inbox = api(nurse).get(MESSAGES).json()["items"]
    assert [(m["subject"], m["body"]) for m in inbox] == [("Zqsubject", NOTE)]
    for table, column, pk in [
        ("appointments_appointment", "reason", booked.json()["id"]),
        ("appointments_appointment", "notes", booked.json()["id"]),
        ("messaging_message", "subject", sent.json()["id"]),
        ("messaging_message", "body", sent.json()["id"]),
    ]:
        assert stored(table, column, pk).startswith(PREFIX), (table, column)


@pytest.mark.parametrize(
    ("url", "body", "field"),
    [
        pytest.param(
            PATIENTS, {"emergency_contact": "a" * 256}, "emergency_contact", id="patient-contact-256"
        ),
        pytest.param(APPOINTMENTS, {"reason": "a" * 256}, "reason", id="appointment-reason-256"),
        pytest.param(MESSAGES, {"subject": "a" * 201, "body": "Hi"}, "subject", id="message-subject-201"),
    ],
)
def test_the_texts_limit_is_still_a_400_in_the_error_shape(api, doctor, nurse, patient, url, body, field):
    full = {
        PATIENTS: {"first_name": "Awa", "last_name": "Diop", "date_of_birth": "1990-04-12"},
        APPOINTMENTS: {"patient_id": patient.pk, "appointment_date": "2030-03-04T10:00:00"},
        MESSAGES: {"receiver_id": nurse.pk},
    }[url]

    response = api(doctor).post(url, {**full, **body}, format="json")

    assert_error(response, 400, fields=(field,), code="validation_error")


def test_the_admin_shows_the_text_in_clear_and_keeps_its_limit(browser, doctor, patient):
    page = browser(doctor).get(f"/admin/patients/patient/{patient.pk}/change/")

    assert page.status_code == 200
    html = page.content.decode()
    assert NOTE in html and PREFIX not in html
    form = page.context["adminform"].form
    assert form.fields["emergency_contact"].max_length == 255
    assert 'maxlength="255"' in str(form["emergency_contact"])  # one line, as the CharField it was
    too_long = form.__class__(data={**form.initial, "emergency_contact": "a" * 256}, instance=patient)
    assert "emergency_contact" in too_long.errors


def test_model_validation_keeps_the_plaintext_limit(patient):
    from django.core.exceptions import ValidationError

    patient.emergency_contact = "a" * 256
    with scopes_disabled(), pytest.raises(ValidationError) as refused:
        patient.full_clean()
    assert "emergency_contact" in refused.value.message_dict
