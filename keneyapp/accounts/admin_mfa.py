"""The admin's two-step login and the enrolment of a second factor (keneyapp/accounts/mfa.py).

- `/admin/login/` is the admin's own login page and form (ThrottledAdminAuthenticationForm: the
  lockout shared with the API). A right password of a user with a device logs nobody in: it starts
  an MfaChallenge, kept in the session, and sends them to `/admin/login/code/`, which logs them in
  once the code passes (TOTP or a recovery code). Failed codes count on the same counters.
- A user without a device logs in with the password alone. If they must have one (their clinic's
  setting for their role, a superuser, a reset), AdminSessionMiddleware sends every admin request
  to `/admin/mfa/enrol/` until they have enrolled: nothing else of the admin is reachable before.
- The session says it passed a second factor (MFA_VERIFIED). It needs no other bookkeeping: a
  session outlives no change of the second factor, since enrolling or resetting changes the
  credentials fingerprint the session's hash covers (the enrolling session itself is kept).
"""

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.auth import REDIRECT_FIELD_NAME, update_session_auth_hash
from django.contrib.auth import login as auth_login
from django.contrib.auth.views import LoginView
from django.http import HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.decorators import method_decorator
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.debug import sensitive_post_parameters

from keneyapp.accounts import login_throttle, mfa
from keneyapp.core import audit

MFA_PENDING = "keneyapp_mfa_pending"
MFA_VERIFIED = "keneyapp_mfa_verified"
# The id of the device this session started to enrol (mfa.enrolment_start): its key is shown to this
# session only, and only this session can confirm it.
MFA_ENROLLING = "keneyapp_mfa_enrolling"
LOG_IN_AGAIN = _("Your login took too long or too many codes were wrong. Please log in again.")


class CodeForm(forms.Form):
    code = forms.CharField(
        label=_("Code"),
        max_length=64,
        help_text=_("The 6 digits your authenticator app shows, or one of your recovery codes."),
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "autofocus": True}),
    )


def _admin_context(request, title: str) -> dict:
    return {**admin.site.each_context(request), "title": title, "subtitle": None}


@method_decorator(sensitive_post_parameters(), name="dispatch")
class StaffLoginView(LoginView):
    def form_valid(self, form):
        user = form.get_user()
        if mfa.has_second_factor(user):
            issued = mfa.challenge_issue(user)
            self.request.session[MFA_PENDING] = {"token": issued.token, "next": self.get_success_url()}
            return HttpResponseRedirect(reverse("admin-mfa-code"))
        # A password-only login: AdminSessionMiddleware asks whoever must enrol to do so first.
        return super().form_valid(form)


def staff_login(request):
    """admin.site.login, with StaffLoginView instead of LoginView (Django's AdminSite.login)."""
    if request.method == "GET" and admin.site.has_permission(request):
        return HttpResponseRedirect(reverse("admin:index"))
    context = {
        **_admin_context(request, gettext("Log in")),
        "app_path": request.get_full_path(),
        "username": request.user.get_username(),
    }
    if REDIRECT_FIELD_NAME not in request.GET and REDIRECT_FIELD_NAME not in request.POST:
        context[REDIRECT_FIELD_NAME] = reverse("admin:index")
    request.current_app = admin.site.name
    return StaffLoginView.as_view(
        extra_context=context,
        authentication_form=admin.site.login_form,
        template_name="admin/login.html",
    )(request)


