"""The API's error contract: one JSON shape for every 4xx, exact paths, no HTML and no 500s."""

import pytest


def assert_error_shape(response, status: int, code: str) -> dict:
    assert response.status_code == status
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert body["status"] == status
    assert body["code"] == code
    assert isinstance(body["detail"], str) and body["detail"]
    return body


@pytest.mark.django_db
@pytest.mark.parametrize("debug", [False, True])
def test_unknown_api_route_is_a_json_404_even_in_debug(client, settings, debug):
    settings.DEBUG = debug
    assert_error_shape(client.get("/api/v1/no-such-thing"), 404, "not_found")


@pytest.mark.parametrize(
    "path", ["/api/v1/patients/abc", "/api/v1/patients/99999999999999999999", "/api/v1/patients/-1"]
)
def test_ids_that_cannot_exist_are_json_404(api, doctor, path):
    assert_error_shape(api(doctor).get(path), 404, "not_found")


def test_trailing_slash_is_not_redirected(api, doctor):
    response = api(doctor).get("/api/v1/patients/")
    assert response.status_code == 404  # never a 301 to the slash-less path


def test_malformed_json_is_400(api, doctor):
    response = api(doctor).generic(
        "POST", "/api/v1/patients", '{"first_name": ', content_type="application/json"
    )
    assert_error_shape(response, 400, "malformed_request")


def test_non_object_json_is_400(api, doctor):
    response = api(doctor).generic("POST", "/api/v1/patients", "[1, 2]", content_type="application/json")
    assert_error_shape(response, 400, "malformed_request")


def test_wrong_content_type_is_415(api, doctor):
    response = api(doctor).generic("POST", "/api/v1/patients", "first_name=A", content_type="text/plain")
    assert_error_shape(response, 415, "unsupported_media_type")


def test_method_not_allowed_is_405(api, doctor):
    assert_error_shape(api(doctor).put("/api/v1/patients", {}, format="json"), 405, "method_not_allowed")


def test_validation_errors_name_each_field_with_a_code(api, doctor):
    response = api(doctor).post("/api/v1/patients", {"last_name": "Diop", "email": "nope"}, format="json")
    body = assert_error_shape(response, 400, "validation_error")
    assert set(body["fields"]) == {"first_name", "date_of_birth", "email"}
    assert body["fields"]["email"][0] == {"code": "invalid", "message": "Enter a valid email address."}


def test_missing_token_is_401_with_www_authenticate(client, db):
    response = client.get("/api/v1/patients")
    assert_error_shape(response, 401, "not_authenticated")
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_a_json_body_over_the_limit_is_413_and_creates_nothing(api, doctor, settings):
    from django_scopes import scopes_disabled

    from patients.models import Patient

    settings.API_MAX_BODY_BYTES = 2048
    body = {"first_name": "A", "last_name": "B", "date_of_birth": "1990-01-01", "notes": "x" * 4096}
    response = api(doctor).post("/api/v1/patients", body, format="json")
    assert_error_shape(response, 413, "request_too_large")
    with scopes_disabled():
        assert not Patient.objects.filter(first_name="A", last_name="B").exists()


def test_a_json_body_within_the_limit_is_parsed(api, doctor, settings):
    settings.API_MAX_BODY_BYTES = 2048
    body = {"first_name": "A", "last_name": "B", "date_of_birth": "1990-01-01", "notes": "x" * 1024}
    assert api(doctor).post("/api/v1/patients", body, format="json").status_code == 201


def test_a_body_without_a_declared_length_is_never_read_past_the_limit(settings):
    """A chunked body (no Content-Length): the parser stops one byte past the limit."""
    import io

    from rest_framework.exceptions import APIException

    from keneyapp.core.parsers import StrictJSONParser

    class CountingStream(io.BytesIO):
        read_bytes = 0

        def read(self, size=-1):
            chunk = super().read(size)
            CountingStream.read_bytes += len(chunk)
            return chunk

    class Request:
        META: dict = {}

    settings.API_MAX_BODY_BYTES = 1000
    stream = CountingStream(b'{"a": "' + b"x" * 10_000_000 + b'"}')
    with pytest.raises(APIException) as refused:
        StrictJSONParser().parse(stream, parser_context={"request": Request()})
    assert refused.value.status_code == 413
    assert CountingStream.read_bytes == 1001


# --- outages: 503, never 500 (the real faults: tests/faults/) --------------------------------------


@pytest.mark.parametrize("error", ["OperationalError", "InterfaceError"])
def test_a_database_outage_in_a_view_is_a_503_in_the_error_shape(api, doctor, monkeypatch, caplog, error):
    import django.db

    from patients import services

    def database_gone(**kwargs):
        raise getattr(django.db, error)("server closed the connection unexpectedly")

    monkeypatch.setattr(services, "patient_create", database_gone)
    body = {"first_name": "Awa", "last_name": "Diop", "date_of_birth": "1990-01-01", "sex": "female"}
    response = api(doctor).post("/api/v1/patients", body, format="json")

    assert_error_shape(response, 503, "database_unavailable")
    assert response["Retry-After"] == "5"
    assert "database_unavailable: POST /api/v1/patients answered 503" in caplog.text


def test_a_database_outage_in_middleware_is_a_503_page_in_the_admin(clinic_admin, monkeypatch):
    from django.contrib.sessions.backends.db import SessionStore
    from django.db import OperationalError
    from django.test import Client

    client = Client(raise_request_exception=False)  # as a server: the exception goes to handler500
    client.force_login(clinic_admin)

    def database_gone(self):
        raise OperationalError("the database system is shutting down")

    monkeypatch.setattr(SessionStore, "load", database_gone)  # read by middleware, before any view
    page = client.get("/admin/")
    assert page.status_code == 503
    assert page["Content-Type"].startswith("text/html") and b"Service unavailable" in page.content
    assert page["Retry-After"] == "5"


def test_a_database_outage_in_middleware_under_api_is_json_in_the_error_shape(monkeypatch):
    from django.db import OperationalError
    from django.test import Client

    from keneyapp.core.middleware import ClinicTimezoneMiddleware

    def database_gone(self, request):
        raise OperationalError("connection refused")

    monkeypatch.setattr(ClinicTimezoneMiddleware, "__call__", database_gone)
    response = Client(raise_request_exception=False).get("/api/v1/patients")
    assert_error_shape(response, 503, "database_unavailable")
    assert response["Retry-After"] == "5"


def test_a_bug_outside_a_view_is_still_the_500_in_the_error_shape(clinic_admin, monkeypatch):
    from django.contrib.sessions.backends.db import SessionStore
    from django.test import Client

    client = Client(raise_request_exception=False)
    client.force_login(clinic_admin)
    monkeypatch.setattr(SessionStore, "load", lambda self: 1 / 0)
    assert client.get("/admin/").status_code == 500
