"""The tenant isolation matrix: every API route, every method, against another clinic's data.

Routes are enumerated from the URLconf, so a new route that nobody classified here fails
`test_every_api_route_is_classified` until its isolation is proven below.
"""

from collections.abc import Callable

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.forms.models import model_to_dict
from django.urls import URLPattern, URLResolver, get_resolver

from keneyapp.accounts.roles import Role
from keneyapp.core.scoping import scopes_disabled
from tests.documents.helpers import PDF, make_document, make_pending_upload
from tests.factories import AppointmentFactory, MessageFactory, PatientFactory, UserFactory

API_PREFIX = "api/v1/"

# Routes anyone may call: they read no clinic data.
PUBLIC_ROUTES = {"auth-login", "auth-mfa", "auth-refresh"}
# Routes about the caller only (their own profile and tokens): no other clinic's data is reachable.
CALLER_ROUTES = {"auth-me", "auth-logout", "message-read-all", "message-unread-count"}
# Routes about the caller's clinic as a whole (no id in the path or the query): proven below to
# count only the caller's clinic, however much another clinic holds.
CLINIC_ROUTES = {"dashboard-stats"}


def _first_doctor(tenant):
    """The clinic's first doctor (ours: `doctor`, the caller), or a new one."""
    from keneyapp.accounts.models import User

    return User.objects.filter(tenant=tenant, role=Role.DOCTOR).order_by("pk").first() or UserFactory(
        tenant=tenant, role=Role.DOCTOR
    )


def _audit_event(tenant):
    from django.utils import timezone

    from keneyapp.core.models import AuditEvent

    patient = PatientFactory(tenant=tenant)
    return AuditEvent._base_manager.create(
        at=timezone.now(), tenant=tenant, user_id=_first_doctor(tenant).pk, role="doctor", door="api",
        action="view", model="patients.patient", object_id=patient.pk, patient_id=patient.pk,
    )  # fmt: skip


# Routes only a clinic administrator may call: their controls are made by one.
ADMIN_ONLY_ROUTES = {"audit-list", "patient-access-report", "patient-access-report-pdf"}


def control_caller(name: str, doctor):
    """Who makes a route's control request: the doctor, or an administrator of the same clinic."""
    return UserFactory(tenant=doctor.tenant, role=Role.ADMIN) if name in ADMIN_ONLY_ROUTES else doctor


def _message_to_doctor(tenant):
    return MessageFactory(tenant=tenant, receiver=_first_doctor(tenant), body="Secret about Zébulon")


# Routes addressing one object: how to make that object in a given clinic.
OBJECT_ROUTES: dict[str, Callable] = {
    "patient-detail": lambda tenant: PatientFactory(tenant=tenant, first_name="Zébulon", last_name="Secret"),
    "patient-appointments": lambda tenant: AppointmentFactory(tenant=tenant).patient,
    "appointment-detail": lambda tenant: AppointmentFactory(tenant=tenant),
    "appointment-cancel": lambda tenant: AppointmentFactory(tenant=tenant),
    "document-detail": make_document,
    "document-download": make_document,
    "document-versions": make_document,
    "document-confirm": make_pending_upload,
    "patient-report": lambda tenant: PatientFactory(tenant=tenant),
    "patient-access-report": lambda tenant: PatientFactory(tenant=tenant),
    "patient-access-report-pdf": lambda tenant: PatientFactory(tenant=tenant),
    "message-detail": _message_to_doctor,
    "message-read": _message_to_doctor,
}
# List routes: how to make a row that must never show up for another clinic, and a search that
# would match it.
LIST_ROUTES: dict[str, tuple[Callable, dict]] = {
    "patient-list": (
        lambda tenant: PatientFactory(tenant=tenant, first_name="Zébulon", last_name="Secret"),
        {"search": "zebulon secret"},
    ),
    "appointment-list": (
        lambda tenant: AppointmentFactory(tenant=tenant, reason="Secret visit"),
        {"status": "scheduled", "date_from": "2030-01-01"},
    ),
    "document-list": (lambda tenant: make_document(tenant, title="Secret"), {"category": "lab_result"}),
    "message-list": (_message_to_doctor, {"unread": "true", "after_id": "0"}),
    # The trail's own reads are recorded as lists: `action=view` finds the made row only.
    "audit-list": (_audit_event, {"action": "view", "door": "api"}),
}


def _their_provider(tenant):
    return UserFactory(tenant=tenant, role=Role.DOCTOR)


