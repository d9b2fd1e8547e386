"""Ids in bodies and query strings resolve through one resolver per kind of row
(keneyapp/core/resolvers.py): every id that names no row the caller may use, on every route that
takes it, is the same 400 naming the field, with the one message of its kind.

So a missing id, a deleted row and another clinic's row cannot be told apart, and no route words
the refusal its own way.
"""

from collections.abc import Callable

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django_scopes import scopes_disabled

from keneyapp.accounts.roles import Role
from tests.audit.helpers import trail
from tests.documents.helpers import PDF, make_document
from tests.factories import AppointmentFactory, MessageFactory, PatientFactory, UserFactory

UNKNOWN = {
    "patient_id": "No such patient in this clinic.",
    "provider_id": "No such doctor or nurse in this clinic.",
    "receiver_id": "No such staff member in this clinic.",
    "parent_id": "No such message of yours to reply to.",
    "version": "No such version of this document.",
}
# The document routes answered an unknown patient this way before the resolvers existed; their
# clients keep the same body (issue 11: no answer changes).
LEGACY = {
    ("patient_id", "POST /documents/upload"): {"code": "does_not_exist", "message": "No such patient."},
    ("patient_id", "POST /documents/presign"): {"code": "does_not_exist", "message": "No such patient."},
    ("patient_id", "GET /documents"): {"code": "invalid", "message": "No such patient."},
}
MISSING_ID = 987_654_321
# The row each field names, as the audit trail records a refused id (an attempt: keneyapp/core/
# resolvers.py). A version is a number within a document already loaded: not an attempt on a row.
ATTEMPTED_MODEL = {
    "patient_id": "patients.patient",
    "provider_id": "accounts.user",
    "receiver_id": "accounts.user",
    "parent_id": "messaging.message",
}

# Ids that name no row the caller (our doctor) may use, per field: name -> make(caller, other clinic).
BAD_IDS: dict[str, dict[str, Callable]] = {
    "patient_id": {
        "missing": lambda caller, other: MISSING_ID,
        "deleted": lambda caller, other: PatientFactory(tenant=caller.tenant, is_deleted=True).pk,
        "another clinic's": lambda caller, other: PatientFactory(tenant=other).pk,
    },
    "provider_id": {
        "missing": lambda caller, other: MISSING_ID,
        "not a doctor or nurse": lambda caller, other: (
            UserFactory(tenant=caller.tenant, role=Role.RECEPTIONIST).pk
        ),
        "inactive": lambda caller, other: (
            UserFactory(tenant=caller.tenant, role=Role.NURSE, is_active=False).pk
        ),
        "another clinic's": lambda caller, other: UserFactory(tenant=other, role=Role.DOCTOR).pk,
    },
    "receiver_id": {
        "missing": lambda caller, other: MISSING_ID,
        "inactive": lambda caller, other: UserFactory(tenant=caller.tenant, is_active=False).pk,
        "another clinic's": lambda caller, other: UserFactory(tenant=other).pk,
    },
    "parent_id": {
        "missing": lambda caller, other: MISSING_ID,
        "between two colleagues": lambda caller, other: MessageFactory(tenant=caller.tenant).pk,
        "another clinic's": lambda caller, other: MessageFactory(tenant=other).pk,
    },
    "version": {
        "missing": lambda caller, other: 99,
    },
}


def _colleague(caller):
    return UserFactory(tenant=caller.tenant, role=Role.NURSE)


def _our_patient(caller):
    return PatientFactory(tenant=caller.tenant)


