"""What patients, appointments and documents send or print, in French: the reminder email (its
clinic's language: a patient has no account), the access report PDF (the requester's, through
the request) and the patient summary report (its requester's, in the task)."""

import re
import zlib
from datetime import UTC, datetime

import pytest
from django.utils import translation

from appointments.emails import reminder_email
from documents import reports, services, tasks
from patients import access_report
from tests.factories import AppointmentFactory, PatientFactory, TenantFactory


def pdf_text(content: bytes) -> str:
    """The text drawn on a PDF of fpdf2's (its page streams, Flate-compressed, in Latin-1)."""
    streams = re.findall(rb"stream\r?\n(.*?)\r?\nendstream", content, flags=re.S)
    drawn = []
    for stream in streams:
        try:
            drawn.append(zlib.decompress(stream))
        except zlib.error:
            drawn.append(stream)
    # PDF string syntax escapes brackets: "\\(dossier A1\\)" is drawn "(dossier A1)".
    return b"\n".join(drawn).decode("latin-1").replace("\\(", "(").replace("\\)", ")")


def reminder_for(language: str):
    clinic = TenantFactory.build(name="Clinique Lumière", timezone="Europe/Paris")
    clinic.default_language = language  # the clinic's setting (keneyapp.core.language.clinic_language)
    patient = PatientFactory.build(tenant=clinic, email="patient@example.org")
    appointment = AppointmentFactory.build(
        tenant=clinic, patient=patient, appointment_date=datetime(2030, 1, 15, 7, 30, tzinfo=UTC)
    )
    return reminder_email(appointment)


def test_the_reminder_speaks_its_clinics_language():
    email = reminder_for("fr")

    assert email.subject == "Rappel : votre rendez-vous à Clinique Lumière le 15 janvier à 08:30"
    assert email.body.startswith("Bonjour,\n\n")
    assert "le mardi 15 janvier 2030 à 08:30 (Europe/Paris)" in email.body
    assert "merci d'appeler la clinique" in email.body
    assert "appointment" not in email.body and "Tuesday" not in email.body


def test_the_reminder_of_an_english_clinic_stays_english_under_a_french_request():
    with translation.override("fr"):  # e.g. sent from a French-speaking admin's request
        email = reminder_for("en")

    assert email.subject.startswith("Reminder: your appointment at Clinique Lumière on 15 January")
    assert "Tuesday 15 January 2030 at 08:30 (Europe/Paris)" in email.body


@pytest.mark.django_db
def test_the_access_report_pdf_follows_the_requests_language(api, clinic_admin):
    patient = PatientFactory(tenant=clinic_admin.tenant, mrn="A0000777")
    url = f"/api/v1/patients/{patient.pk}/access-report.pdf"
    with translation.override("fr"):
        french = api(clinic_admin).get(url, HTTP_ACCEPT_LANGUAGE="fr")
    with translation.override("en"):
        english = api(clinic_admin).get(url, HTTP_ACCEPT_LANGUAGE="en")

    assert french.status_code == english.status_code == 200
    assert "rapport d'accès" in pdf_text(french.content)
    assert "Qui a consulté ce dossier" in pdf_text(french.content)
    assert "access report" in pdf_text(english.content) and "rapport" not in pdf_text(english.content)


def test_the_access_report_pdf_has_no_english_of_its_own_in_french():
    clinic = TenantFactory.build(name="Clinique Lumière", timezone="Europe/Paris")
    report = {
        "patient": {"id": 1, "mrn": "A0000777", "name": "Awa Sy"},
        "generated_at": datetime(2030, 1, 15, 7, 30, tzinfo=UTC),
        "truncated": True,
        "accesses": [
            {"at": datetime(2030, 1, 14, 9, 0, tzinfo=UTC), "user_id": None, "staff_name": None,
             "role": "", "action": "view", "model": "patients.patient", "door": "api", "outcome": "ok"},
        ],
    }  # fmt: skip
    with translation.override("fr"):
        text = pdf_text(access_report.render_access_report_pdf(report, tenant=clinic))

    assert "Patient : Awa Sy (dossier A0000777)" in text
    assert "les 1000 accès les plus récents" in text and "le système" in text and "par api" in text
    for english in ("Generated", "Who accessed", "the system", " via "):
        assert english not in text


@pytest.mark.django_db
def test_the_summary_report_is_rendered_in_its_requesters_language(api, doctor, monkeypatch):
    patient = PatientFactory(tenant=doctor.tenant, allergies="")
    asked_for, rendered = [], []
    real_render = reports.render_patient_summary

    def language_for(user):
        asked_for.append(user.pk)
        return "fr"

    def render(patient, path):
        real_render(patient, path)
        with open(path, "rb") as pdf:
            rendered.append((translation.get_language(), pdf_text(pdf.read())))

    monkeypatch.setattr(tasks, "language_for", language_for)
    monkeypatch.setattr(reports, "render_patient_summary", render)
    # Queued nowhere: the task is run here, as a worker runs it (no request, no browser language),
    # whether Celery is eager (SQLite) or has a broker (Redis).
    monkeypatch.setattr(services, "queue_task", lambda *args, **kwargs: None)
    with translation.override("en"):
        response = api(doctor).post(f"/api/v1/patients/{patient.pk}/report", HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 202, response.content
    tasks.generate_report(clinic_id=doctor.tenant_id, patient_id=patient.pk)

    assert asked_for == [doctor.pk]  # the report's requester
    [(language, text)] = rendered
    assert language == "fr"
    assert "synthèse du dossier patient" in text and "État civil" in text and "Aucune renseignée" in text
    assert "Demographics" not in text and "None recorded" not in text