# Routes that take another row's id in the query string or the body: an id of another clinic is
# a 400 naming the parameter, and changes nothing. name -> (method, make the request data).
ID_PARAMETER_ROUTES: dict[str, list[tuple[str, Callable]]] = {
    "document-list": [("get", lambda tenant: {"patient_id": PatientFactory(tenant=tenant).pk})],
    "document-upload": [
        (
            "post",
            lambda tenant: {
                "patient_id": PatientFactory(tenant=tenant).pk,
                "category": "lab_result",
                "file": SimpleUploadedFile("lab.pdf", PDF, content_type="application/pdf"),
            },
        )
    ],
    "document-presign": [
        (
            "post",
            lambda tenant: {
                "patient_id": PatientFactory(tenant=tenant).pk,
                "category": "lab_result",
                "filename": "lab.pdf",
                "content_type": "application/pdf",
                "size": 100,
            },
        )
    ],
    "appointment-availability": [
        (
            "get",
            lambda tenant: {
                "provider_id": _their_provider(tenant).pk,
                "date_from": "2030-01-07",
                "date_to": "2030-01-08",
            },
        ),
    ],
    "appointment-list": [
        (
            "post",
            lambda tenant: {
                "patient_id": PatientFactory(tenant=tenant).pk,
                "appointment_date": "2030-01-07T10:00:00",
            },
        ),
        (
            "post",
            lambda tenant: {
                "patient_id": None,
                "provider_id": _their_provider(tenant).pk,
                "appointment_date": "2030-01-07T10:00:00",
            },
        ),
    ],
    # Messages: a receiver, a patient or a parent message of another clinic.
    "message-list": [
        ("post", lambda tenant: {"receiver_id": _their_provider(tenant).pk, "body": "Hello"}),
        (
            "post",
            lambda tenant: {
                "receiver_id": None,
                "patient_id": PatientFactory(tenant=tenant).pk,
                "body": "About your patient",
            },
        ),
        (
            "post",
            lambda tenant: {"receiver_id": None, "parent_id": _message_to_doctor(tenant).pk, "body": "Re"},
        ),
    ],
}
# A valid body for the control request of routes that need one.
CONTROL_BODIES = {"appointment-cancel": {"reason": "The patient called"}}
# The control's answer when it is not 200: a report is queued; S3 downloads redirect.
CONTROL_STATUSES = {"patient-report": {202}, "document-download": {200, 302}}
# Routes whose body is a multipart upload (the file streams; JSON is 415 there).
MULTIPART_ROUTES = {"document-upload"}
METHODS = ("get", "post", "put", "patch", "delete")


def _walk(patterns, prefix=""):
    for entry in patterns:
        if isinstance(entry, URLResolver):
            yield from _walk(entry.url_patterns, prefix + str(entry.pattern))
        elif isinstance(entry, URLPattern):
            yield prefix + str(entry.pattern), entry


def api_routes() -> dict[str, tuple[str, URLPattern]]:
    return {
        entry.name: (route, entry)
        for route, entry in _walk(get_resolver().url_patterns)
        if route.startswith(API_PREFIX) and entry.name
    }


def methods_of(entry: URLPattern) -> list[str]:
    view_class = entry.callback.view_class
    return [method for method in METHODS if hasattr(view_class, method)]


def url_of(route: str, pk: int | None = None) -> str:
    path = "/" + route
    return path.replace("<id:pk>", str(pk)) if pk is not None else path


def test_every_api_route_is_classified():
    classified = (
        PUBLIC_ROUTES
        | CALLER_ROUTES
        | CLINIC_ROUTES
        | set(OBJECT_ROUTES)
        | set(LIST_ROUTES)
        | set(ID_PARAMETER_ROUTES)
    )
    unclassified = sorted(set(api_routes()) - classified)
    assert not unclassified, f"Prove tenant isolation for these routes in this file: {unclassified}"
    unnamed = [
        route
        for route, entry in _walk(get_resolver().url_patterns)
        if route.startswith(API_PREFIX) and not entry.name and "(" not in route and "^" not in route
    ]
    assert not unnamed, f"Name these API routes so the matrix can see them: {unnamed}"


@pytest.mark.django_db
@pytest.mark.parametrize("name", sorted(set(api_routes()) - PUBLIC_ROUTES))
def test_every_non_public_route_needs_a_token(api, name):
    route, entry = api_routes()[name]
    pk = 1 if "<id:pk>" in route else None
    for method in methods_of(entry):
        response = getattr(api(), method)(url_of(route, pk), {}, format="json")
        assert response.status_code == 401, (method, route, response.status_code)
        assert response.json()["code"] == "not_authenticated"


