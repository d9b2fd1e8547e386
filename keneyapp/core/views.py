"""The project's base API view: the one place an API request enters its clinic's scope and loads
the object it addresses.

DRF authenticates inside the view (`APIView.initial`), not in middleware, so the scope cannot be
entered any earlier than here. Every API view of the project derives from `ClinicApiView`
(tests/core/test_api_base_view.py walks the URLconf to keep it so).
"""

from contextlib import ExitStack
from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.http import Http404
from django_scopes import scope
from rest_framework.request import Request
from rest_framework.views import APIView


class ClinicApiView(APIView):
    """Runs the handler inside `scope(tenant=<the caller's clinic>)`; on a route of one object, with
    that object loaded and checked first.

    The scope is entered right after authentication and the permission checks, and left when
    `dispatch` returns, whatever happened: also after an exception DRF does not turn into a response
    (a bug, answered by Django's 500 handler), which would otherwise leave the scope set on the
    thread for its next request. A view open to anonymous callers (login, refresh) enters no scope:
    it may not touch clinic-owned rows.

    A route with `<id:pk>` addresses one object, and its view says how to load it (`load_object`).
    Before any handler runs, the object is loaded inside the scope: None is a 404, whether it is
    missing or another clinic's (the same answer, so a 404 reveals nothing), and then
    `check_object_permissions` runs the view's permission classes on it (the role check of
    keneyapp.accounts.permissions.RolePermission). The handler finds it in `self.object`, so no
    handler can act on an object that was not checked, and no handler has a check to forget.
    """

    object_url_kwarg = "pk"
    object: Any = None

    def load_object(self, request: Request, pk: int) -> Any:
        """The object the request addresses, or None when the caller may not see it (-> 404).

        Views of a route with `pk` override it; what it returns is what the handlers need (a model
        instance for a write, the answer's row for a cached read). It may branch on
        `request.method`, and it runs before the handler reads the body.
        """
        raise ImproperlyConfigured(
            f"{type(self).__name__} serves a route with `{self.object_url_kwarg}` but declares no "
            "load_object(): its object would reach the handler unloaded and unchecked."
        )

    def handles(self, method: str) -> bool:
        """Whether a handler of this view answers `method` (else DRF answers: OPTIONS metadata, 405)."""
        name = method.lower()
        return method != "OPTIONS" and name in self.http_method_names and hasattr(self, name)

    def addresses_object(self, request: Request) -> bool:
        """Whether this request's handler acts on one object, which `initial` loads and checks."""
        return self.object_url_kwarg in self.kwargs and self.handles(request.method or "")

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)  # authentication, permissions, throttles
        tenant_id = getattr(request.user, "tenant_id", None)
        if tenant_id is not None:
            self._clinic_scope = ExitStack()
            self._clinic_scope.enter_context(scope(tenant=tenant_id))
        if self.addresses_object(request):
            loaded = self.load_object(request, kwargs[self.object_url_kwarg])
            if loaded is None:
                raise Http404
            self.check_object_permissions(request, loaded)
            self.object = loaded

    def dispatch(self, request, *args, **kwargs):
        try:
            return super().dispatch(request, *args, **kwargs)
        finally:
            clinic_scope = getattr(self, "_clinic_scope", None)
            if clinic_scope is not None:
                self._clinic_scope = None
                clinic_scope.close()
