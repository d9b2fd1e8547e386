"""The guide's monitoring (X-Process-Time, slow requests, slow queries) and compression."""

import gzip
import logging

import orjson
import pytest

from tests.factories import PatientFactory


@pytest.mark.parametrize("path", ["/healthz", "/api/v1/patients", "/admin/login/"])
def test_every_response_carries_x_process_time(client, db, path):
    response = client.get(path)
    assert float(response["X-Process-Time"]) >= 0


def test_slow_requests_are_logged_with_the_path_only(api, doctor, settings, caplog):
    settings.SLOW_REQUEST_SECONDS = 0
    with caplog.at_level(logging.WARNING, logger="keneyapp.slow_request"):
        api(doctor).get("/api/v1/patients", {"search": "Ndiaye"})
    messages = [r.getMessage() for r in caplog.records if r.name == "keneyapp.slow_request"]
    assert any("GET /api/v1/patients -> 200" in m for m in messages)
    assert not any("Ndiaye" in m for m in messages)  # query strings can hold patient data


def test_fast_requests_are_not_logged(api, doctor, settings, caplog):
    settings.SLOW_REQUEST_SECONDS = 60
    with caplog.at_level(logging.WARNING, logger="keneyapp.slow_request"):
        api(doctor).get("/api/v1/patients")
    assert not [r for r in caplog.records if r.name == "keneyapp.slow_request"]


def test_slow_queries_are_logged_without_their_parameters(api, doctor, settings, caplog):
    settings.SLOW_QUERY_SECONDS = 0
    with caplog.at_level(logging.WARNING, logger="keneyapp.slow_query"):
        api(doctor).get("/api/v1/patients", {"search": "ndiayesecret"})
    messages = [r.getMessage() for r in caplog.records if r.name == "keneyapp.slow_query"]
    assert any("patients_patient" in m for m in messages)
    assert not any("ndiayesecret" in m for m in messages)


def test_large_responses_are_gzipped_when_accepted(api, doctor):
    PatientFactory.create_batch(20, tenant=doctor.tenant)
    response = api(doctor).get("/api/v1/patients", HTTP_ACCEPT_ENCODING="gzip")
    assert response["Content-Encoding"] == "gzip"
    body = orjson.loads(gzip.decompress(response.content))
    assert body["total"] == 20


def test_large_responses_are_plain_when_gzip_is_not_accepted(api, doctor):
    PatientFactory.create_batch(20, tenant=doctor.tenant)
    response = api(doctor).get("/api/v1/patients")
    assert not response.has_header("Content-Encoding")


def test_small_responses_are_not_compressed(api, doctor, settings):
    response = api(doctor).get("/api/v1/patients", HTTP_ACCEPT_ENCODING="gzip")
    assert len(response.content) < settings.GZIP_MIN_BYTES
    assert not response.has_header("Content-Encoding")
