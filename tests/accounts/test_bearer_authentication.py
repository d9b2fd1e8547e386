"""Every API route except login and refresh needs `Authorization: Bearer <access_token>`; anything
else is 401 with the error shape, and a valid token of a user who may no longer act is refused too."""

import time

import jwt
import pytest
from django.contrib.auth import get_user_model
from rest_framework.test import APIClient

from keneyapp.accounts.tokens import issue_access_token
from tests.accounts.conftest import ME_URL, assert_error, bearer_client
from tests.factories import DEFAULT_PASSWORD, PatientFactory

pytestmark = pytest.mark.django_db

# (method, path, JSON body) for every route that needs a token; {patient} is one of ours.
PROTECTED_ROUTES = [
    ("get", "/api/v1/auth/me", None),
    ("post", "/api/v1/auth/logout", {"refresh_token": "x"}),
    ("get", "/api/v1/patients", None),
    ("post", "/api/v1/patients", {"first_name": "Awa", "last_name": "Diop"}),
    ("get", "/api/v1/patients/{patient}", None),
    ("patch", "/api/v1/patients/{patient}", {"first_name": "Awa"}),
    ("delete", "/api/v1/patients/{patient}", None),
]


def call(client: APIClient, method: str, path: str, body, patient):
    url = path.format(patient=patient.pk)
    if body is None:
        return getattr(client, method)(url)
    return getattr(client, method)(url, body, format="json")


def claims(user, **overrides) -> dict:
    now = int(time.time())
    payload = {"sub": str(user.pk), "tid": user.tenant_id, "typ": "access", "iat": now, "exp": now + 300}
    payload.update(overrides)
    return {key: value for key, value in payload.items() if value is not None}


@pytest.fixture
def patient(doctor):
    return PatientFactory(tenant=doctor.tenant)


@pytest.mark.parametrize(("method", "path", "body"), PROTECTED_ROUTES)
def test_missing_token_is_401_on_every_protected_route(method, path, body, patient):
    response = call(APIClient(), method, path, body, patient)

    assert_error(response, 401, "not_authenticated")
    assert response["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.parametrize(("method", "path", "body"), PROTECTED_ROUTES)
def test_forged_token_is_401_on_every_protected_route(method, path, body, doctor, patient):
    forged = jwt.encode(claims(doctor), "not-our-secret-key-but-long-enough-for-hs256", algorithm="HS256")

    response = call(bearer_client(forged), method, path, body, patient)

    assert_error(response, 401, "authentication_failed")


@pytest.mark.parametrize(("method", "path", "body"), PROTECTED_ROUTES)
def test_valid_token_is_let_through_on_every_protected_route(method, path, body, api, doctor, patient):
    response = call(api(doctor), method, path, body, patient)

    assert response.status_code not in (401, 403), response.content


@pytest.mark.parametrize(
    "authorization",
    [
        pytest.param("Bearer", id="keyword-without-token"),
        pytest.param("Bearer two tokens", id="two-tokens"),
        pytest.param("Bearer not-a-jwt", id="not-a-jwt"),
        pytest.param("Bearer a.b.c", id="garbage-segments"),
    ],
)
def test_malformed_bearer_header_is_401(authorization, doctor):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=authorization)

    assert_error(client.get(ME_URL), 401, "authentication_failed")


@pytest.mark.parametrize(
    "authorization",
    [
        pytest.param("Basic YWxpY2U6Y29ycmVjdCBob3JzZSBiYXR0ZXJ5IHN0YXBsZQ==", id="basic-auth"),
        pytest.param("Token abc", id="other-scheme"),
    ],
)
def test_other_authorization_schemes_are_not_accepted(authorization, doctor):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=authorization)

    assert_error(client.get(ME_URL), 401, "not_authenticated")


def test_expired_token_is_401(doctor, settings):
    settings.ACCESS_TOKEN_TTL_SECONDS = -60
    expired = issue_access_token(user=doctor)

    assert_error(bearer_client(expired).get(ME_URL), 401, "authentication_failed")


def test_alg_none_token_is_401(doctor):
    unsigned = jwt.encode(claims(doctor), None, algorithm="none")

    assert_error(bearer_client(unsigned).get(ME_URL), 401, "authentication_failed")


def test_token_signed_with_our_key_but_another_algorithm_is_401(doctor, settings):
    settings.SECRET_KEY = "k" * 64  # long enough for HS512, so only the algorithm is wrong
    other_algorithm = jwt.encode(claims(doctor), settings.SECRET_KEY, algorithm="HS512")

    assert_error(bearer_client(other_algorithm).get(ME_URL), 401, "authentication_failed")


def test_refresh_token_used_as_access_token_is_401(doctor, login_pair):
    pair = login_pair(doctor)

    assert_error(bearer_client(pair["refresh_token"]).get(ME_URL), 401, "authentication_failed")


def test_signed_token_of_another_type_is_401(doctor, settings):
    not_access = jwt.encode(claims(doctor, typ="refresh"), settings.SECRET_KEY, algorithm="HS256")

    assert_error(bearer_client(not_access).get(ME_URL), 401, "authentication_failed")


@pytest.mark.parametrize(
    "overrides",
    [
        pytest.param({"exp": None}, id="no-expiry"),
        pytest.param({"sub": "alice"}, id="non-numeric-subject"),
        pytest.param({"sub": "999999"}, id="unknown-user"),
        pytest.param({"tid": None}, id="no-clinic-claim"),
    ],
)
def test_signed_token_with_bad_claims_is_401(overrides, doctor, settings):
    token = jwt.encode(claims(doctor, **overrides), settings.SECRET_KEY, algorithm="HS256")

    assert_error(bearer_client(token).get(ME_URL), 401, "authentication_failed")


def test_token_of_a_user_moved_to_another_clinic_is_refused(api, doctor, other_clinic, login_pair):
    issued_in_alpha = login_pair(doctor)["access_token"]
    doctor.tenant = other_clinic
    doctor.save(update_fields=["tenant"])

    refused = bearer_client(issued_in_alpha).get("/api/v1/patients")
    fresh = bearer_client(login_pair(doctor)["access_token"]).get(ME_URL)

    assert_error(refused, 401, "authentication_failed")
    assert fresh.json()["clinic"]["slug"] == "beta"


def test_token_of_a_deactivated_user_is_refused(doctor, login_pair):
    access_token = login_pair(doctor)["access_token"]
    doctor.is_active = False
    doctor.save(update_fields=["is_active"])

    assert_error(bearer_client(access_token).get(ME_URL), 401, "authentication_failed")


def test_token_of_a_deactivated_clinic_is_refused(doctor, clinic, login_pair):
    access_token = login_pair(doctor)["access_token"]
    clinic.is_active = False
    clinic.save(update_fields=["is_active"])

    assert_error(bearer_client(access_token).get(ME_URL), 401, "authentication_failed")


@pytest.mark.parametrize("path", ["/api/v1/patients", ME_URL])
def test_superuser_without_clinic_gets_403(api, path):
    # A superuser's login answers no tokens without a second factor (tests/accounts/test_mfa_api.py);
    # a token of theirs, however obtained, is still no way into a clinic's data.
    root = get_user_model().objects.create_superuser("root", "root@example.org", DEFAULT_PASSWORD)
    access_token = issue_access_token(user=root)

    response = bearer_client(access_token).get(path)

    body = assert_error(response, 403, "permission_denied")
    assert body["detail"] == "This account does not belong to a clinic."
