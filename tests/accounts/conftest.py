"""Helpers for the accounts tests: logging in through the API and checking the one error shape."""

import pytest
from rest_framework.test import APIClient

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
