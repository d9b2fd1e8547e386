"""The project's base API view: the one place an API request enters its clinic's scope.

DRF authenticates inside the view (`APIView.initial`), not in middleware, so the scope cannot be
entered any earlier than here. Every API view of the project derives from `ClinicApiView`
(tests/core/test_api_base_view.py walks the URLconf to keep it so).
"""

from contextlib import ExitStack

from django_scopes import scope
from rest_framework.views import APIView


class ClinicApiView(APIView):
    """Runs the handler inside `scope(tenant=<the caller's clinic>)`.

    The scope is entered right after authentication and the permission checks, and left when the
    response is finalised (also after an exception, which DRF turns into a response first). A view
    open to anonymous callers (login, refresh) enters no scope: it may not touch clinic-owned rows.
    """

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)  # authentication, permissions, throttles
        tenant_id = getattr(request.user, "tenant_id", None)
        if tenant_id is not None:
            self._clinic_scope = ExitStack()
            self._clinic_scope.enter_context(scope(tenant=tenant_id))

    def finalize_response(self, request, response, *args, **kwargs):
        try:
            return super().finalize_response(request, response, *args, **kwargs)
        finally:
            clinic_scope = getattr(self, "_clinic_scope", None)
            if clinic_scope is not None:
                self._clinic_scope = None
                clinic_scope.close()
