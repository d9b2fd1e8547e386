"""One error shape for the whole API.

Every 4xx and 5xx answered under /api/ has this body:

    {"status": 400, "code": "validation_error", "detail": "Invalid input.",
     "fields": {"email": [{"code": "invalid", "message": "Enter a valid email address."}]}}

`code` is stable and machine-readable; `detail` is for people; `fields` appears only on
validation errors and maps each offending field (or query parameter) to its problems.

A service the request needs that cannot be reached (the database, document storage) is a 503 with
`Retry-After`, never a 500: `ServiceUnavailable`, which the API answers in this shape and the admin
as a short HTML page (docs/security.md, "Faults").
"""

import logging
import sys

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import InterfaceError, OperationalError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.utils.translation import get_language, gettext
from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions
from rest_framework.response import Response
from rest_framework.views import set_rollback

logger = logging.getLogger("keneyapp.errors")


class ConflictError(Exception):
    """Raised by services: the request is valid but clashes with the current state (a double
    booking, a forbidden status change). The API answers 409 with `code`, `detail` and `extra`."""

    def __init__(self, detail: str, *, code: str = "conflict", extra: dict | None = None):
        super().__init__(detail)
        self.detail = detail
        self.code = code
        self.extra = extra or {}


class FieldsPermissionDenied(exceptions.PermissionDenied):
    """403 naming the fields of a request the caller's role may neither read nor write: a write of
    one is refused whole, never half-applied with the field silently dropped."""

    def __init__(self, fields, detail: str):
        super().__init__(detail)
        self.field_errors = {
            name: [{"code": "field_not_permitted", "message": detail}] for name in sorted(fields)
        }


class ServiceUnavailable(exceptions.APIException):
    """A service the request needs cannot be reached: 503 with `Retry-After`, in the error shape.

    Raised by the code that talks to the service (documents.storage for S3), or made from a
    database error by `as_service_unavailable`. The request's transaction did not commit, so a 503
    wrote nothing (unless its COMMIT reached the database just before the connection dropped: then
    it is stored whole); the client may retry after `retry_after` seconds.
    """

    status_code = 503
    default_code = "service_unavailable"
    default_detail = _("A service this request needs is unavailable; try again shortly.")
    retry_after = 5


DATABASE_UNAVAILABLE = _("The database is unavailable; try again shortly.")

# SQLSTATEs of a transaction the database aborted to let a concurrent one through: deadlock_detected
# (two bookings each waiting on the other's row in the exclusion constraint, say) and
# serialization_failure. psycopg raises them as DeadlockDetected / SerializationFailure, which
# Django wraps as OperationalError: an outage's class, but not an outage.
CONTENTION_SQLSTATES = frozenset({"40P01", "40001"})
WRITE_CONFLICT = _("Another change was being saved at the same time; try again.")


def is_contention(error: BaseException | None) -> bool:
    return (
        isinstance(error, OperationalError)
        and getattr(error.__cause__, "sqlstate", None) in CONTENTION_SQLSTATES
    )


def as_service_unavailable(exc: BaseException | None) -> ServiceUnavailable | None:
    """The 503 that `exc` means, or None when it is no outage.

    Django's OperationalError and InterfaceError are what a database restart, a dropped or refused
    connection, and a pool that found no connection within DB_POOL_TIMEOUT raise (psycopg's
    PoolTimeout is an OperationalError). Contention (deadlocks, serialization failures) is an
    OperationalError too, but no outage: the services that expect it retry it once
    (keneyapp.core.services.retry_on_contention), and one that reaches a door unretried is the
    409 `write_conflict` it would have become (api_exception_handler), never a 503.
    """
    if is_contention(exc):
        return None
    if isinstance(exc, ServiceUnavailable):
        return exc
    if isinstance(exc, (OperationalError, InterfaceError)):
        unavailable = ServiceUnavailable(str(DATABASE_UNAVAILABLE), code="database_unavailable")
        unavailable.__cause__ = exc
        return unavailable
    return None


def log_unavailable(request, unavailable: ServiceUnavailable) -> None:
    # One line, without the traceback: an outage makes many. The cause is psycopg's or botocore's
    # message about the connection (no query parameters, no document content).
    cause = unavailable.__cause__ or unavailable
    logger.warning(
        "%s: %s %s answered 503: %s: %s",
        unavailable.get_codes(),
        getattr(request, "method", "?"),
        getattr(request, "path", "?"),
        type(cause).__name__,
        str(cause).strip().splitlines()[0] if str(cause).strip() else "",
    )


_CODES = {
    exceptions.ParseError: "malformed_request",
    exceptions.UnsupportedMediaType: "unsupported_media_type",
    exceptions.NotAuthenticated: "not_authenticated",
    exceptions.AuthenticationFailed: "authentication_failed",
    exceptions.PermissionDenied: "permission_denied",
    exceptions.NotFound: "not_found",
    exceptions.MethodNotAllowed: "method_not_allowed",
    exceptions.NotAcceptable: "not_acceptable",
    exceptions.Throttled: "throttled",
    exceptions.ValidationError: "validation_error",
}


