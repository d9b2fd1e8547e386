"""The OpenAPI schema generates without a warning, and describes the answers the API really gives.

The second half is what an SPA developer relies on: each annotated route is called and its JSON
answer checked against the schema's response for that status, with every object closed
(additionalProperties false), so a key the schema forgets, or one it names that the answer lacks,
fails here.
"""

import copy
from datetime import timedelta

import jsonschema
import pytest
from django.core.management import call_command
from django.utils import timezone
from drf_spectacular.generators import SchemaGenerator

from keneyapp.accounts.roles import Role
from tests.factories import AppointmentFactory, MessageFactory, PatientFactory

pytestmark = pytest.mark.django_db


def test_the_schema_generates_and_validates_without_a_warning(tmp_path):
    # --fail-on-warn makes any drf-spectacular warning (an unguessable serializer, an unknown
    # authenticator, an enum name collision) an error; --validate checks it against OpenAPI 3.
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(tmp_path / "schema.yml"))


def test_bearer_tokens_are_described_as_a_bearer_jwt_scheme():
    schema = SchemaGenerator().get_schema(request=None, public=True)

    assert schema["components"]["securitySchemes"]["bearerAuth"] == {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "JWT",
        "description": "The access_token of POST /api/v1/auth/login or /api/v1/auth/refresh.",
    }
    assert {"bearerAuth": []} in schema["paths"]["/api/v1/messages"]["get"]["security"]


def as_json_schema(node, components):
    """An OpenAPI 3.0 schema as a strict JSON Schema: references inlined, `nullable` as a null
    type, every object with properties closed to other keys."""
    if isinstance(node, list):
        return [as_json_schema(item, components) for item in node]
    if not isinstance(node, dict):
        return node
    if "$ref" in node:
        return as_json_schema(components[node["$ref"].rsplit("/", 1)[1]], components)
    node = {key: as_json_schema(value, components) for key, value in node.items()}
    if node.pop("nullable", False):
        node = {"anyOf": [node, {"type": "null"}]}
    elif "properties" in node:
        node.setdefault("additionalProperties", False)
    for keyword in ("readOnly", "writeOnly", "format"):  # annotations only
        node.pop(keyword, None)
    return node


@pytest.fixture(scope="module")
def openapi():
    return SchemaGenerator().get_schema(request=None, public=True)


@pytest.fixture
def check(openapi):
    def check_answer(response, path: str, method: str):
        operation = openapi["paths"][path][method]
        described = operation["responses"][str(response.status_code)]
        schema = described["content"]["application/json"]["schema"]
        components = copy.deepcopy(openapi["components"]["schemas"])
        jsonschema.validate(response.json(), as_json_schema(schema, components))
        return response.json()

    return check_answer


def test_appointment_answers_match_the_schema(api, clinic, doctor, staff_of, check):
    nurse = staff_of(Role.NURSE)
    client = api(doctor)
    patient = PatientFactory(tenant=clinic)
    AppointmentFactory(tenant=clinic, patient=patient, provider=nurse, reason="Booked earlier")
    starts = (timezone.now() + timedelta(days=3)).replace(microsecond=0)

    booked = client.post(
        "/api/v1/appointments",
        {"patient_id": patient.pk, "provider_id": nurse.pk, "appointment_date": starts.isoformat()},
        format="json",
    )
    appointment = check(booked, "/api/v1/appointments", "post")
    path = f"/api/v1/appointments/{appointment['id']}"
    check(client.get("/api/v1/appointments"), "/api/v1/appointments", "get")
    check(client.get(path), "/api/v1/appointments/{id}", "get")
    check(client.patch(path, {"notes": "x"}, format="json"), "/api/v1/appointments/{id}", "patch")
    check(
        client.get(f"/api/v1/patients/{patient.pk}/appointments"), "/api/v1/patients/{id}/appointments", "get"
    )
    cancelled = client.post(f"{path}/cancel", {"reason": "Travelling"}, format="json")
    assert check(cancelled, "/api/v1/appointments/{id}/cancel", "post")["cancelled_at"] is not None
    day = starts.date().isoformat()
    availability = client.get(
        "/api/v1/appointments/availability", {"provider_id": nurse.pk, "date_from": day, "date_to": day}
    )
    check(availability, "/api/v1/appointments/availability", "get")


def test_message_answers_match_the_schema(api, clinic, doctor, staff_of, check):
    nurse = staff_of(Role.NURSE)
    patient = PatientFactory(tenant=clinic)
    MessageFactory(tenant=clinic, sender=nurse, receiver=doctor)
    client = api(doctor)

    sent = client.post(
        "/api/v1/messages",
        {"receiver_id": nurse.pk, "body": "Hello", "patient_id": patient.pk},
        format="json",
    )
    message = check(sent, "/api/v1/messages", "post")
    assert message["patient"] is not None  # the nullable nested object, filled
    check(client.get("/api/v1/messages"), "/api/v1/messages", "get")
    check(client.get(f"/api/v1/messages/{message['id']}"), "/api/v1/messages/{id}", "get")
    received = api(nurse).post(f"/api/v1/messages/{message['id']}/read")
    assert check(received, "/api/v1/messages/{id}/read", "post")["read_at"] is not None
    check(client.get("/api/v1/messages/unread-count"), "/api/v1/messages/unread-count", "get")
    check(client.post("/api/v1/messages/read-all"), "/api/v1/messages/read-all", "post")


def test_dashboard_answer_matches_the_schema(api, clinic, doctor, check):
    AppointmentFactory(tenant=clinic)

    check(api(doctor).get("/api/v1/dashboard/stats"), "/api/v1/dashboard/stats", "get")
