"""Admin sessions end after an idle period, after an absolute lifetime, and when the clinic closes;
the next request lands on the login page, which says why."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from keneyapp.accounts import admin_sessions
from keneyapp.accounts.roles import Role
from keneyapp.core.scoping import scopes_disabled

START = 1_800_000_000.0
LOGIN = "/admin/login/"


class Clock:
    def __init__(self, monkeypatch):
        self.time = START
        monkeypatch.setattr(admin_sessions, "now", lambda: self.time)

    def advance(self, seconds: float) -> None:
        self.time += seconds


@pytest.fixture
def clock(monkeypatch):
    return Clock(monkeypatch)


@pytest.fixture
def admin_user(staff_of):
    return staff_of(Role.ADMIN, username="carol")


def assert_logged_out(client, response, reason: str) -> None:
    assert response.status_code == 302
    assert response.url.startswith(LOGIN + "?next=")
    assert "_auth_user_id" not in client.session
    page = client.get(response.url)
    assert page.status_code == 200
    assert reason in page.content.decode()
    # The session is gone, not just refused once.
    assert client.get("/admin/").status_code == 302


def session_writes(queries) -> list[str]:
    return [
        q["sql"]
        for q in queries
        if "django_session" in q["sql"] and q["sql"].lstrip().upper().startswith(("UPDATE", "INSERT"))
    ]


def test_an_idle_session_is_logged_out(browser, admin_user, clock, settings):
    client = browser(admin_user)
    assert client.get("/admin/").status_code == 200

    clock.advance(settings.ADMIN_IDLE_TIMEOUT_SECONDS)
    response = client.get("/admin/accounts/user/")

    assert_logged_out(client, response, "15 minutes without activity")


def test_a_session_just_under_the_idle_timeout_lives_on(browser, admin_user, clock, settings):
    client = browser(admin_user)

    clock.advance(settings.ADMIN_IDLE_TIMEOUT_SECONDS - 1)

    assert client.get("/admin/").status_code == 200


def test_activity_keeps_a_session_alive_until_its_lifetime_ends(browser, admin_user, clock, settings):
    settings.ADMIN_SESSION_MAX_SECONDS = 3 * 3600
    client = browser(admin_user)
    step = settings.ADMIN_IDLE_TIMEOUT_SECONDS - 60
    while clock.time + step < START + settings.ADMIN_SESSION_MAX_SECONDS:
        clock.advance(step)
        assert client.get("/admin/").status_code == 200

    clock.advance(step)
    response = client.get("/admin/")

    assert_logged_out(client, response, "ended after 3 hours")


def test_a_post_after_the_timeout_changes_nothing(browser, admin_user, doctor, clock, settings):
    client = browser(admin_user)
    clock.advance(settings.ADMIN_IDLE_TIMEOUT_SECONDS + 1)

    response = client.post(
        f"/admin/accounts/user/{doctor.pk}/change/",
        {"username": doctor.username, "first_name": "Renamed", "role": doctor.role, "_save": "Save"},
    )

    assert_logged_out(client, response, "without activity")
    doctor.refresh_from_db()
    assert doctor.first_name != "Renamed"


def test_the_last_seen_mark_is_written_at_most_once_a_minute(browser, admin_user, clock):
    client = browser(admin_user)
    client.get("/admin/")  # the first request may write (a session from before the marks)

    for _ in range(5):
        clock.advance(10)
        with CaptureQueriesContext(connection) as queries:
            assert client.get("/admin/").status_code == 200
        assert session_writes(queries) == []

    clock.advance(10)  # 60 s since the mark
    with CaptureQueriesContext(connection) as queries:
        client.get("/admin/")
    assert len(session_writes(queries)) == 1
    assert client.session[admin_sessions.LAST_SEEN_AT] == int(clock.time)


def test_the_timeouts_come_from_settings(browser, admin_user, clock, settings):
    settings.ADMIN_IDLE_TIMEOUT_SECONDS = 120
    client = browser(admin_user)

    clock.advance(120)

    assert_logged_out(client, client.get("/admin/"), "2 minutes without activity")


def test_the_session_cookie_expires_with_the_lifetime(settings):
    assert settings.SESSION_COOKIE_AGE == settings.ADMIN_SESSION_MAX_SECONDS


def test_a_closed_clinics_staff_is_logged_out_on_the_next_request(browser, admin_user, clinic, clock):
    client = browser(admin_user)
    assert client.get("/admin/").status_code == 200

    with scopes_disabled():
        clinic.is_active = False
        clinic.save()
    response = client.get("/admin/")

    assert_logged_out(client, response, "this clinic&#x27;s account is closed")


def test_superusers_without_a_clinic_keep_their_session(browser, superuser, clock):
    client = browser(superuser)

    clock.advance(60)

    assert client.get("/admin/").status_code == 200


def test_the_api_is_not_affected_by_admin_session_timeouts(api, doctor, clock, settings):
    client = api(doctor)

    clock.advance(settings.ADMIN_IDLE_TIMEOUT_SECONDS * 10)

    assert client.get("/api/v1/patients").status_code == 200
