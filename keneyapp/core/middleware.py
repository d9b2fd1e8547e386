"""The guide's endpoint monitoring and response compression."""

import logging
import time
from zoneinfo import ZoneInfo

from django.conf import settings
from django.middleware.gzip import GZipMiddleware
from django.utils import timezone
from django.utils.cache import add_never_cache_headers

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
