"""Emails are written in the recipient's language: their own setting, else their clinic's default
(no browser is there to ask); built inside `translation.override(language_for(recipient))`."""

from datetime import UTC, datetime

import pytest
from django.utils import translation

from appointments import reminders
from keneyapp.accounts.roles import Role
from messaging.emails import urgent_message_email
from tests.factories import AppointmentFactory, MessageFactory, PatientFactory, TenantFactory, UserFactory

# A Monday in winter: 09:05 UTC is 10:05 in Paris.
SENT_AT = datetime(2030, 1, 14, 9, 5, tzinfo=UTC)


def urgent(receiver_language: str, clinic_language: str = "en"):
    clinic = TenantFactory.build(
        name="Clinique Lumière", timezone="Europe/Paris", default_language=clinic_language
    )
    return MessageFactory.build(
        tenant=clinic,
        sender=UserFactory.build(tenant=clinic, first_name="Awa", last_name="Ndiaye"),
        receiver=UserFactory.build(tenant=clinic, email="nurse@example.org", language=receiver_language),
        is_urgent=True,
        created_at=SENT_AT,
    )


def test_the_urgent_message_email_is_in_a_french_receivers_language():
    email = urgent_message_email(urgent("fr"))

    assert email.subject == "[Clinique Lumière] Message urgent de Awa Ndiaye"
    assert (
        "Awa Ndiaye vous a envoyé un message urgent le lundi 14 janvier 2030 à 10:05 (Europe/Paris)."
        in email.body
    )
    assert "Connectez-vous à KeneyApp pour le lire" in email.body


def test_the_urgent_message_email_follows_the_clinics_default_for_a_receiver_who_chose_none():
    assert "Message urgent" in urgent_message_email(urgent("", clinic_language="fr")).subject
    assert "Urgent message" in urgent_message_email(urgent("", clinic_language="en")).subject


def test_the_receivers_own_setting_beats_the_clinics_default():
    email = urgent_message_email(urgent("en", clinic_language="fr"))

    assert email.subject == "[Clinique Lumière] Urgent message from Awa Ndiaye"
    assert "on Monday 14 January 2030 at 10:05 (Europe/Paris)" in email.body


def test_building_the_email_leaves_the_callers_language_as_it_was():
    with translation.override("en"):
        urgent_message_email(urgent("fr"))
        assert translation.get_language() == "en"


@pytest.mark.django_db
def test_a_reminder_is_built_in_the_patients_clinics_language(monkeypatch, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.REMINDER_WINDOW_HOURS = 24
    french = TenantFactory(slug="port", default_language="fr")
    english = TenantFactory(slug="harbour", default_language="en")
    now = datetime(2030, 1, 14, 8, 0, tzinfo=UTC)
    for clinic in (french, english):
        AppointmentFactory(
            tenant=clinic, patient=PatientFactory(tenant=clinic), appointment_date=now.replace(hour=10)
        )
    built_in: dict[int, str] = {}
    real = reminders.reminder_email

    def spy(appointment):
        built_in[appointment.tenant_id] = translation.get_language()
        return real(appointment)

    monkeypatch.setattr(reminders, "reminder_email", spy)
    reminders.send_due_reminders(now=now)

    assert built_in == {french.pk: "fr", english.pk: "en"}


@pytest.mark.django_db
def test_an_urgent_message_sent_through_the_api_is_emailed_in_the_receivers_language(
    api, clinic, mailoutbox, settings, django_capture_on_commit_callbacks, monkeypatch
):
    from keneyapp.celery import app as celery_app

    monkeypatch.setitem(celery_app.conf, "task_always_eager", True)  # run it here, even with a broker
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    sender = UserFactory(tenant=clinic, role=Role.DOCTOR, language="en")
    receiver = UserFactory(tenant=clinic, role=Role.NURSE, language="fr", email="infirmiere@example.org")

    # The sender's browser says English; the email is the receiver's.
    with django_capture_on_commit_callbacks(execute=True):  # the email's task is queued after commit
        response = api(sender).post(
            "/api/v1/messages",
            {"receiver_id": receiver.pk, "body": "Appelez-moi", "is_urgent": True},
            format="json",
            HTTP_ACCEPT_LANGUAGE="en",
        )

    assert response.status_code == 201, response.json()
    assert [email.subject for email in mailoutbox] == [
        f"[{clinic.name}] Message urgent de {sender.get_full_name()}"
    ]
