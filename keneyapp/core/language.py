"""Which language a person reads KeneyApp in (docs/architecture.md, "Languages").

The order, first match wins:

1. the browser's preference, for a request: Django's language cookie, then Accept-Language;
2. the user's own setting (`User.language`, blank = none);
3. the clinic's default (`Tenant.default_language`);
4. English (settings.LANGUAGE_CODE).

Requests: `UserLanguageMiddleware` (the admin, whose user is known in middleware) and
`keneyapp.core.views.ClinicApiView.initial` (the API, whose bearer token DRF checks in the view)
activate `language_for_request(request, user)`.

Everything sent outside a request (emails, Celery tasks) has no browser: it follows the recipient's
setting, then their clinic's. Build the message inside an override, so every gettext, template and
date format on the way speaks the recipient's language:

    from django.utils import translation
    from keneyapp.core.language import language_for

    with translation.override(language_for(recipient)):
        subject = gettext("Your appointment tomorrow")
        body = render_to_string("appointments/reminder.txt", context)
    send_mail(subject, body, None, [recipient.email])

`core` knows no account module (the layers): the user and clinic are read by attribute, so any
object with `language` and `tenant.default_language` (or none) works.
"""

from typing import Any

from django.conf import settings
from django.utils import translation
from django.utils.cache import patch_vary_headers
from django.utils.translation.trans_real import parse_accept_lang_header

# The languages KeneyApp speaks (settings.LANGUAGES): codes only, so models can name them
# without importing settings at class definition.
SUPPORTED = ("en", "fr")
DEFAULT = "en"


def supported(code: str | None) -> str:
    """`code` ("fr", "fr-FR", "FR") as one of SUPPORTED, or "" when KeneyApp does not speak it."""
    if not code:
        return ""
    base = str(code).strip().lower().replace("_", "-").split("-")[0]
    return base if base in SUPPORTED else ""


def clinic_language(tenant: Any) -> str:
    """The clinic's default language, or "" for no clinic (a platform superuser)."""
    return supported(getattr(tenant, "default_language", "")) if tenant is not None else ""


def language_for(user: Any, *, clinic: Any = None) -> str:
    """The language to write to `user` in when no browser says otherwise (emails, tasks): their own
    setting, else their clinic's default, else English. Anonymous or None: English.

    Any recipient works: a patient (no setting of their own) gets their clinic's default. `clinic`
    names the clinic when the caller has it joined already (saves loading `user.tenant`)."""
    if user is None or getattr(user, "is_anonymous", False):
        return DEFAULT
    own = supported(getattr(user, "language", ""))
    if own:
        return own
    if clinic is None and getattr(user, "tenant_id", None):
        clinic = user.tenant
    return clinic_language(clinic) or DEFAULT


def browser_language(request: Any) -> str:
    """The language the browser asks for (language cookie, then Accept-Language), or ""."""
    cookies = getattr(request, "COOKIES", {}) or {}
    cookie = supported(cookies.get(settings.LANGUAGE_COOKIE_NAME))
    if cookie:
        return cookie
    header = request.META.get("HTTP_ACCEPT_LANGUAGE", "") if hasattr(request, "META") else ""
    for code, _quality in parse_accept_lang_header(header):
        if code == "*":
            continue
        found = supported(code)
        if found:
            return found
    return ""


def language_for_request(request: Any, user: Any = None) -> str:
    """The language of the answer to `request`: the browser's, else `language_for(user)`."""
    return browser_language(request) or language_for(user)


def activate_for_request(request: Any, user: Any = None) -> str:
    """Activates the request's language (see the order above) and notes it on the request."""
    code = language_for_request(request, user)
    translation.activate(code)
    request.LANGUAGE_CODE = code
    return code


class UserLanguageMiddleware:
    """Activates each request's language, after AuthenticationMiddleware (so an admin session's user
    and clinic count); the API's bearer-token users are only known in the view, which activates the
    language again (ClinicApiView.initial). Adds `Content-Language` and `Vary: Accept-Language,
    Cookie`, as Django's LocaleMiddleware does, so no cache mixes languages."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        activate_for_request(request, getattr(request, "user", None))
        try:
            response = self.get_response(request)
            response.headers.setdefault("Content-Language", translation.get_language() or DEFAULT)
            patch_vary_headers(response, ("Accept-Language", "Cookie"))
            return response
        finally:
            translation.deactivate()
