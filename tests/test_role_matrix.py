"""The route x role matrix: every API route, every method, every role, against the roles table.

What each role may do comes from keneyapp/accounts/roles.py (PERMISSIONS) and each view's
`role_actions`; the routes and methods come from the URLconf, the roles from `Role`. So a new route,
a new method on a view or a new role is in the matrix the moment it exists, and
`test_every_route_and_method_has_a_role_rule` fails until the route says who may call it:

- allowed: the answer is anything but 403 (and, on an object of the caller's clinic, but 404);
- refused: 403 in the API's error shape, and the object is unchanged;
- an object of another clinic: 404 for every role, allowed or not (no existence oracle).

An appointment's status change also needs the action of its target status; it is in the matrix too.
"""

from collections.abc import Callable

import pytest
from django.forms.models import model_to_dict
from django_scopes import scopes_disabled

from appointments.models import AppointmentStatus
from appointments.status_rules import action_for_status
from keneyapp.accounts.permissions import RolePermission
from keneyapp.accounts.roles import PERMISSIONS, Role, role_can
from keneyapp.core.views import ClinicApiView
from tests.documents.helpers import make_document, make_pending_upload
from tests.error_shape import assert_error
from tests.factories import AppointmentFactory, MessageFactory, PatientFactory, UserFactory
from tests.test_tenant_isolation import MULTIPART_ROUTES, PUBLIC_ROUTES, api_routes, methods_of, url_of

# Routes open to every member of staff whatever the role: they are about the caller only.
EVERY_ROLE_ROUTES = {"auth-me", "auth-logout"}
# Routes addressing one object: how to make one in the caller's clinic that the caller may see.
OBJECTS: dict[str, Callable] = {
    "patient-detail": lambda user: PatientFactory(tenant=user.tenant),
    "patient-appointments": lambda user: PatientFactory(tenant=user.tenant),
    "patient-report": lambda user: PatientFactory(tenant=user.tenant),
    "patient-access-report": lambda user: PatientFactory(tenant=user.tenant),
    "patient-access-report-pdf": lambda user: PatientFactory(tenant=user.tenant),
    "appointment-detail": lambda user: AppointmentFactory(tenant=user.tenant),
    "appointment-cancel": lambda user: AppointmentFactory(tenant=user.tenant),
    "document-detail": lambda user: make_document(user.tenant),
    "document-download": lambda user: make_document(user.tenant),
    "document-versions": lambda user: make_document(user.tenant),
    "document-confirm": lambda user: make_pending_upload(user.tenant),
    "message-detail": lambda user: MessageFactory(tenant=user.tenant, receiver=user),
    "message-read": lambda user: MessageFactory(tenant=user.tenant, receiver=user),
}
MULTIPART_METHODS = {(name, "post") for name in MULTIPART_ROUTES} | {("document-versions", "post")}


def _view_class(name: str):
    return api_routes()[name][1].callback.view_class


def role_allowed(name: str, method: str, role: Role) -> bool:
    """What the roles table says `role` may do with `method` on route `name`."""
    if name in EVERY_ROLE_ROUTES:
        return True
    return role_can(role, _view_class(name).role_actions[method.upper()])


STAFF_ROUTES = sorted(set(api_routes()) - PUBLIC_ROUTES)
CASES = [
    (name, method, role)
    for name in STAFF_ROUTES
    for method in methods_of(api_routes()[name][1])
    for role in Role
]
OBJECT_CASES = [case for case in CASES if case[0] in OBJECTS]


def test_every_route_and_method_has_a_role_rule():
    problems = []
    for name in STAFF_ROUTES:
        route, entry = api_routes()[name]
        view_class = entry.callback.view_class
        if not issubclass(view_class, ClinicApiView):
            problems.append(f"{name}: {view_class.__name__} must derive from ClinicApiView")
            continue
        checks_roles = RolePermission in view_class.permission_classes
        if name in EVERY_ROLE_ROUTES:
            if checks_roles:
                problems.append(f"{name}: checks roles, so it is not open to every role")
            continue
        if not checks_roles:
            problems.append(f"{name}: add RolePermission and role_actions, or EVERY_ROLE_ROUTES here")
            continue
        for method in methods_of(entry):
            action = view_class.role_actions.get(method.upper())
            if action not in PERMISSIONS:
                problems.append(f"{name} {method.upper()}: role_actions names no action of the roles table")
        if ("<id:pk>" in route) != (name in OBJECTS):
            problems.append(f"{name}: a route with <id:pk> needs OBJECTS[{name!r}] here, and only such")
    assert not problems, "\n".join(problems)


def test_the_roles_table_names_only_roles_the_matrix_runs():
    named = set().union(*PERMISSIONS.values())
    assert named <= set(Role)
    assert {role for _, _, role in CASES} == set(Role)


def _request(client, name: str, method: str, url: str):
    body_format = "multipart" if (name, method) in MULTIPART_METHODS else "json"
    return getattr(client, method)(url, {}, format=body_format)


def _stored(obj) -> dict:
    with scopes_disabled():
        return model_to_dict(type(obj).objects.get(pk=obj.pk))


@pytest.mark.parametrize(("name", "method", "role"), CASES)
def test_every_role_gets_what_the_roles_table_says(api, staff_of, name, method, role):
    route, _ = api_routes()[name]
    with scopes_disabled():
        user = staff_of(role)
        obj = OBJECTS[name](user) if name in OBJECTS else None
    before = _stored(obj) if obj is not None else None

    response = _request(api(user), name, method, url_of(route, obj.pk if obj is not None else None))

    if role_allowed(name, method, role):
        assert response.status_code != 403, (method, route, role, response.content)
        if obj is not None:
            assert response.status_code != 404, (method, route, role, response.content)
    else:
        assert_error(response, 403, code="permission_denied")
        if obj is not None:
            assert _stored(obj) == before


@pytest.mark.parametrize(("name", "method", "role"), OBJECT_CASES)
def test_another_clinics_object_is_404_for_every_role(api, staff_of, other_clinic, name, method, role):
    route, _ = api_routes()[name]
    with scopes_disabled():
        user = staff_of(role)
        theirs = OBJECTS[name](UserFactory(tenant=other_clinic, role=role))
    before = _stored(theirs)

    response = _request(api(user), name, method, url_of(route, theirs.pk))

    assert_error(response, 404, code="not_found")
    assert _stored(theirs) == before


# A PATCH that changes an appointment's status needs the action of its target status
# (appointments/status_rules.py), checked by the service: every target, every role, as the table says.
STATUS_CASES = [(target, role) for target in AppointmentStatus.values for role in Role]


@pytest.mark.parametrize(("target", "role"), STATUS_CASES)
def test_every_role_changes_an_appointments_status_as_the_roles_table_says(api, staff_of, target, role):
    with scopes_disabled():
        user = staff_of(role)
        appointment = AppointmentFactory(tenant=user.tenant)
    before = _stored(appointment)

    response = api(user).patch(f"/api/v1/appointments/{appointment.pk}", {"status": target}, format="json")

    if role_can(role, action_for_status(target)):
        assert response.status_code == 200, (target, role, response.content)
    else:
        assert_error(response, 403, code="permission_denied")
        assert _stored(appointment) == before