@pytest.mark.parametrize("name", sorted(OBJECT_ROUTES))
def test_other_clinics_object_is_404_for_every_method(api, doctor, other_clinic, name):
    route, entry = api_routes()[name]
    theirs = OBJECT_ROUTES[name](other_clinic)
    with scopes_disabled():
        before = model_to_dict(type(theirs).objects.get(pk=theirs.pk))
    for method in methods_of(entry):
        body = {"first_name": "Hijacked", "notes": "changed by another clinic"}
        response = getattr(api(doctor), method)(url_of(route, theirs.pk), body, format="json")
        assert response.status_code == 404, (method, route, response.status_code)
        assert response.json()["code"] == "not_found"
    with scopes_disabled():
        assert model_to_dict(type(theirs).objects.get(pk=theirs.pk)) == before


@pytest.mark.parametrize("name", sorted(OBJECT_ROUTES))
def test_own_clinics_object_is_reachable(api, doctor, name):
    """The control for the test above: the same request on our own object is not a 404."""
    route, entry = api_routes()[name]
    ours = OBJECT_ROUTES[name](doctor.tenant)
    method = methods_of(entry)[0]
    body = CONTROL_BODIES.get(name, {})
    response = getattr(api(control_caller(name, doctor)), method)(url_of(route, ours.pk), body, format="json")
    assert response.status_code in CONTROL_STATUSES.get(name, {200}), (method, route, response.content)


@pytest.mark.parametrize("name", sorted(LIST_ROUTES))
def test_lists_never_show_another_clinics_rows(api, doctor, other_clinic, name):
    route, _ = api_routes()[name]
    make, search = LIST_ROUTES[name]
    make(other_clinic)
    caller = control_caller(name, doctor)
    for params in ({}, search):
        body = api(caller).get(url_of(route), params).json()
        assert body["items"] == [] and body["total"] == 0, (route, params, body)
    # Control: the same row made in our clinic is found by the same search.
    make(doctor.tenant)
    assert api(caller).get(url_of(route), search).json()["total"] == 1


@pytest.mark.parametrize(
    ("name", "case"),
    [(name, index) for name, cases in sorted(ID_PARAMETER_ROUTES.items()) for index in range(len(cases))],
)
def test_ids_of_another_clinic_in_parameters_are_refused(api, doctor, other_clinic, name, case):
    from appointments.models import Appointment
    from messaging.models import Message

    route, _ = api_routes()[name]
    method, make = ID_PARAMETER_ROUTES[name][case]
    data = make(other_clinic)
    if data.get("patient_id", 0) is None:  # the case is about another field: use our own patient
        data["patient_id"] = PatientFactory(tenant=doctor.tenant).pk
    if data.get("receiver_id", 0) is None:  # the case is about another field: use our own colleague
        data["receiver_id"] = UserFactory(tenant=doctor.tenant, role=Role.NURSE).pk
    with scopes_disabled():
        before = Appointment.objects.count(), Message.objects.count()
    if method == "get":
        response = api(doctor).get(url_of(route), data)
    else:
        body_format = "multipart" if name in MULTIPART_ROUTES else "json"
        response = getattr(api(doctor), method)(url_of(route), data, format=body_format)
    assert response.status_code == 400, (name, data, response.content)
    refused = {key for key in data if key.endswith("_id")} & set(response.json()["fields"])
    assert refused, response.json()
    with scopes_disabled():
        assert (Appointment.objects.count(), Message.objects.count()) == before


def test_the_dashboard_never_counts_another_clinics_rows(api, doctor, other_clinic):
    from django.utils import timezone

    for _ in range(2):
        AppointmentFactory(tenant=other_clinic, appointment_date=timezone.now())
    api(UserFactory(tenant=other_clinic)).get("/api/v1/dashboard/stats")  # theirs is cached now
    body = api(doctor).get("/api/v1/dashboard/stats").json()
    assert body["clinic"]["id"] == doctor.tenant_id
    assert body["patients"]["total"] == 0
    assert sum(body["appointments"]["today"].values()) == 0
    # Control: the same rows in our clinic are counted.
    AppointmentFactory(tenant=doctor.tenant, appointment_date=timezone.now())
    from keneyapp.core.caching import cache_service, clinic_namespace

    cache_service.bump(clinic_namespace(doctor.tenant_id, "dashboard"))
    assert api(doctor).get("/api/v1/dashboard/stats").json()["patients"]["total"] == 1
