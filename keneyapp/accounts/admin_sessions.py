"""Admin sessions end on their own: automatic logoff (HIPAA 164.312(a)(2)(iii)); and a user who must
have a second factor and has none is sent to enrol it first (keneyapp/accounts/admin_mfa.py).

A session of the admin ends after ADMIN_IDLE_TIMEOUT_SECONDS without a request, after
ADMIN_SESSION_MAX_SECONDS since login however active, and when the staff member's clinic is closed.
The next admin request after that logs the user out and sends them to the login page, which says
why. (The API's tokens expire on their own and are refused for a closed clinic:
keneyapp/accounts/authentication.py.)

Cheap: the session stores when the login began and when its user was last seen; the last-seen mark
is rewritten at most once a minute (LAST_SEEN_RESOLUTION_SECONDS), so a busy admin page does not
write its session on every request. The mark may thus lag the last request by up to a minute: an
idle session ends up to a minute early, never late.
"""

import time

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout, user_logged_in
from django.contrib.auth.views import redirect_to_login
from django.dispatch import receiver
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from keneyapp.accounts.admin_mfa import enrolment_redirect

STARTED_AT = "keneyapp_admin_started_at"
LAST_SEEN_AT = "keneyapp_admin_last_seen_at"
LAST_SEEN_RESOLUTION_SECONDS = 60

IDLE = _("Your session ended after %(minutes)s minutes without activity. Please log in again.")
TOO_OLD = _("Your session ended after %(hours)s hours. Please log in again.")
CLINIC_CLOSED = _("Your session ended: this clinic's account is closed.")


def now() -> float:
    return time.time()


@receiver(user_logged_in, dispatch_uid="keneyapp.accounts.admin_sessions.logged_in")
def _stamp_login(sender, request, user, **kwargs) -> None:
    if request is not None and hasattr(request, "session"):
        moment = int(now())
        request.session[STARTED_AT] = moment
        request.session[LAST_SEEN_AT] = moment


def session_end_reason(request) -> str | None:
    """Why this signed-in admin request's session must end now, or None (and keep it alive)."""
    user = request.user
    if user.tenant_id is not None and not user.tenant.is_active:
        return str(CLINIC_CLOSED)
    session = request.session
    moment = int(now())
    # A session from before these marks existed (or a login that bypassed the signal) starts now.
    started = session.setdefault(STARTED_AT, moment)
    last_seen = session.setdefault(LAST_SEEN_AT, moment)
    if moment - started >= settings.ADMIN_SESSION_MAX_SECONDS:
        return TOO_OLD % {"hours": _rounded(settings.ADMIN_SESSION_MAX_SECONDS / 3600)}
    if moment - last_seen >= settings.ADMIN_IDLE_TIMEOUT_SECONDS:
        return IDLE % {"minutes": _rounded(settings.ADMIN_IDLE_TIMEOUT_SECONDS / 60)}
    if moment - last_seen >= LAST_SEEN_RESOLUTION_SECONDS:
        session[LAST_SEEN_AT] = moment
    return None


def _rounded(value: float) -> str:
    return f"{value:g}"


class AdminSessionMiddleware:
    """Ends admin sessions that are idle, too old, or of a closed clinic's staff, and sends those who
    must enrol a second factor to its page (module docstring).
    After AuthenticationMiddleware and MessageMiddleware."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path.startswith("/admin/") and request.user.is_authenticated:
            reason = session_end_reason(request)
            if reason is not None:
                logout(request)
                messages.warning(request, reason)
                return redirect_to_login(request.get_full_path(), reverse("admin:login"))
            # Who must have a second factor and has none enrols before anything else.
            enrol_first = enrolment_redirect(request)
            if enrol_first is not None:
                return enrol_first
        return self.get_response(request)
