"""The project's base API view: the one place an API request enters its clinic's scope and loads
the object it addresses.

DRF authenticates inside the view (`APIView.initial`), not in middleware, so the scope cannot be
entered any earlier than here. Every API view of the project derives from `ClinicApiView`
(tests/core/test_api_base_view.py walks the URLconf to keep it so).

It is also the API's audit door (keneyapp.core.audit): every request of a route that shows or
changes patient-linked data records who did what to which row and patient, the refusals (403) and
the attempts (404 for an unknown or another clinic's id) included, in one INSERT before the answer
leaves; a write's records go in the write's own transaction. A trail that cannot be stored is a
503 `audit_unavailable`, never the data.
"""

from contextlib import ExitStack
from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.db import transaction
from django.http import Http404
from django_scopes import scope
from rest_framework.exceptions import PermissionDenied
from rest_framework.request import Request
from rest_framework.views import APIView

from keneyapp.core import audit, language
from keneyapp.core.network import client_address

SAFE_METHODS = ("GET", "HEAD", "OPTIONS")
# The action a method's success records when the view says nothing else (`audit_actions`).
DEFAULT_ACTIONS = {
    (False, "GET"): audit.Action.LIST,
    (False, "HEAD"): audit.Action.LIST,
    (False, "POST"): audit.Action.CREATE,
    (True, "GET"): audit.Action.VIEW,
    (True, "HEAD"): audit.Action.VIEW,
    (True, "POST"): audit.Action.CHANGE,
    (True, "PUT"): audit.Action.CHANGE,
    (True, "PATCH"): audit.Action.CHANGE,
    (True, "DELETE"): audit.Action.DELETE,
}


