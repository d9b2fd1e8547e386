"""Brute-force protection for every password and second-factor check: the API's login and MFA
step, and the admin's login page and code step.

Failed attempts are counted per username and per client address in fixed windows in the shared
cache (Redis in production, so every worker, and both doors, see the same counts: a lockout earned
at the API applies in the admin and the reverse). Once either count reaches its limit, every
attempt for that username or from that address is refused (429 with Retry-After at the API, a form
error in the admin) until the window ends, even with the right password. Successful logins never
count, so a clinic's staff logging in at 8:00, or a load test logging in 200 users, is never
throttled.

When the shared cache does not answer, the counts live in this process until it answers again: a
login still gets an answer (never a 500) and is still throttled, per process.
"""

import hashlib
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from time import monotonic
from typing import Any

from django.conf import settings
from django.contrib.admin.forms import AdminAuthenticationForm
from django.core.cache import cache
from django.core.cache.backends.base import BaseCache
from django.core.cache.backends.locmem import LocMemCache
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy

from keneyapp.core.caching.service import UNAVAILABLE_ERRORS
from keneyapp.core.network import client_address

logger = logging.getLogger("keneyapp.login_throttle")

# After the shared cache failed, leave it alone this long (each failed call costs a connect
# timeout), then try it again.
SHARED_CACHE_RETRY_SECONDS = 2.0

# This process's counts while the shared cache is unreachable.
_local_counts = LocMemCache("keneyapp-login-throttle", {"OPTIONS": {"MAX_ENTRIES": 10_000}})
_shared_down_until = 0.0
_state_lock = threading.Lock()


@dataclass(frozen=True, slots=True)
class LoginLockout:
    retry_after_seconds: int


def _window() -> tuple[int, int]:
    length = settings.LOGIN_FAILURE_WINDOW_SECONDS
    now = int(time.time())
    return now // length, length - now % length


def _keys(username: str | None, address: str, window: int) -> list[tuple[str, int]]:
    """The counters an attempt is checked and counted on. No username: an attempt that names no
    account (an unknown or expired mfa_token) counts on its address alone."""
    keys = [(f"login-fail:addr:{address}:{window}", settings.LOGIN_MAX_FAILURES_PER_ADDRESS)]
    if username is not None:
        # Hash the username: keys are visible to anyone with Redis access, usernames are personal data.
        user_digest = hashlib.sha256(username.strip().lower().encode()).hexdigest()[:32]
        keys.insert(0, (f"login-fail:user:{user_digest}:{window}", settings.LOGIN_MAX_FAILURES_PER_USERNAME))
    return keys


def _with_counts(operation: Callable[[BaseCache], Any]) -> Any:
    """Run `operation` on the shared cache, or on this process's counts while it is unreachable."""
    global _shared_down_until
    if monotonic() >= _shared_down_until:
        try:
            return operation(cache)
        except UNAVAILABLE_ERRORS:
            with _state_lock:
                if monotonic() >= _shared_down_until:
                    logger.warning("login throttle: shared cache unreachable; counting in this process")
                _shared_down_until = monotonic() + SHARED_CACHE_RETRY_SECONDS
    return operation(_local_counts)


def check_login_allowed(username: str | None, address: str) -> LoginLockout | None:
    window, remaining = _window()
    keys = _keys(username, address, window)
    counts = _with_counts(lambda store: store.get_many([key for key, _ in keys]))
    for key, limit in keys:
        if counts.get(key, 0) >= limit:
            return LoginLockout(retry_after_seconds=remaining)
    return None


def record_login_failure(username: str | None, address: str) -> None:
    """Count a failed password or second-factor code (module docstring)."""
    window, remaining = _window()

    def count(store: BaseCache) -> None:
        for key, _ in _keys(username, address, window):
            # add() then incr(): atomic on Redis, so concurrent failures are all counted.
            store.add(key, 0, timeout=remaining + 1)
            try:
                store.incr(key)
            except ValueError:  # expired between add and incr
                store.add(key, 1, timeout=remaining + 1)

    _with_counts(count)


class ThrottledAdminAuthenticationForm(AdminAuthenticationForm):
    """The admin's login form on the same counters as the API's login (see the module's docstring),
    refusing, like the API, staff whose clinic is closed."""

    error_messages = {
        **AdminAuthenticationForm.error_messages,
        "throttled": gettext_lazy("Too many failed logins; try again in %(minutes)s minutes."),
        "clinic_inactive": gettext_lazy("This clinic's account is closed."),
    }

    def clean(self):
        username, password = self.cleaned_data.get("username"), self.cleaned_data.get("password")
        if username is None or not password:
            return super().clean()
        address = client_address(self.request)
        lockout = check_login_allowed(username, address)
        if lockout is not None:
            minutes = max(1, -(-lockout.retry_after_seconds // 60))
            raise ValidationError(
                self.error_messages["throttled"], code="throttled", params={"minutes": minutes}
            )
        try:
            return super().clean()
        except ValidationError as refused:
            if refused.code == "invalid_login":
                record_login_failure(username, address)
            raise

    def confirm_login_allowed(self, user):
        super().confirm_login_allowed(user)
        if user.tenant_id is not None and not user.tenant.is_active:
            raise ValidationError(self.error_messages["clinic_inactive"], code="clinic_inactive")