# Every route that takes an id of another row: field -> [(route, request(caller, bad id))], where a
# request is (method, url, data, body format; None for a query string).
ROUTES: dict[str, list[tuple[str, Callable]]] = {
    "patient_id": [
        (
            "POST /appointments",
            lambda caller, bad: (
                "post",
                "/api/v1/appointments",
                {"patient_id": bad, "appointment_date": "2030-01-07T10:00:00"},
                "json",
            ),
        ),
        (
            "POST /messages",
            lambda caller, bad: (
                "post",
                "/api/v1/messages",
                {"receiver_id": _colleague(caller).pk, "patient_id": bad, "body": "About a patient"},
                "json",
            ),
        ),
        (
            "POST /documents/upload",
            lambda caller, bad: (
                "post",
                "/api/v1/documents/upload",
                {
                    "patient_id": bad,
                    "category": "lab_result",
                    "file": SimpleUploadedFile("lab.pdf", PDF, content_type="application/pdf"),
                },
                "multipart",
            ),
        ),
        (
            "POST /documents/presign",
            lambda caller, bad: (
                "post",
                "/api/v1/documents/presign",
                {
                    "patient_id": bad,
                    "category": "lab_result",
                    "filename": "lab.pdf",
                    "content_type": "application/pdf",
                    "size": 100,
                },
                "json",
            ),
        ),
        ("GET /documents", lambda caller, bad: ("get", "/api/v1/documents", {"patient_id": bad}, None)),
    ],
    "provider_id": [
        (
            "POST /appointments",
            lambda caller, bad: (
                "post",
                "/api/v1/appointments",
                {
                    "patient_id": _our_patient(caller).pk,
                    "provider_id": bad,
                    "appointment_date": "2030-01-07T10:00:00",
                },
                "json",
            ),
        ),
        (
            "PATCH /appointments/{id}",
            lambda caller, bad: (
                "patch",
                f"/api/v1/appointments/{AppointmentFactory(tenant=caller.tenant).pk}",
                {"provider_id": bad},
                "json",
            ),
        ),
        (
            "GET /appointments/availability",
            lambda caller, bad: (
                "get",
                "/api/v1/appointments/availability",
                {"provider_id": bad, "date_from": "2030-01-07", "date_to": "2030-01-08"},
                None,
            ),
        ),
    ],
    "receiver_id": [
        (
            "POST /messages",
            lambda caller, bad: ("post", "/api/v1/messages", {"receiver_id": bad, "body": "Hello"}, "json"),
        ),
    ],
    "parent_id": [
        (
            "POST /messages",
            lambda caller, bad: (
                "post",
                "/api/v1/messages",
                {"receiver_id": _colleague(caller).pk, "parent_id": bad, "body": "Re"},
                "json",
            ),
        ),
    ],
    "version": [
        (
            "GET /documents/{id}/download",
            lambda caller, bad: (
                "get",
                f"/api/v1/documents/{make_document(caller.tenant).pk}/download",
                {"version": bad},
                None,
            ),
        ),
    ],
}
CASES = [
    (field, route, index, kind)
    for field, routes in ROUTES.items()
    for index, (route, _) in enumerate(routes)
    for kind in BAD_IDS[field]
]


def test_every_field_has_its_message_and_its_bad_ids():
    assert set(ROUTES) == set(BAD_IDS) == set(UNKNOWN)


def send_bad_id(api, doctor, other_clinic, field, index, kind):
    """The id sent and the answer to the doctor's request to route `index` of `field`, naming the
    `kind` of id that is no row of theirs (the one request of the answer's test and the trail's)."""
    with scopes_disabled():
        bad = BAD_IDS[field][kind](doctor, other_clinic)
        method, url, data, body_format = ROUTES[field][index][1](doctor, bad)
    client = api(doctor)
    if body_format is None:
        return bad, client.get(url, data)
    return bad, getattr(client, method)(url, data, format=body_format)


@pytest.mark.parametrize(("field", "route", "index", "kind"), CASES)
def test_an_id_naming_no_row_of_ours_is_the_one_400_of_its_field(
    api, doctor, other_clinic, field, route, index, kind
):
    _, response = send_bad_id(api, doctor, other_clinic, field, index, kind)

    assert response.status_code == 400, (route, kind, response.content)
    assert response.json() == {
        "status": 400,
        "code": "validation_error",
        "detail": "Invalid input.",
        "fields": {field: [LEGACY.get((field, route), {"code": "invalid", "message": UNKNOWN[field]})]},
    }


@pytest.mark.parametrize(
    ("field", "route", "index", "kind"), [case for case in CASES if case[0] in ATTEMPTED_MODEL]
)
def test_a_refused_id_is_recorded_as_an_attempt_in_the_callers_trail(
    api, doctor, other_clinic, field, route, index, kind
):
    """Probing ids through bodies and query strings is in the clinic's trail, as through URLs: the
    row named, the field, outcome attempted, the caller and their clinic (never the other's)."""
    bad, response = send_bad_id(api, doctor, other_clinic, field, index, kind)

    assert response.status_code == 400
    attempts = [
        (e.model, e.object_id, e.patient_id, e.fields, e.user_id, e.tenant_id, e.door)
        for e in trail(outcome="attempted")
    ]
    model = ATTEMPTED_MODEL[field]
    patient = bad if model == "patients.patient" else None
    assert attempts == [(model, bad, patient, [field], doctor.pk, doctor.tenant_id, "api")], route
