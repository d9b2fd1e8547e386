"""The admin pages of patients, appointments and documents in French: no English string of those
apps' catalogues is left on them, and their French is there; the API's codes stay the same in
every language, only its messages are translated.

The English strings are read from the compiled catalogues themselves (each app's
locale/fr/LC_MESSAGES/django.mo), so a string added to an app and translated is checked here
without this file knowing it. A string that reads the same in both languages ("Patient",
"Allergies", "Documents") proves nothing and is left out.
"""

import gettext
import re
from datetime import UTC, datetime, time
from html.parser import HTMLParser
from pathlib import Path

import pytest
from django.conf import settings
from django.utils import translation

from appointments.models import AppointmentStatus, TimeOff, WorkingHours
from tests.documents.helpers import make_document
from tests.factories import AppointmentFactory, PatientFactory

APPS = ("patients", "appointments", "documents")
ROOT = Path(settings.BASE_DIR)
MONDAY_9 = datetime(2030, 1, 7, 9, 0, tzinfo=UTC)
PLACEHOLDER = re.compile(r"%\(\w+\)[sd]|\{\w+\}")
# What may stand around a label on a page: "Suivant →", "Nom :", "● ...".
EDGES = " \t\n:.,;·()[]←→«»—-●*\u2039\u203a\u2013"  # \u2039 \u203a: single angle quotes; \u2013: en dash


def english_strings() -> set[str]:
    """Every msgid of the three apps whose French differs from it."""
    found = set()
    for app in APPS:
        with open(ROOT / app / "locale" / "fr" / "LC_MESSAGES" / "django.mo", "rb") as compiled:
            catalogue = gettext.GNUTranslations(compiled)._catalog  # type: ignore[attr-defined]
        for key, msgstr in catalogue.items():
            # A plural form's key is (msgid, form index); its msgid is the English singular.
            msgid = key[0] if isinstance(key, tuple) else key
            if msgid and msgid != msgstr:
                found.add(msgid)
    return found


ENGLISH = english_strings()


class PageText(HTMLParser):
    """The text a person reads on a page: text nodes and the attributes shown as text (titles,
    labels, button values); not scripts, styles or attribute values that are data (names, ids)."""

    SHOWN_ATTRIBUTES = ("title", "aria-label", "placeholder", "alt", "data-on")

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.segments: list[str] = []
        self._hidden = 0

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style"):
            self._hidden += 1
        values = dict(attrs)
        for name in self.SHOWN_ATTRIBUTES:
            if values.get(name):
                self.segments.append(values[name])
        if tag == "input" and values.get("type") in ("submit", "button") and values.get("value"):
            self.segments.append(values["value"])

    def handle_endtag(self, tag):
        if tag in ("script", "style") and self._hidden:
            self._hidden -= 1

    def handle_data(self, data):
        if not self._hidden and data.strip():
            self.segments.append(" ".join(data.split()))


def page_text(response) -> list[str]:
    """The page's text, apostrophes made plain: Django's own catalogues write "Aujourd\u2019hui"."""
    parser = PageText()
    parser.feed(response.content.decode())
    return [segment.replace("\u2019", "'") for segment in parser.segments]


def english_on(segments: list[str]) -> set[str]:
    """The English strings of our catalogues found in a page's text: a label that is the whole of
    a text node ("Calendar", "Check in"), or a phrase of two words or more anywhere in it (a
    message with its values filled in: its fixed parts are looked for)."""
    shown = {segment.strip(EDGES).casefold() for segment in segments}
    text = " ".join(segments).casefold()
    found = set()
    for msgid in ENGLISH:
        if msgid.strip(EDGES).casefold() in shown:
            found.add(msgid)
            continue
        for part in PLACEHOLDER.split(msgid):
            part = part.strip(EDGES).casefold()
            if " " in part and part in text:
                found.add(msgid)
    return found


@pytest.fixture
def records(clinic, doctor):
    """A working Monday for the doctor, with a patient booked at 09:00 and a document."""
    patient = PatientFactory(
        tenant=clinic, first_name="Awa", last_name="Sy", mrn="A0000101", allergies="Pénicilline"
    )
    for weekday in range(5):
        WorkingHours.objects.create(
            tenant=clinic, provider=doctor, weekday=weekday, starts_at=time(8), ends_at=time(12)
        )
    TimeOff.objects.create(
        tenant=clinic, provider=doctor, starts_at=MONDAY_9.replace(hour=10), ends_at=MONDAY_9.replace(hour=11)
    )
    appointment = AppointmentFactory(
        tenant=clinic, patient=patient, provider=doctor, appointment_date=MONDAY_9, reason="Contrôle"
    )
    make_document(clinic, patient=patient, title="Radio thorax")
    return {"patient": patient, "appointment": appointment, "doctor": doctor}


def french_page(client, url: str, params: dict | None = None):
    """The page as a French-speaking browser asks for it (Accept-Language), with French active
    around the request as well, for settings that do not choose a language per request."""
    with translation.override("fr"):
        response = client.get(url, params or {}, HTTP_ACCEPT_LANGUAGE="fr")
    assert response.status_code == 200, response.content[:500]
    return response


