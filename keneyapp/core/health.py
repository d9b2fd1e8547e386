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
    """May this instance take traffic? 503 when the database fails: nothing works without it.

    The shared cache (Redis) is not a reason to leave the load balancer's rotation: every door
    answers without it (slower, uncached; docs/security.md, "Faults"), and since every instance
    shares the one Redis, a 503 here would take them all out at once and turn a degraded service
    into an outage. So with the cache down the answer is 200, `"status": "degraded"`, naming it.
    """
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
    if checks["database"] != "ok":
        return JsonResponse({"status": "unavailable", "checks": checks}, status=503)
    status = "ok" if checks["cache"] == "ok" else "degraded"
    return JsonResponse({"status": status, "checks": checks}, status=200)
