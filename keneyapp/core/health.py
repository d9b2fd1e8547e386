"""Liveness and readiness for load balancers and orchestrators (plain Django views: no auth)."""

import logging
import uuid

from django.core.cache import cache
from django.db import connection
from django.http import JsonResponse
from django.views.decorators.http import require_GET

logger = logging.getLogger("keneyapp.health")


@require_GET
def healthz(request):
    """The process answers. Touches nothing else, so a slow database never restarts web workers."""
    return JsonResponse({"status": "ok"})


@require_GET
def readyz(request):
    """Database and cache reachable: the instance may take traffic. 503 names what failed."""
    checks = {"database": "ok", "cache": "ok"}
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:  # any failure means not ready; the reason goes to the log
        logger.warning("readyz: database unreachable: %s", exc)
        checks["database"] = "unavailable"
    try:
        probe = f"readyz:{uuid.uuid4().hex}"
        cache.set(probe, 1, timeout=5)
        if cache.get(probe) != 1:
            raise RuntimeError("cache did not return the value it was given")
        cache.delete(probe)
    except Exception as exc:
        logger.warning("readyz: cache unreachable: %s", exc)
        checks["cache"] = "unavailable"
    ready = all(value == "ok" for value in checks.values())
    return JsonResponse(
        {"status": "ok" if ready else "unavailable", "checks": checks}, status=200 if ready else 503
    )
