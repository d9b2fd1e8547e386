"""The tenant isolation matrix: every API route, every method, against another clinic's data.

Routes are enumerated from the URLconf, so a new route that nobody classified here fails
`test_every_api_route_is_classified` until its isolation is proven below.
"""

from collections.abc import Callable

import pytest
from django.forms.models import model_to_dict
from django.urls import URLPattern, URLResolver, get_resolver

from tests.factories import PatientFactory

API_PREFIX = "api/v1/"

# Routes anyone may call: they read no clinic data.
PUBLIC_ROUTES = {"auth-login", "auth-refresh"}
# Routes about the caller only (their own profile and tokens): no other clinic's data is reachable.
CALLER_ROUTES = {"auth-me", "auth-logout"}
# Routes addressing one object: how to make that object in a given clinic.
OBJECT_ROUTES: dict[str, Callable] = {
    "patient-detail": lambda tenant: PatientFactory(tenant=tenant, first_name="Zébulon", last_name="Secret"),
}
# List routes: how to make a row that must never show up for another clinic, and a search that
# would match it.
LIST_ROUTES: dict[str, tuple[Callable, dict]] = {
    "patient-list": (
        lambda tenant: PatientFactory(tenant=tenant, first_name="Zébulon", last_name="Secret"),
        {"search": "zebulon secret"},
    ),
}
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
    classified = PUBLIC_ROUTES | CALLER_ROUTES | set(OBJECT_ROUTES) | set(LIST_ROUTES)
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
    before = model_to_dict(type(theirs).objects.get(pk=theirs.pk))
    for method in methods_of(entry):
        body = {"first_name": "Hijacked", "notes": "changed by another clinic"}
        response = getattr(api(doctor), method)(url_of(route, theirs.pk), body, format="json")
        assert response.status_code == 404, (method, route, response.status_code)
        assert response.json()["code"] == "not_found"
    assert model_to_dict(type(theirs).objects.get(pk=theirs.pk)) == before


@pytest.mark.parametrize("name", sorted(OBJECT_ROUTES))
def test_own_clinics_object_is_reachable(api, doctor, name):
    """The control for the test above: the same request on our own object is not a 404."""
    route, _ = api_routes()[name]
    ours = OBJECT_ROUTES[name](doctor.tenant)
    assert api(doctor).get(url_of(route, ours.pk)).status_code == 200


@pytest.mark.parametrize("name", sorted(LIST_ROUTES))
def test_lists_never_show_another_clinics_rows(api, doctor, other_clinic, name):
    route, _ = api_routes()[name]
    make, search = LIST_ROUTES[name]
    make(other_clinic)
    for params in ({}, search):
        body = api(doctor).get(url_of(route), params).json()
        assert body["items"] == [] and body["total"] == 0, (route, params, body)
    # Control: the same row made in our clinic is found by the same search.
    make(doctor.tenant)
    assert api(doctor).get(url_of(route), search).json()["total"] == 1
