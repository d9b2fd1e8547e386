"""The guide's endpoint monitoring and response compression; the admin's clinic time zone and
clinic scope."""

import logging
import time
from contextlib import nullcontext
from zoneinfo import ZoneInfo

from django.conf import settings
from django.middleware.gzip import GZipMiddleware
from django.utils import timezone
from django.utils.cache import add_never_cache_headers
from django_scopes.state import state as scope_state

from keneyapp.core import audit
from keneyapp.core.errors import log_unavailable, service_unavailable_response
from keneyapp.core.network import client_address
from keneyapp.core.scoping import UnscopedQuery, log_unscoped_query, scope, scopes_disabled

logger = logging.getLogger("keneyapp.slow_request")


class ProcessTimeMiddleware:
    """Adds `X-Process-Time` (seconds) to every response; logs requests over SLOW_REQUEST_SECONDS."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        started = time.perf_counter()
        response = self.get_response(request)
        elapsed = time.perf_counter() - started
        response["X-Process-Time"] = f"{elapsed:.6f}"
        if elapsed >= settings.SLOW_REQUEST_SECONDS:
            # The path only: query strings can carry search terms typed about a patient.
            logger.warning(
                "slow request %.3fs: %s %s -> %s",
                elapsed,
                request.method,
                request.path,
                response.status_code,
            )
        return response


class ClinicTimezoneMiddleware:
    """The admin shows and reads date-times in the signed-in staff member's clinic time zone."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if (
            request.path.startswith("/admin/")
            and user is not None
            and user.is_authenticated
            and user.tenant_id
        ):
            with timezone.override(ZoneInfo(user.tenant.timezone)):
                return self.get_response(request)
        return self.get_response(request)


class ClinicScopeMiddleware:
    """The admin's door into the clinic scope (after AuthenticationMiddleware).

    Every request starts with no scope, whatever the thread or the caller held before (a test body
    in `scopes_disabled()`, a scope an earlier request on this thread failed to leave), so only the
    request's own door decides. Admin requests: clinic staff work in their clinic's scope,
    superusers with scopes disabled (the platform's operators; TenantScopedAdmin gives them the
    clinic filter); anonymous ones (the login page) in none. API requests enter their scope in the
    base API view, after the bearer token is authenticated (keneyapp.core.views.ClinicApiView).
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        token = scope_state.set(None)
        try:
            with self._clinic_scope(request):
                return self.get_response(request)
        finally:
            scope_state.reset(token)

    @staticmethod
    def _clinic_scope(request):
        if not request.path.startswith("/admin/"):
            return nullcontext()
        user = request.user
        if not (user.is_authenticated and user.is_active):
            return nullcontext()
        if user.is_superuser:
            return scopes_disabled()  # platform administration spans clinics
        if user.tenant_id is not None:
            return scope(tenant=user.tenant_id)
        return nullcontext()

    def process_exception(self, request, exception):
        if isinstance(exception, UnscopedQuery):
            log_unscoped_query(exception, door=f"{request.method} {request.path}")


class AdminAuditMiddleware:
    """The admin's audit door (keneyapp.core.audit), after the clinic scope: a signed-in member of
    staff's admin request gets a trail; the model admins record into it (TenantScopedAdmin) and
    store their writes' events inside the write's transaction; the rest (lists, change pages,
    downloads, refusals) is stored here in one INSERT before the page leaves. A trail that cannot
    be stored is a 503 page instead of the data."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if not request.path.startswith("/admin/") or user is None or not user.is_authenticated:
            return self.get_response(request)
        with audit.open_trail(
            audit.Door.ADMIN, user=user, address=client_address(request), method=request.method or ""
        ) as trail:
            response = self.get_response(request)
            if trail is None:
                return response
            if trail.route == "autocomplete" and response.status_code == 200:
                self._audit_autocomplete(request, response)
            try:
                trail.flush()
            except audit.AuditUnavailable as refused:
                return self._unavailable(request, refused, response)
            return response

    def process_view(self, request, view_func, view_args, view_kwargs):
        trail = audit.current()
        if trail is not None and request.resolver_match is not None:
            trail.route = request.resolver_match.url_name or ""

    @staticmethod
    def _audit_autocomplete(request, response) -> None:
        """The admin's autocomplete (an appointment's patient field) lists patients by name: the
        patients it suggested are recorded as a list, like a changelist's page."""
        import json

        from django.apps import apps
        from django.contrib import admin

        try:
            source = apps.get_model(request.GET["app_label"], request.GET["model_name"])
            target = source._meta.get_field(request.GET["field_name"]).remote_field.model
            results = json.loads(response.content)["results"]
        except (KeyError, LookupError, AttributeError, ValueError):
            return  # Django's view answered something else (it refuses bad parameters itself)
        if getattr(admin.site._registry.get(target), "audit_patient", None) != "pk":
            return  # not patients (a provider): no patient data
        audit.record(
            audit.Action.LIST,
            target,
            patient_ids=[item.get("id") for item in results],
            params=[name for name in request.GET if name != "page"],
        )

    def process_exception(self, request, exception):
        if isinstance(exception, audit.AuditUnavailable):
            return self._unavailable(request, exception)
        return None

    def _unavailable(self, request, refused: audit.AuditUnavailable, response=None):
        stream = getattr(response, "file_to_stream", None)
        if stream is not None:
            stream.close()  # a download's open file (not response.close(): see ClinicApiView)
        # The project's one 503 (keneyapp.core.errors): the outage page and its Retry-After.
        unavailable = refused.as_service_unavailable()
        log_unavailable(request, unavailable)  # as every 503 of the project
        return service_unavailable_response(request, unavailable)


class MinimumSizeGZipMiddleware(GZipMiddleware):
    """Django's gzip middleware with the guide's threshold (GZIP_MIN_BYTES, default 1,000 bytes).

    Below that size, compressing costs more CPU than the bytes it saves.
    """

    def process_response(self, request, response):
        if not response.streaming and len(response.content) < settings.GZIP_MIN_BYTES:
            return response
        return super().process_response(request, response)


class NoStoreMiddleware:
    """API answers and admin pages carry patient data: no browser, proxy or CDN may keep a copy
    (`Cache-Control: no-store`, with Django's never-cache companions)."""

    PREFIXES = ("/api/", "/admin/")

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if request.path.startswith(self.PREFIXES):
            add_never_cache_headers(response)
        return response
