"""POST /api/v1/auth/login and GET /api/v1/auth/me: the token pair, the caller's profile, refusals
that do not tell an attacker which part was wrong, and bad input."""

import pytest
from django.contrib.auth import get_user_model

from keneyapp.accounts.models import RefreshToken
from keneyapp.accounts.roles import Role
from tests.accounts.conftest import LOGIN_URL, ME_URL, assert_error, bearer_client, post_login
from tests.factories import DEFAULT_PASSWORD, TenantFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_login_answers_exactly_a_bearer_token_pair(api, doctor, settings):
    response = post_login(api(), "alice")

    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"access_token", "refresh_token", "token_type", "expires_in"}
    assert body["token_type"] == "bearer"
    assert body["expires_in"] == settings.ACCESS_TOKEN_TTL_SECONDS
    assert isinstance(body["access_token"], str) and body["access_token"]
    assert isinstance(body["refresh_token"], str) and body["refresh_token"]
    assert body["access_token"] != body["refresh_token"]


def test_login_stores_the_refresh_token_only_as_a_hash(api, doctor):
    refresh_token = post_login(api(), "alice").json()["refresh_token"]

    stored = RefreshToken.objects.get(user=doctor)
    assert refresh_token not in stored.token_hash
    assert not RefreshToken.objects.filter(token_hash=refresh_token).exists()


def test_login_records_last_login(api, doctor):
    assert doctor.last_login is None

    post_login(api(), "alice")

    doctor.refresh_from_db()
    assert doctor.last_login is not None


def test_access_token_from_login_identifies_the_caller_on_me(api, doctor, clinic):
    access_token = post_login(api(), "alice").json()["access_token"]

    response = bearer_client(access_token).get(ME_URL)

    assert response.status_code == 200
    body = response.json()
    assert body["id"] == doctor.pk
    assert body["username"] == "alice"
    assert body["role"] == "doctor"
    assert {"patients.view", "patients.delete", "appointments.complete"} <= set(body["permissions"])
    assert body["permissions"] == sorted(body["permissions"])
    assert body["clinic"] == {
        "id": clinic.pk,
        "name": "Clinique Alpha",
        "slug": "alpha",
        "timezone": "Africa/Dakar",
    }


def test_me_lists_only_the_permissions_of_the_callers_role(api, staff_of):
    receptionist = staff_of(Role.RECEPTIONIST)

    body = api(receptionist).get(ME_URL).json()

    assert body["role"] == "receptionist"
    assert {"patients.view", "patients.add", "appointments.add", "appointments.cancel"} <= set(
        body["permissions"]
    )
    assert not {"patients.delete", "appointments.complete", "schedules.change"} & set(body["permissions"])


def test_superuser_without_clinic_must_enrol_a_second_factor(api):
    # Superusers always log in with a second factor (tests/accounts/test_mfa_api.py): one without
    # a device gets no tokens, whichever clinic setting.
    get_user_model().objects.create_superuser("root", "root@example.org", DEFAULT_PASSWORD)

    response = post_login(api(), "root")

    assert response.status_code == 403
    assert response.json()["code"] == "mfa_enrolment_required"
    assert not RefreshToken.objects.exists()


# --- Refusals -------------------------------------------------------------------------------------


def test_wrong_password_unknown_user_inactive_user_and_inactive_clinic_get_the_same_401(api, doctor):
    UserFactory(username="gone", is_active=False, tenant=doctor.tenant)
    UserFactory(username="closed", tenant=TenantFactory(slug="closed", is_active=False))

    responses = {
        "wrong password": post_login(api(), "alice", "not the password"),
        "unknown user": post_login(api(), "nobody"),
        "inactive user": post_login(api(), "gone"),
        "inactive clinic": post_login(api(), "closed"),
    }

    for case, response in responses.items():
        assert response.status_code == 401, case
        assert response["WWW-Authenticate"] == responses["wrong password"]["WWW-Authenticate"], case
    bodies = {case: response.json() for case, response in responses.items()}
    assert bodies["wrong password"] == {
        "status": 401,
        "code": "invalid_credentials",
        "detail": "Invalid username or password.",
    }
    assert all(body == bodies["wrong password"] for body in bodies.values()), bodies
    assert not RefreshToken.objects.exists()


# --- Bad input ------------------------------------------------------------------------------------


def test_malformed_json_is_400_malformed_request(api, doctor):
    response = api().post(
        LOGIN_URL, data='{"username": "alice", "password": ', content_type="application/json"
    )

    assert_error(response, 400, "malformed_request")


def test_json_that_is_not_an_object_is_400_malformed_request(api, doctor):
    response = api().post(LOGIN_URL, data='["alice", "secret"]', content_type="application/json")

    assert_error(response, 400, "malformed_request")


@pytest.mark.parametrize(
    ("content_type", "data"),
    [
        ("application/x-www-form-urlencoded", f"username=alice&password={DEFAULT_PASSWORD}"),
        ("text/plain", f'{{"username": "alice", "password": "{DEFAULT_PASSWORD}"}}'),
    ],
)
def test_wrong_content_type_is_415(api, doctor, content_type, data):
    response = api().post(LOGIN_URL, data=data, content_type=content_type)

    assert_error(response, 415, "unsupported_media_type")
    assert not RefreshToken.objects.exists()


def test_missing_fields_are_400_naming_each_field(api):
    response = api().post(LOGIN_URL, {}, format="json")

    body = assert_error(response, 400, "validation_error")
    assert set(body["fields"]) == {"username", "password"}
    assert body["fields"]["username"][0]["code"] == "required"
    assert body["fields"]["password"][0]["code"] == "required"


def test_unknown_field_is_400_naming_it_and_logs_nobody_in(api, doctor):
    response = api().post(
        LOGIN_URL,
        {"username": "alice", "password": DEFAULT_PASSWORD, "remember_me": True},
        format="json",
    )

    body = assert_error(response, 400, "validation_error")
    assert set(body["fields"]) == {"remember_me"}
    assert body["fields"]["remember_me"][0]["code"] == "unknown_field"
    assert not RefreshToken.objects.exists()
