"""The SPA's origins are allowed through CORS from CORS_ALLOWED_ORIGINS; nothing by default.

django-cors-headers reads its settings through `corsheaders.conf.conf`, whose properties look
`django.conf.settings` up on every request, so pytest-django's `settings` fixture takes effect
without reloading anything.
"""

import pytest

SPA = "https://spa.example.org"
PATIENTS = "/api/v1/patients"

pytestmark = pytest.mark.django_db


def preflight(client, origin: str, path: str = PATIENTS):
    return client.options(
        path,
        HTTP_ORIGIN=origin,
        HTTP_ACCESS_CONTROL_REQUEST_METHOD="GET",
        HTTP_ACCESS_CONTROL_REQUEST_HEADERS="authorization",
    )


@pytest.fixture
def spa_allowed(settings):
    settings.CORS_ALLOWED_ORIGINS = [SPA]


def test_preflight_from_an_allowed_origin_is_allowed(api, spa_allowed):
    response = preflight(api(), SPA)

    assert response.status_code == 200
    assert response["Access-Control-Allow-Origin"] == SPA
    assert "authorization" in response["Access-Control-Allow-Headers"]
    assert "GET" in response["Access-Control-Allow-Methods"]


def test_preflight_from_another_origin_is_not_allowed(api, spa_allowed):
    response = preflight(api(), "https://evil.example.com")

    assert "Access-Control-Allow-Origin" not in response


def test_no_origin_is_allowed_by_default(api, settings):
    assert settings.CORS_ALLOWED_ORIGINS == []

    response = preflight(api(), SPA)

    assert "Access-Control-Allow-Origin" not in response


def test_api_response_to_an_allowed_origin_carries_the_cors_header(api, doctor, spa_allowed):
    response = api(doctor).get(PATIENTS, HTTP_ORIGIN=SPA)

    assert response.status_code == 200
    assert response["Access-Control-Allow-Origin"] == SPA
    assert "Access-Control-Allow-Credentials" not in response  # bearer tokens, not cookies


def test_cors_is_limited_to_the_api(api, spa_allowed):
    response = preflight(api(), SPA, path="/admin/login/")

    assert "Access-Control-Allow-Origin" not in response
