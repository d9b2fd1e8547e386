"""Helpers for the accounts tests: logging in through the API and checking the one error shape."""

import time

import pytest
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp import models as totp_models
from rest_framework.test import APIClient

from keneyapp.accounts import mfa
from tests.factories import DEFAULT_PASSWORD

LOGIN_URL = "/api/v1/auth/login"
REFRESH_URL = "/api/v1/auth/refresh"
LOGOUT_URL = "/api/v1/auth/logout"
ME_URL = "/api/v1/auth/me"

ERROR_KEYS = {"status", "code", "detail", "fields"}


def post_login(client: APIClient, username: str, password: str = DEFAULT_PASSWORD, **extra):
    return client.post(LOGIN_URL, {"username": username, "password": password}, format="json", **extra)


def post_refresh(client: APIClient, refresh_token: str):
    return client.post(REFRESH_URL, {"refresh_token": refresh_token}, format="json")


def bearer_client(access_token: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {access_token}")
    return client


def assert_error(response, status: int, *codes: str) -> dict:
    """The response is `status` with the API's one error shape and one of `codes`; returns the body."""
    assert response.status_code == status, response.content
    body = response.json()
    assert {"status", "code", "detail"} <= set(body) <= ERROR_KEYS, body
    assert body["status"] == status
    assert isinstance(body["detail"], str) and body["detail"]
    if codes:
        assert body["code"] in codes, body
    return body


@pytest.fixture
def login_pair(api):
    """login_pair(user) -> the token pair a real login through the API answers."""

    def make(user) -> dict:
        response = post_login(api(), user.username)
        assert response.status_code == 200, response.content
        return response.json()

    return make


# --- second factor --------------------------------------------------------------------------------

MFA_URL = "/api/v1/auth/mfa"


def post_mfa(client: APIClient, mfa_token, code, **extra):
    return client.post(MFA_URL, {"mfa_token": mfa_token, "code": code}, format="json", **extra)


class TotpClock:
    """The time django-otp checks codes at, pinned mid-step (no test straddles a step boundary)."""

    def __init__(self):
        self.now = (int(time.time()) // 30) * 30 + 15.0

    def time(self) -> float:
        return self.now

    def advance(self, steps: int = 1) -> None:
        self.now += steps * 30

    def code(self, device, offset: int = 0) -> str:
        """The device's code `offset` steps from now (an authenticator app whose clock is off)."""
        totp = TOTP(device.bin_key, device.step, device.t0, device.digits)
        totp.time = self.now + offset * device.step
        return f"{totp.token():0{device.digits}d}"


@pytest.fixture
def totp_clock(monkeypatch):
    clock = TotpClock()
    monkeypatch.setattr(totp_models, "time", clock)
    return clock


@pytest.fixture
def enrol(totp_clock):
    """enrol(user) -> (device, recovery codes): enrolled through the service, as the admin's page
    does, with the clock then a step later (the enrolment's own code is used up)."""

    def make(user):
        device = mfa.enrolment_start(user)
        codes = mfa.enrolment_confirm(user=user, device_id=device.pk, code=totp_clock.code(device))
        assert codes is not None
        totp_clock.advance()
        device.refresh_from_db()
        user.refresh_from_db()
        return device, codes

    return make


@pytest.fixture
def mfa_token(api):
    """mfa_token(user) -> the mfa_token a right password of an enrolled user answers."""

    def make(user) -> str:
        response = post_login(api(), user.username)
        assert response.status_code == 200, response.content
        body = response.json()
        assert body["mfa_required"] is True
        return body["mfa_token"]

    return make