def dig(value: Any, path: str) -> Any:
    """`value["a"]["b"]` for path "a.b" (dicts), or `value.a.b` (objects); None where missing."""
    if not isinstance(value, dict) and path.endswith(".id"):
        # An instance names a related row by its column (appointment.patient_id): no query.
        column = f"{path[:-3].replace('.', '__')}_id"
        if "." not in path[:-3] and hasattr(value, column):
            return getattr(value, column)
    for part in path.split("."):
        if value is None:
            return None
        value = value.get(part) if isinstance(value, dict) else getattr(value, part, None)
    return value


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

    The audit (docs/architecture.md, "The audit trail"): a view declares `audit_model` (the model
    whose rows it shows or changes) or `audit_exempt` (why it shows no patient-linked data;
    tests/core/test_audit_routes.py fails for a route that says neither). `audit_patient` says
    where the patient's id is: a key path in the answer's rows or an attribute of the loaded
    instance ("patient_id", "patient.id"), or "pk" when the route's id is the patient's.
    """

    object_url_kwarg = "pk"
    object: Any = None

    audit_model: str = ""
    audit_exempt: str = ""
    audit_patient: str = "patient_id"
    audit_object_key: str = "id"  # where a create's answer names the new row
    audit_actions: dict[str, str] = {}
    # Set by a handler whose answer does not name the patients it shows (a field selection).
    audit_patient_ids: list | None = None

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

    def perform_authentication(self, request):
        super().perform_authentication(request)
        # The bearer token's user is known only now: their language and clinic's default join the
        # browser's (keneyapp/core/language.py); UserLanguageMiddleware saw no user for the API.
        language.activate_for_request(request, request.user)

    def initial(self, request, *args, **kwargs):
        try:
            super().initial(request, *args, **kwargs)  # authentication, permissions, throttles
        except PermissionDenied:
            self._audit_identify(request)
            self._audit(request, outcome=audit.Outcome.DENIED)
            raise
        self._audit_identify(request)
        tenant_id = getattr(request.user, "tenant_id", None)
        if tenant_id is not None:
            self._clinic_scope = ExitStack()
            self._clinic_scope.enter_context(scope(tenant=tenant_id))
        if self.addresses_object(request):
            pk = kwargs[self.object_url_kwarg]
            loaded = self.load_object(request, pk)
            if loaded is None:
                # Unknown, deleted or another clinic's: the same 404, recorded as an attempt.
                self._audit_subject = (pk, pk if self.audit_patient == "pk" else None)
                self._audit(request, outcome=audit.Outcome.ATTEMPTED)
                raise Http404
            self._audit_subject = (pk, self.audit_patient_of(loaded, pk))
            try:
                self.check_object_permissions(request, loaded)
            except PermissionDenied:
                self._audit(request, outcome=audit.Outcome.DENIED)
                raise
            self.object = loaded

    def dispatch(self, request, *args, **kwargs):
        route = getattr(getattr(request, "resolver_match", None), "url_name", "") or ""
        with audit.open_trail(
            audit.Door.API, address=client_address(request), route=route, method=request.method or ""
        ) as trail:
            self._audit_trail = trail
            if trail is None or not self.audit_model:
                response = self._dispatch_in_scope(request, *args, **kwargs)
                # A route with no patient data records nothing of its own, but an id its query
                # string named and the resolver refused is an attempt (keneyapp/core/resolvers.py).
                return self._flushed(request, response) if trail is not None and trail.events else response
            if request.method in SAFE_METHODS:
                return self._flushed(request, self._dispatch_in_scope(request, *args, **kwargs))
            # A write: its records are stored in its own transaction, so it never commits
            # unrecorded; if they cannot be, the write is rolled back with them (503). The services'
            # own transactions become savepoints inside this one (their contention retry still
            # rolls back and reruns only its own attempt).
            response = None
            try:
                with transaction.atomic():
                    response = self._dispatch_in_scope(request, *args, **kwargs)
                    if not transaction.get_rollback():
                        trail.flush()
            except audit.AuditUnavailable as refused:
                return self._unavailable(request, refused, response)
            # A refused or failed write rolled back: its records (the refusal) are stored after.
            return self._flushed(request, response)

    def _dispatch_in_scope(self, request, *args, **kwargs):
        try:
            return super().dispatch(request, *args, **kwargs)
        finally:
            clinic_scope = getattr(self, "_clinic_scope", None)
            if clinic_scope is not None:
                self._clinic_scope = None
                clinic_scope.close()

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        if (
            getattr(self, "_audit_trail", None) is not None
            and self.audit_model
            and response.status_code < 400
            and not getattr(self, "_audit_answered", False)
        ):
            self._audit_answered = True
            self._audit(request, response=response)
        return response

    # --- the audit ---
    def audit_patient_of(self, loaded: Any, pk: int) -> Any:
        """The id of the patient the loaded object concerns."""
        if self.audit_patient == "pk":
            return pk
        return dig(loaded, self.audit_patient)

    def _audit_identify(self, request) -> None:
        trail = getattr(self, "_audit_trail", None)
        if trail is not None:
            trail.identify(request.user)

    def _audit(self, request, *, outcome: str = audit.Outcome.ALLOWED, response=None) -> None:
        trail = getattr(self, "_audit_trail", None)
        if trail is None or not self.audit_model or trail.user_id is None:
            return
        method = request.method or ""
        on_object = self.addresses_object(request)
        action = self.audit_actions.get(method) or DEFAULT_ACTIONS.get((on_object, method))
        if action is None:
            return  # OPTIONS: metadata, no data
        params = list(request.query_params.keys())
        if on_object:
            object_id, patient_id = getattr(self, "_audit_subject", (None, None))
            if action == audit.Action.LIST:
                object_id = (
                    None  # a list under an object (a patient's appointments): the patient is the subject
                )
            if self.audit_patient_ids is not None:
                trail.record(action, self.audit_model, object_id=object_id, outcome=outcome,
                             patient_ids=self.audit_patient_ids, params=params)  # fmt: skip
                return
            fields = (
                trail.changed_fields(self.audit_model, object_id) if action == audit.Action.CHANGE else ()
            )
            trail.record(action, self.audit_model, object_id=object_id, patient_id=patient_id,
                         fields=fields, params=params, outcome=outcome)  # fmt: skip
            return
        data = getattr(response, "data", None)
        if action == audit.Action.CREATE and response is not None:
            object_id = dig(data, self.audit_object_key)
            patient = object_id if self.audit_patient == "pk" else dig(data, self.audit_patient)
            trail.record(action, self.audit_model, object_id=object_id, patient_id=patient, outcome=outcome)
            return
        trail.record(action, self.audit_model, outcome=outcome, params=params,
                     patient_ids=self._patients_shown(data))  # fmt: skip

    def _patients_shown(self, data: Any) -> list:
        if self.audit_patient_ids is not None:
            return self.audit_patient_ids
        rows = data.get("items") if isinstance(data, dict) else data
        if not isinstance(rows, list):
            return []
        key = "id" if self.audit_patient == "pk" else self.audit_patient
        return [dig(row, key) for row in rows]

    def _flushed(self, request, response):
        trail = self._audit_trail
        try:
            trail.flush()
        except audit.AuditUnavailable as refused:
            return self._unavailable(request, refused, response)
        return response

    def _unavailable(self, request, refused: audit.AuditUnavailable, response=None):
        stream = getattr(response, "file_to_stream", None)
        if stream is not None:
            # A download's open file. Not response.close(): that sends request_finished, which
            # would close the request's database connection under it.
            stream.close()
        # The project's one 503 (keneyapp.core.errors.ServiceUnavailable): the error shape, the
        # Retry-After every outage answer carries, and the one log line.
        unavailable = self.handle_exception(refused.as_service_unavailable())
        self._audit_answered = True
        return self.finalize_response(request, unavailable)
