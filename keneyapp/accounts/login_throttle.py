"""Brute-force protection for the login endpoint.

Failed attempts are counted per username and per client address in fixed windows in the shared
cache (Redis in production, so every worker sees the same counts). Once either count reaches its
limit, every attempt for that username or from that address is answered 429 with Retry-After until
the window ends, even with the right password. Successful logins never count, so a clinic's staff
logging in at 8:00, or a load test logging in 200 users, is never throttled.
"""

import hashlib
import time
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache


@dataclass(frozen=True, slots=True)
class LoginLockout:
    retry_after_seconds: int


def client_address(request) -> str:
    """The client's IP: the socket peer, or the entry NUM_PROXIES hops back in X-Forwarded-For."""
    proxies = settings.NUM_PROXIES
    if proxies:
        forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
        forwarded = [part for part in forwarded if part]
        if len(forwarded) >= proxies:
            return forwarded[-proxies]
    return request.META.get("REMOTE_ADDR", "unknown")


def _window() -> tuple[int, int]:
    length = settings.LOGIN_FAILURE_WINDOW_SECONDS
    now = int(time.time())
    return now // length, length - now % length


def _keys(username: str, address: str, window: int) -> list[tuple[str, int]]:
    # Hash the username: keys are visible to anyone with Redis access, usernames are personal data.
    user_digest = hashlib.sha256(username.strip().lower().encode()).hexdigest()[:32]
    return [
        (f"login-fail:user:{user_digest}:{window}", settings.LOGIN_MAX_FAILURES_PER_USERNAME),
        (f"login-fail:addr:{address}:{window}", settings.LOGIN_MAX_FAILURES_PER_ADDRESS),
    ]


def check_login_allowed(username: str, address: str) -> LoginLockout | None:
    window, remaining = _window()
    keys = _keys(username, address, window)
    counts = cache.get_many([key for key, _ in keys])
    for key, limit in keys:
        if counts.get(key, 0) >= limit:
            return LoginLockout(retry_after_seconds=remaining)
    return None


def record_login_failure(username: str, address: str) -> None:
    window, remaining = _window()
    for key, _ in _keys(username, address, window):
        # add() then incr(): atomic on Redis, so concurrent failures are all counted.
        cache.add(key, 0, timeout=remaining + 1)
        try:
            cache.incr(key)
        except ValueError:  # expired between add and incr
            cache.add(key, 1, timeout=remaining + 1)