@sensitive_post_parameters("code")
@csrf_protect
@never_cache
def code_step(request):
    """The login's second step: the code of the user whose password was right."""
    pending = request.session.get(MFA_PENDING)
    if not isinstance(pending, dict):
        return HttpResponseRedirect(reverse("admin:login"))
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        address = login_throttle.client_address(request)
        lockout = login_throttle.check_login_allowed(mfa.challenge_username(pending["token"]), address)
        if lockout is not None:
            minutes = max(1, -(-lockout.retry_after_seconds // 60))
            form.add_error(
                None,
                ngettext(
                    "Too many failed logins; try again in %(minutes)d minute.",
                    "Too many failed logins; try again in %(minutes)d minutes.",
                    minutes,
                )
                % {"minutes": minutes},
            )
        else:
            try:
                # A door for the recovery code's audit event (keneyapp/accounts/mfa_audit.py): nobody
                # is signed in yet, so AdminAuditMiddleware opened none.
                with audit.open_trail(audit.Door.ADMIN, address=address, route="admin-mfa-code"):
                    user = mfa.challenge_complete(mfa_token=pending["token"], code=form.cleaned_data["code"])
            except mfa.MfaFailed as failed:
                login_throttle.record_login_failure(failed.username, address)
                if failed.reason == "token":
                    del request.session[MFA_PENDING]
                    messages.error(request, LOG_IN_AGAIN)
                    return HttpResponseRedirect(reverse("admin:login"))
                form.add_error("code", gettext("This code is not valid, or was already used."))
            else:
                del request.session[MFA_PENDING]
                auth_login(request, user, backend=settings.AUTHENTICATION_BACKENDS[0])
                request.session[MFA_VERIFIED] = True
                return HttpResponseRedirect(pending.get("next") or reverse("admin:index"))
    context = {**_admin_context(request, gettext("Two-factor login")), "form": form}
    return render(request, "accounts/mfa_code.html", context)


@sensitive_post_parameters("code")
@csrf_protect
@never_cache
def enrol(request):
    """Enrol an authenticator app: scan the QR code, confirm with a first code, keep the recovery
    codes (shown this once)."""
    user = request.user
    if not (user.is_authenticated and user.is_active and user.is_staff):
        return HttpResponseRedirect(f"{reverse('admin:login')}?{REDIRECT_FIELD_NAME}={request.path}")
    if mfa.has_second_factor(user):
        return render(
            request, "accounts/mfa_enrolled.html", _admin_context(request, gettext("Two-factor login"))
        )
    device = mfa.enrolment_device(user, request.session.get(MFA_ENROLLING))
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid() and device is not None:
        codes = mfa.enrolment_confirm(user=user, device_id=device.pk, code=form.cleaned_data["code"])
        if codes is not None:
            del request.session[MFA_ENROLLING]
            # Enrolling ended every other session and token of the user; this one stays, verified.
            update_session_auth_hash(request, user)
            request.session[MFA_VERIFIED] = True
            context = {**_admin_context(request, gettext("Your recovery codes")), "codes": codes}
            return render(request, "accounts/mfa_recovery_codes.html", context)
        form.add_error(
            "code", gettext("This code does not match: check the app shows KeneyApp, then try the next code.")
        )
    elif request.method == "POST" and device is None:
        form.add_error("code", gettext("This setup was replaced: scan the new QR code, then enter its code."))
    if device is None:
        device = mfa.enrolment_start(user)
        request.session[MFA_ENROLLING] = device.pk
    context = {
        **_admin_context(request, gettext("Set up two-factor login")),
        "form": form,
        "qr_svg": mfa.enrolment_qr_svg(device),
        "secret": mfa.enrolment_secret(device),
        "required": mfa.mfa_required(user),
    }
    return render(request, "accounts/mfa_enrol.html", context)


def enrolment_redirect(request):
    """For AdminSessionMiddleware: where a signed-in admin request must go first, or None. A user
    who must have a second factor and whose session did not pass one has none (a session outlives
    no enrolment: module docstring), so they enrol before anything else."""
    if request.session.get(MFA_VERIFIED) or not mfa.mfa_required(request.user):
        return None
    if request.path in {reverse("admin-mfa-enrol"), reverse("admin:logout"), reverse("admin:login")}:
        return None
    return HttpResponseRedirect(reverse("admin-mfa-enrol"))
