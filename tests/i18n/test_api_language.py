"""The API in French and English: the same machine-readable codes, only the human messages differ;
dates stay ISO 8601 whatever the language; cached answers hold no translated text."""

from datetime import UTC, datetime

import pytest

from keneyapp.accounts.roles import Role
from tests.factories import AppointmentFactory, PatientFactory, UserFactory

PATIENTS = "/api/v1/patients"
APPOINTMENTS = "/api/v1/appointments"
DASHBOARD = "/api/v1/dashboard/stats"

FR = {"HTTP_ACCEPT_LANGUAGE": "fr-FR,fr;q=0.9"}
EN = {"HTTP_ACCEPT_LANGUAGE": "en-GB,en;q=0.9"}


def codes(body: dict) -> tuple:
    """Everything a program reads in an error: the status, the code, each field's codes."""
    fields = {name: [item["code"] for item in items] for name, items in body.get("fields", {}).items()}
    return body["status"], body["code"], fields


def messages(body: dict) -> tuple:
    fields = {name: [item["message"] for item in items] for name, items in body.get("fields", {}).items()}
    return body["detail"], fields


def both(send) -> tuple[dict, dict]:
    french, english = send(FR), send(EN)
    assert french.status_code == english.status_code
    assert french["Content-Language"] == "fr" and english["Content-Language"] == "en"
    return french.json(), english.json()


@pytest.mark.parametrize(
    ("name", "send"),
    [
        # DRF's own messages ("This field is required.") and ours ("Unknown field.")
        ("validation", lambda client, h: client.post(PATIENTS, {"frist_name": "Awa"}, format="json", **h)),
        # keneyapp.core.pagination
        ("paging", lambda client, h: client.get(PATIENTS, {"limit": "0", "skip": "-1"}, **h)),
        # keneyapp.core.field_selection
        ("fields", lambda client, h: client.get(PATIENTS, {"fields": "id,shoe_size"}, **h)),
        # keneyapp.core.parsers
        (
            "malformed",
            lambda client, h: client.generic("POST", PATIENTS, "[1]", content_type="application/json", **h),
        ),
        # a 404 of the API's own
        ("not found", lambda client, h: client.get("/api/v1/patients/999999", **h)),
        # keneyapp.core.serializers.ClinicDateTimeField and keneyapp.core.clinic_time
        (
            "date-time",
            lambda client, h: client.post(
                APPOINTMENTS, {"patient_id": 1, "appointment_date": "02/12/2026 14:30"}, format="json", **h
            ),
        ),
    ],
)
def test_the_same_request_in_french_and_english_has_the_same_codes_and_translated_messages(
    api, doctor, name, send
):
    client = api(doctor)
    french, english = both(lambda headers: send(client, headers))

    assert codes(french) == codes(english)
    assert messages(french) != messages(english), name


def test_a_role_refusal_is_translated_and_keeps_its_code(api, receptionist):
    patient = PatientFactory(tenant=receptionist.tenant)
    client = api(receptionist)
    french, english = both(lambda headers: client.delete(f"{PATIENTS}/{patient.pk}", **headers))

    assert codes(french) == codes(english) == (403, "permission_denied", {})
    assert english["detail"].startswith("Your role (receptionist) may not")
    assert french["detail"].startswith("Votre rôle (receptionist) ne permet pas")


def test_an_unauthenticated_request_is_translated_by_the_browser_alone(api):
    french, english = both(lambda headers: api().get(PATIENTS, **headers))

    assert codes(french) == codes(english) == (401, "not_authenticated", {})
    assert french["detail"] != english["detail"]


def test_the_users_setting_translates_the_api_without_a_browser_preference(api, clinic):
    french_doctor = UserFactory(tenant=clinic, role=Role.DOCTOR, language="fr")
    body = api(french_doctor).get(PATIENTS, {"limit": "0"}).json()

    assert body["code"] == "validation_error"
    assert body["detail"] == "Saisie invalide."
    assert body["fields"]["limit"][0]["code"] == "invalid"
    assert body["fields"]["limit"][0]["message"].startswith("limit doit être compris entre 1 et")


def test_the_login_refusal_is_translated_and_keeps_its_code(api, doctor):
    def send(headers):
        return api().post(
            "/api/v1/auth/login", {"username": doctor.username, "password": "wrong"}, format="json", **headers
        )

    french, english = both(send)
    assert codes(french) == codes(english) == (401, "invalid_credentials", {})
    assert french["detail"] == "Nom d'utilisateur ou mot de passe invalide."
    assert english["detail"] == "Invalid username or password."


# --- ISO stays ISO ---


def test_dates_are_iso_in_french_answers(api, clinic, doctor):
    patient = PatientFactory(tenant=clinic)
    AppointmentFactory(
        tenant=clinic, patient=patient, appointment_date=datetime(2030, 12, 2, 14, 30, tzinfo=UTC)
    )
    client = api(doctor)

    detail = client.get(f"{PATIENTS}/{patient.pk}", **FR).json()
    assert detail["date_of_birth"] == "1980-05-17"

    listed = client.get(APPOINTMENTS, {"patient_id": patient.pk}, **FR).json()
    assert listed["items"][0]["appointment_date"].startswith("2030-12-02T14:30:00")


def test_a_french_api_client_writes_iso_and_never_d_m_y(api, clinic, doctor):
    client = api(doctor)
    body = {"first_name": "Khady", "last_name": "Ndoye", "sex": "female"}

    iso = client.post(PATIENTS, {**body, "date_of_birth": "1990-12-02"}, format="json", **FR)
    assert iso.status_code == 201, iso.json()
    assert iso.json()["date_of_birth"] == "1990-12-02"

    french = client.post(
        PATIENTS, {**body, "last_name": "Faye", "date_of_birth": "02/12/1990"}, format="json", **FR
    )
    assert french.status_code == 400
    assert codes(french.json())[2]["date_of_birth"] == ["invalid"]


# --- cached answers ---


def test_cached_answers_hold_no_translated_text_so_one_entry_serves_every_language(api, clinic, doctor):
    PatientFactory(tenant=clinic, last_name="Sy")
    AppointmentFactory(tenant=clinic)
    client = api(doctor)

    for url in (PATIENTS, DASHBOARD, f"{PATIENTS}?fields=id,last_name,sex"):
        computed_in_french = client.get(url, **FR)  # the cache entry is computed in French here
        served_in_english = client.get(url, **EN)  # and served from it in English
        assert computed_in_french.status_code == 200
        assert computed_in_french.json() == served_in_english.json(), url
