"""Which language a person reads KeneyApp in: the browser (language cookie, then Accept-Language),
then their own setting, then their clinic's default, then English (keneyapp/core/language.py)."""

import pytest
from django.conf import settings
from django.test import RequestFactory

from keneyapp.accounts.roles import Role
from keneyapp.core.language import language_for, language_for_request
from keneyapp.core.scoping import scopes_disabled
from tests.factories import TenantFactory, UserFactory

ADMIN_INDEX = "/admin/"
API_ME = "/api/v1/auth/me"


@pytest.fixture
def french_clinic(db):
    return TenantFactory(name="Clinique du Port", slug="port", default_language="fr")


@pytest.fixture
def english_clinic(db):
    return TenantFactory(name="Harbour Clinic", slug="harbour", default_language="en")


def _request(**headers):
    return RequestFactory().get("/", **headers)


# --- the order, as a function ---


@pytest.mark.parametrize(
    ("accept", "cookie", "own", "clinic", "expected"),
    [
        ("", None, "", "en", "en"),  # nothing said anywhere: English
        ("", None, "", "fr", "fr"),  # the clinic's default
        ("", None, "en", "fr", "en"),  # the user's setting beats the clinic's
        ("", None, "fr", "en", "fr"),
        ("fr-FR,fr;q=0.9", None, "en", "en", "fr"),  # the browser beats the user's setting
        ("en-GB,en;q=0.9", None, "fr", "fr", "en"),
        ("de-DE,de;q=0.9", None, "fr", "en", "fr"),  # a language KeneyApp does not speak is skipped
        ("de,fr;q=0.5", None, "en", "en", "fr"),  # ... for the next one it does
        ("en", "fr", "en", "en", "fr"),  # the language cookie beats Accept-Language
    ],
)
def test_the_browser_beats_the_user_who_beats_the_clinic_who_beats_english(
    db, accept, cookie, own, clinic, expected
):
    user = UserFactory(tenant=TenantFactory(slug=f"c-{clinic}", default_language=clinic), language=own)
    request = _request(HTTP_ACCEPT_LANGUAGE=accept) if accept else _request()
    if cookie:
        request.COOKIES[settings.LANGUAGE_COOKIE_NAME] = cookie

    assert language_for_request(request, user) == expected


def test_language_for_outside_a_request_is_the_users_then_the_clinics_then_english(french_clinic):
    assert language_for(UserFactory(tenant=french_clinic, language="")) == "fr"
    assert language_for(UserFactory(tenant=french_clinic, language="en")) == "en"
    assert language_for(UserFactory(tenant=None, role="", is_superuser=True, language="")) == "en"
    assert language_for(None) == "en"


# --- the order, through the admin (a session: the user is known in middleware) ---


def _admin_language(client, **headers) -> str:
    response = client.get(ADMIN_INDEX, **headers)
    assert response.status_code == 200
    return response["Content-Language"]


def test_admin_follows_the_clinic_then_the_user_then_the_browser(browser, french_clinic):
    user = UserFactory(tenant=french_clinic, role=Role.ADMIN, language="")
    client = browser(user)

    assert _admin_language(client) == "fr"  # the clinic's default
    assert "Site d\u2019administration" in client.get(ADMIN_INDEX).content.decode()

    with scopes_disabled():
        user.language = "en"
        user.save(update_fields=["language"])
    assert _admin_language(client) == "en"  # the user's own setting beats the clinic's

    assert _admin_language(client, HTTP_ACCEPT_LANGUAGE="fr") == "fr"  # the browser beats both


def test_admin_index_is_english_with_nothing_said(browser, english_clinic):
    client = browser(UserFactory(tenant=english_clinic, role=Role.ADMIN))
    response = client.get(ADMIN_INDEX)

    assert response["Content-Language"] == "en"
    assert "Site administration" in response.content.decode()
    assert "Accept-Language" in response["Vary"]


# --- the order, through the API (a bearer token: the user is known after DRF authenticates) ---


def test_api_follows_the_users_setting_and_the_clinics_default_after_authentication(api, french_clinic):
    user = UserFactory(tenant=french_clinic, role=Role.DOCTOR, language="")

    assert api(user).get(API_ME)["Content-Language"] == "fr"
    assert api(user).get(API_ME, HTTP_ACCEPT_LANGUAGE="en")["Content-Language"] == "en"

    with scopes_disabled():
        user.language = "en"
        user.save(update_fields=["language"])  # bumps the cached API user (revocation.py)
    assert api(user).get(API_ME)["Content-Language"] == "en"


# --- choosing one's own language ---


def test_any_member_of_staff_sets_their_own_language_and_the_browser_cookie(browser, english_clinic):
    receptionist = UserFactory(tenant=english_clinic, role=Role.RECEPTIONIST, language="")
    client = browser(receptionist)

    page = client.get("/admin/language/")
    assert page.status_code == 200

    response = client.post("/admin/language/", {"language": "fr", "next": "/admin/"})
    assert response.status_code == 302
    assert response.url == "/admin/"
    assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == "fr"
    with scopes_disabled():
        receptionist.refresh_from_db()
    assert receptionist.language == "fr"
    assert client.get(ADMIN_INDEX)["Content-Language"] == "fr"


def test_an_unknown_language_is_a_form_error_and_saves_nothing(browser, english_clinic):
    user = UserFactory(tenant=english_clinic, role=Role.NURSE, language="")
    response = browser(user).post("/admin/language/", {"language": "xx"})

    assert response.status_code == 200
    assert "language" in response.context["form"].errors
    with scopes_disabled():
        user.refresh_from_db()
    assert user.language == ""


def test_an_outside_next_address_is_not_followed(browser, english_clinic):
    user = UserFactory(tenant=english_clinic, role=Role.NURSE)
    response = browser(user).post("/admin/language/", {"language": "en", "next": "https://evil.example/"})

    assert response.url == "/admin/"


def test_the_clinic_admin_sets_the_clinics_default_language(browser, english_clinic):
    admin = UserFactory(tenant=english_clinic, role=Role.ADMIN)
    response = browser(admin).post(
        f"/admin/accounts/tenant/{english_clinic.pk}/change/",
        {
            "name": english_clinic.name,
            "timezone": english_clinic.timezone,
            "default_language": "fr",
            "mfa_required_roles": ["admin"],
        },
    )

    assert response.status_code == 302, response.content.decode()[:2000]
    with scopes_disabled():
        english_clinic.refresh_from_db()
    assert english_clinic.default_language == "fr"


def test_the_clinic_admin_sets_a_staff_members_language(browser, english_clinic):
    admin = UserFactory(tenant=english_clinic, role=Role.ADMIN)
    nurse = UserFactory(tenant=english_clinic, role=Role.NURSE)
    page = browser(admin).get(f"/admin/accounts/user/{nurse.pk}/change/")

    assert page.status_code == 200
    assert 'name="language"' in page.content.decode()
