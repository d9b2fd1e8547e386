"""The client's address, for the login throttle and the audit trail alike."""

from django.conf import settings


def client_address(request) -> str:
    """The client's IP: the socket peer, or the entry NUM_PROXIES hops back in X-Forwarded-For."""
    proxies = settings.NUM_PROXIES
    if proxies:
        forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
        forwarded = [part for part in forwarded if part]
        if len(forwarded) >= proxies:
            return forwarded[-proxies]
    return request.META.get("REMOTE_ADDR", "unknown")