PAGES = {
    "patient changelist": (
        lambda r: ("/admin/patients/patient/", None),
        ["Numéro de dossier médical", "Nom, e-mail, téléphone ou numéro de dossier"],
    ),
    "patient add form": (
        lambda r: ("/admin/patients/patient/add/", None),
        ["Coordonnées", "Personne à prévenir", "Date de naissance", "Femme"],
    ),
    "patient change form": (
        lambda r: (f"/admin/patients/patient/{r['patient'].pk}/change/", None),
        ["Coordonnées", "Clinique", "Dossier", "Télécharger", "Résultat d'analyse"],
    ),
    "appointment changelist": (
        lambda r: ("/admin/appointments/appointment/", None),
        ["Agenda", "Aujourd'hui", "Praticien", "Planifié", "Nom du patient ou numéro de dossier"],
    ),
    "appointment add form": (
        lambda r: ("/admin/appointments/appointment/add/", None),
        ["Début", "Durée (minutes)", "Motif"],
    ),
    "calendar": (
        lambda r: (
            "/admin/appointments/appointment/calendar/",
            {"provider": r["doctor"].pk, "date": "2030-01-07", "view": "week"},
        ),
        ["Heures de travail", "Libre : cliquez pour réserver", "Médecin ou infirmier", "Semaine"],
    ),
    "today": (
        lambda r: ("/admin/appointments/appointment/today/", {"date": "2030-01-07"}),
        ["Aujourd'hui à l'accueil", "Enregistrer l'arrivée", "Absent", "Annuler", "Arrivée"],
    ),
    "document changelist": (
        lambda r: ("/admin/documents/document/", None),
        ["Télécharger", "Résultat d'analyse", "Catégorie", "Prêt"],
    ),
}


def test_the_catalogues_have_english_strings_to_look_for():
    # The check below is only as good as this set: it must hold the apps' labels and messages.
    assert {"Calendar", "Check in", "medical record number", "Lab result", "working hours"} <= ENGLISH
    assert "Patient" not in ENGLISH and "Allergies" not in ENGLISH  # the same in French


def test_the_checker_finds_english_left_on_a_page():
    # A page left in English is caught, both as a whole label and inside a filled-in message.
    assert english_on(["Calendar", "Suivant →"]) == {"Calendar"}
    assert "Next free slot: %(when)s." in english_on(["Déjà pris. Next free slot: lundi 7 janvier 09:30."])
    assert english_on(["Agenda", "Prochain créneau libre : lundi"]) == set()


@pytest.mark.parametrize("page", list(PAGES))
def test_admin_page_in_french_has_no_english_of_our_apps(browser, clinic_admin, records, page):
    where, french = PAGES[page]
    url, params = where(records)
    segments = page_text(french_page(browser(clinic_admin), url, params))

    assert english_on(segments) == set()
    text = " ".join(segments)
    missing = [phrase for phrase in french if phrase not in text]
    assert not missing, text


def test_the_same_page_in_english_is_caught_by_the_check(browser, clinic_admin, records):
    # Without French, the page shows our English: the check above can fail.
    with translation.override("en"):
        response = browser(clinic_admin).get(
            "/admin/appointments/appointment/today/", {"date": "2030-01-07"}, HTTP_ACCEPT_LANGUAGE="en"
        )
    assert {"Today at the front desk", "Check in"} <= english_on(page_text(response))


def api_error(client, language: str, method: str, url: str, body: dict | None = None) -> dict:
    with translation.override(language):
        if method == "post":
            response = client.post(url, body, format="json", HTTP_ACCEPT_LANGUAGE=language)
        else:
            response = client.get(url, body or {}, HTTP_ACCEPT_LANGUAGE=language)
    assert response.status_code == 400, response.content
    return response.json()


@pytest.mark.parametrize(
    "method, url, body, field, code, french",
    [
        (
            "post",
            "/api/v1/patients",
            {"first_name": "Awa", "last_name": "Sy", "date_of_birth": "1990-01-01", "phone_number": "12"},
            "phone_number",
            "invalid_phone",
            "Saisissez un numéro de téléphone de 6 à 15 chiffres",
        ),
        (
            "post",
            "/api/v1/patients",
            {"first_name": "Awa", "last_name": "Sy", "date_of_birth": "1850-01-01"},
            "date_of_birth",
            "too_old",
            "La date de naissance doit être en 1900 ou après.",
        ),
        ("get", "/api/v1/documents", {"category": "x-ray"}, "category", "invalid", "Une valeur parmi : "),
    ],
)
def test_api_error_in_french_keeps_its_code_and_translates_its_message(
    api, clinic_admin, method, url, body, field, code, french
):
    client = api(clinic_admin)
    english = api_error(client, "en", method, url, body)["fields"][field][0]
    in_french = api_error(client, "fr", method, url, body)["fields"][field][0]

    assert english["code"] == in_french["code"] == code
    assert french in in_french["message"]
    assert in_french["message"] != english["message"]


def test_appointment_status_labels_are_french_and_values_unchanged():
    with translation.override("fr"):
        labels = {str(label) for label in AppointmentStatus.labels}
    assert {"Planifié", "Confirmé", "Arrivé", "Terminé", "Annulé", "Absent"} == labels
    assert AppointmentStatus.NO_SHOW.value == "no_show"
