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


def scope_client_address(scope: dict) -> str:
    """The same for an ASGI scope (a websocket): its peer, or its X-Forwarded-For entry."""
    meta = {"REMOTE_ADDR": (scope.get("client") or ("unknown",))[0]}
    for name, value in scope.get("headers") or ():
        if name == b"x-forwarded-for":
            meta["HTTP_X_FORWARDED_FOR"] = value.decode("latin-1")

    class _Request:
        META = meta

    return client_address(_Request)