def _field_errors(detail) -> dict:
    """Flatten DRF's nested ErrorDetail structure into {field: [{code, message}]}."""
    if isinstance(detail, list):
        return {"non_field_errors": [_error_item(item) for item in detail]}
    fields = {}
    for name, problems in detail.items():
        if isinstance(problems, dict):
            for sub_name, sub_problems in _field_errors(problems).items():
                fields[f"{name}.{sub_name}"] = sub_problems
        else:
            items = problems if isinstance(problems, list) else [problems]
            fields[name] = [_error_item(item) for item in items]
    return fields


def _error_item(item) -> dict:
    if isinstance(item, dict):  # a nested list of objects; keep it readable
        return {"code": "invalid", "message": str(item)}
    return {"code": getattr(item, "code", "invalid"), "message": str(item)}


def error_body(status_code: int, code: str, detail: str, fields: dict | None = None) -> dict:
    body = {"status": status_code, "code": code, "detail": detail}
    if fields:
        body["fields"] = fields
    return body


def api_exception_handler(exc, context):
    if is_contention(exc):  # a write the services do not retry met a concurrent one: send it again
        exc = ConflictError(str(WRITE_CONFLICT), code="write_conflict")
    unavailable = as_service_unavailable(exc)
    if unavailable is not None:
        log_unavailable(context.get("request"), unavailable)
        exc = unavailable
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    elif isinstance(exc, DjangoValidationError):
        # Services raise Django's ValidationError (the admin understands it too).
        exc = exceptions.ValidationError(exc.message_dict if hasattr(exc, "error_dict") else exc.messages)
    if isinstance(exc, ConflictError):
        set_rollback()
        return Response(error_body(409, exc.code, str(exc.detail)) | exc.extra, status=409)
    if not isinstance(exc, exceptions.APIException):
        return None  # a real bug: Django's 500 handler answers, and the error is logged

    headers = {}
    if getattr(exc, "auth_header", None):
        headers["WWW-Authenticate"] = exc.auth_header
    if getattr(exc, "wait", None):
        headers["Retry-After"] = str(int(exc.wait) + (0 if exc.wait == int(exc.wait) else 1))
    if getattr(exc, "retry_after", None):
        headers["Retry-After"] = str(exc.retry_after)

    # DRF's own exceptions get the names above; our subclasses (InvalidCredentials, Conflict...)
    # keep the code they declare.
    code = _CODES.get(type(exc)) or getattr(exc.detail, "code", None) or exc.default_code
    if isinstance(exc, exceptions.ValidationError):
        body = error_body(
            exc.status_code, "validation_error", gettext("Invalid input."), _field_errors(exc.detail)
        )
    else:
        detail = exc.detail if isinstance(exc.detail, str) else str(exc.detail)
        body = error_body(exc.status_code, code, str(detail), getattr(exc, "field_errors", None))
    set_rollback()
    return Response(body, status=exc.status_code, headers=headers)


def _is_api_request(request: HttpRequest) -> bool:
    return request.path.startswith("/api/")


def json_not_found(request, exception=None):
    if _is_api_request(request):
        return JsonResponse(error_body(404, "not_found", gettext("Not found.")), status=404)
    from django.views.defaults import page_not_found

    return page_not_found(request, exception)


def _unavailable_page() -> str:
    return """<!doctype html>
<html lang="{lang}"><head><meta charset="utf-8"><title>{title}</title></head>
<body><h1>{title}</h1><p>{text}</p></body></html>
""".format(
        lang=get_language() or "en",
        title=gettext("Service unavailable"),
        text=gettext(
            "KeneyApp cannot reach a service it needs right now. Nothing was saved by this request. "
            "Please try again in a moment."
        ),
    )


def service_unavailable_response(request, unavailable: ServiceUnavailable) -> HttpResponse:
    """The 503 outside DRF's views: JSON in the error shape under /api/, a page elsewhere (admin)."""
    response: HttpResponse
    if _is_api_request(request):
        body = error_body(503, str(unavailable.get_codes()), str(unavailable.detail))
        response = JsonResponse(body, status=503)
    else:
        response = HttpResponse(_unavailable_page(), status=503, content_type="text/html; charset=utf-8")
    response["Retry-After"] = str(unavailable.retry_after)
    return response


def json_server_error(request):
    # Django calls this handler for any exception no view answered, middleware included (the
    # admin's session and user are read there), while the exception is being handled: an outage
    # is a 503, not a 500. Django's request logger records it as "Service Unavailable".
    # sys.exc_info() holds the exception because the middleware chain is synchronous (the project's
    # middleware is sync-only, under uvicorn too); an async chain would call this from another
    # thread without it, and tests/faults/test_database_restart.py would see the admin's 500.
    unavailable = as_service_unavailable(sys.exc_info()[1])
    if unavailable is not None:
        log_unavailable(request, unavailable)
        return service_unavailable_response(request, unavailable)
    if _is_api_request(request):
        return JsonResponse(error_body(500, "server_error", gettext("Internal server error.")), status=500)
    from django.views.defaults import server_error

    return server_error(request)


def api_route_not_found(request, *args, **kwargs):
    return JsonResponse(error_body(404, "not_found", gettext("No such API route.")), status=404)
