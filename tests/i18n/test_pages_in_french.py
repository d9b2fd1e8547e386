"""The admin pages of the ground apps, rendered for a French user, show none of the project's
English strings: every msgid of the core, accounts, messaging, dashboard and demo catalogues that
has a different French translation is looked for in the page's visible text."""

import html
import re
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client
from django_otp.plugins.otp_totp.models import TOTPDevice

from keneyapp.accounts.roles import Role
from tests.accounts.conftest import enrol, totp_clock  # noqa: F401 (fixtures)
from tests.factories import DEFAULT_PASSWORD, MessageFactory, TenantFactory, UserFactory

pytestmark = pytest.mark.django_db

CATALOGUES = ("keneyapp/core", "keneyapp/accounts", "messaging", "dashboard", "demo")
FR = {"HTTP_ACCEPT_LANGUAGE": "fr"}
PLACEHOLDER = re.compile(r"%\(\w+\)[sdr]|%[sd]")


def _unquote(text: str) -> str:
    return text.encode("latin-1", "backslashreplace").decode("unicode_escape")


def english_phrases() -> set[str]:
    """The English pieces (between placeholders) of every msgid whose French differs, less those
    that are also a French word of the catalogues ("Messages", the app, is also the French plural
    of "message")."""
    phrases: set[str] = set()
    french: set[str] = set()
    for app in CATALOGUES:
        po = Path(settings.BASE_DIR, app, "locale", "fr", "LC_MESSAGES", "django.po").read_text()
        for block in po.split("\n\n"):
            ids = re.findall(r'^msgid(?:_plural)? "(.*)"$', block, flags=re.M)
            strs = re.findall(r'^msgstr(?:\[\d\])? "(.*)"$', block, flags=re.M)
            if not ids or ids[0] == "":
                continue
            french |= {_unquote(s).lower() for s in strs}
            if {_unquote(s) for s in strs} == {_unquote(i) for i in ids}:
                continue  # the same word in both languages ("patient", "message", "API")
            for msgid in ids:
                for piece in PLACEHOLDER.split(_unquote(msgid)):
                    piece = piece.strip(" .,:;()[]\n")
                    if len(piece) >= 2:
                        phrases.add(piece)
    return {phrase for phrase in phrases if phrase.lower() not in french}


PHRASES = english_phrases()


def visible_text(response) -> str:
    page = response.content.decode()
    page = re.sub(r"<(script|style|svg)\b.*?</\1>", " ", page, flags=re.S | re.I)
    # Attributes people read: placeholders, titles, button labels (not the values of choices).
    shown = re.findall(r'(?:placeholder|title|aria-label)="([^"]*)"', page)
    shown += re.findall(r'<input type="submit" value="([^"]*)"', page)
    text = re.sub(r"<[^>]+>", " ", page)
    return html.unescape(" ".join([text, *shown]))


def english_found(response) -> list[str]:
    """The phrases in the page, as written or capitalised (the admin capitalises verbose names)."""
    text = visible_text(response)
    return sorted(
        phrase
        for phrase in PHRASES
        if any(
            re.search(rf"(?<!\w){re.escape(variant)}(?!\w)", text)
            for variant in {phrase, phrase[0].upper() + phrase[1:]}
        )
    )


def assert_french(response):
    assert response.status_code == 200
    assert response["Content-Language"] == "fr"
    assert english_found(response) == []


@pytest.fixture
def port(db):
    return TenantFactory(name="Clinique du Port", slug="port", default_language="fr", mfa_required_roles=[])


@pytest.fixture
def port_admin(port):
    return UserFactory(tenant=port, role=Role.ADMIN, username="awa", first_name="Awa", last_name="Ndiaye")


@pytest.fixture
def port_nurse(port):
    return UserFactory(tenant=port, role=Role.NURSE, username="fatou", first_name="Fatou", last_name="Sarr")


def test_the_catalogues_give_the_test_something_to_look_for():
    assert {"Second factor", "Clinics and staff", "Two-factor login", "default language"} <= PHRASES


def test_the_check_finds_english_when_there_is_some(browser, port_admin):
    # The same page in English is full of them: the check can fail.
    assert len(english_found(browser(port_admin).get("/admin/", HTTP_ACCEPT_LANGUAGE="en"))) >= 3


@pytest.mark.parametrize(
    "path",
    [
        "/admin/",
        "/admin/accounts/",
        "/admin/accounts/user/",
        "/admin/accounts/user/add/",
        "/admin/accounts/tenant/",
        "/admin/language/",
        "/admin/core/auditevent/",
        "/admin/messaging/message/",
    ],
)
def test_the_clinic_admins_pages_are_french(browser, port_admin, port_nurse, path):
    MessageFactory(tenant=port_admin.tenant, sender=port_nurse, receiver=port_admin, is_urgent=True)
    assert_french(browser(port_admin).get(path, **FR))


def test_a_user_and_the_clinics_change_forms_are_french(browser, port_admin, port_nurse, port):
    client = browser(port_admin)

    assert_french(client.get(f"/admin/accounts/user/{port_nurse.pk}/change/", **FR))
    assert_french(client.get(f"/admin/accounts/tenant/{port.pk}/change/", **FR))


def test_a_form_error_is_french(browser, port_admin, port):
    response = browser(port_admin).post(
        f"/admin/accounts/tenant/{port.pk}/change/",
        {"name": port.name, "timezone": "Mars/Olympus", "default_language": "fr"},
        **FR,
    )

    assert_french(response)
    assert "n'est pas un fuseau horaire IANA connu" in visible_text(response)


def test_the_login_page_is_french():
    assert_french(Client().get("/admin/login/", **FR))


def test_the_mfa_pages_are_french(port_nurse, enrol, totp_clock):  # noqa: F811 (fixtures)
    # Enrolment: the QR page, then the recovery codes.
    client = Client()
    client.post("/admin/login/", {"username": port_nurse.username, "password": DEFAULT_PASSWORD}, **FR)
    assert_french(client.get("/admin/mfa/enrol/", **FR))
    device = TOTPDevice.objects.get(user=port_nurse, confirmed=False)
    assert_french(client.post("/admin/mfa/enrol/", {"code": totp_clock.code(device)}, **FR))
    assert_french(client.get("/admin/mfa/enrol/", **FR))  # enrolled already

    # The login's code step, and its refusal.
    totp_clock.advance()
    other = Client()
    other.post("/admin/login/", {"username": port_nurse.username, "password": DEFAULT_PASSWORD}, **FR)
    assert_french(other.get("/admin/login/code/", **FR))
    refused = other.post("/admin/login/code/", {"code": "12345x"}, **FR)
    assert_french(refused)
    assert "Ce code n'est pas valide" in visible_text(refused)
