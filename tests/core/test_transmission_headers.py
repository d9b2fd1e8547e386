"""What leaves with each answer: no copies kept of patient data (no-store), HSTS over HTTPS, a
Content-Security-Policy on the pages browsers render, HTTPS enforced behind the TLS front, and the
API schema for signed-in staff only."""

import pytest

from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def assert_no_store(response):
    assert "no-store" in response["Cache-Control"], response.headers


def test_api_answers_with_patient_data_are_not_stored(api, doctor):
    from tests.factories import PatientFactory

    patient = PatientFactory(tenant=doctor.tenant)
    for path in ("/api/v1/patients", f"/api/v1/patients/{patient.pk}"):
        response = api(doctor).get(path)
        assert response.status_code == 200
        assert_no_store(response)


def test_api_errors_are_not_stored_either(api, doctor):
    assert_no_store(api(doctor).get("/api/v1/patients/999999"))


@pytest.fixture
def staff_client(client, doctor):
    doctor.is_staff = True
    doctor.save(update_fields=["is_staff"])
    client.force_login(doctor)
    return client


def test_admin_pages_are_not_stored_and_carry_a_csp(staff_client):
    response = staff_client.get("/admin/patients/patient/")
    assert response.status_code == 200
    assert_no_store(response)
    policy = response["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "frame-ancestors 'none'" in policy
    assert "unsafe-inline" not in policy.split("script-src")[1].split(";")[0]


def test_the_api_docs_page_needs_no_inline_script(staff_client):
    response = staff_client.get("/api/docs/")
    assert response.status_code == 200
    assert "Content-Security-Policy" in response
    page = response.content.decode()
    assert "<script>" not in page  # the start-up script comes from ?script, which 'self' allows
    script = staff_client.get("/api/docs/?script=")
    assert script.status_code == 200 and script["Content-Type"].startswith("application/javascript")


def test_json_api_answers_skip_the_csp(api, doctor):
    assert "Content-Security-Policy" not in api(doctor).get("/api/v1/patients")


def test_hsts_is_sent_over_https(client, db, settings):
    settings.SECURE_HSTS_SECONDS = 31_536_000
    response = client.get("/healthz", secure=True)
    assert response["Strict-Transport-Security"].startswith("max-age=31536000")
    assert "Strict-Transport-Security" not in client.get("/healthz")  # never over plain HTTP


def test_plain_http_is_redirected_to_https_except_health_probes(client, db, settings):
    settings.SECURE_SSL_REDIRECT = True
    response = client.get("/api/v1/patients")
    assert response.status_code == 301 and response["Location"].startswith("https://")
    assert client.get("/healthz").status_code == 200


def test_the_schema_needs_a_signed_in_staff_member(client, api, doctor, db):
    assert client.get("/api/schema/").status_code in (401, 403)
    assert client.get("/api/docs/").status_code in (401, 403)
    api_only = UserFactory(tenant=doctor.tenant, role="nurse", is_staff=False)
    assert api(api_only).get("/api/schema/").status_code == 403  # a token, but not staff
    assert api(doctor).get("/api/schema/").status_code == 200
    receptionist = UserFactory(tenant=doctor.tenant, role="receptionist", is_staff=True)
    client.force_login(receptionist)
    assert client.get("/api/schema/").status_code == 200
