"""Every API view derives from the project's base view, the API's one door into the clinic scope."""

from django.urls import URLPattern, URLResolver, get_resolver

from keneyapp.core.views import ClinicApiView


def _api_views(patterns=None, prefix=""):
    for pattern in get_resolver().url_patterns if patterns is None else patterns:
        route = prefix + str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            yield from _api_views(pattern.url_patterns, route)
        elif (
            isinstance(pattern, URLPattern)
            and route.startswith("api/v1/")
            and hasattr(pattern.callback, "cls")
        ):
            yield route, pattern.callback.cls


def test_every_api_view_derives_from_the_clinic_api_view():
    views = list(_api_views())
    assert len(views) > 10
    assert [route for route, view in views if not issubclass(view, ClinicApiView)] == []
