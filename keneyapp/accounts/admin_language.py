"""`/admin/language/`: every member of staff chooses the language they read KeneyApp in.

Their choice is saved on their account (`User.language`, which the API and emails follow) and set
as Django's language cookie, which comes first for this browser (keneyapp/core/language.py: the
browser's preference, then the user's setting, then the clinic's default). "Clinic default"
clears both. A clinic administrator sets the clinic's default on the clinic's page; a user's own
setting is also on their page in *Users*.
"""

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.auth import REDIRECT_FIELD_NAME
from django.http import HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import translation
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect

from keneyapp.accounts import services
from keneyapp.accounts.models import LANGUAGE_CHOICES
from keneyapp.core import audit
from keneyapp.core.language import language_for


class LanguageForm(forms.Form):
    language = forms.ChoiceField(
        label=_("Language"),
        choices=[("", _("The clinic's default")), *LANGUAGE_CHOICES],
        required=False,
        help_text=_("The language of the admin, the API's messages and the emails you receive."),
    )


def _next_url(request) -> str:
    target = request.POST.get(REDIRECT_FIELD_NAME) or request.GET.get(REDIRECT_FIELD_NAME) or ""
    if url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}, require_https=False):
        return target
    return reverse("admin:index")


@csrf_protect
@never_cache
def choose_language(request):
    user = request.user
    if not (user.is_authenticated and user.is_active and user.is_staff):
        return HttpResponseRedirect(f"{reverse('admin:login')}?{REDIRECT_FIELD_NAME}={request.path}")
    form = LanguageForm(request.POST or None, initial={"language": user.language})
    if request.method == "POST" and form.is_valid():
        chosen = form.cleaned_data["language"]
        services.user_set_language(user=user, language=chosen)
        audit.record(audit.Action.CHANGE, user, object_id=user.pk, fields=["language"])
        shown = chosen or language_for(user)
        with translation.override(shown):
            messages.success(request, gettext("Your language is saved."))
        response = HttpResponseRedirect(_next_url(request))
        if chosen:
            response.set_cookie(
                settings.LANGUAGE_COOKIE_NAME,
                chosen,
                max_age=settings.LANGUAGE_COOKIE_AGE,
                samesite=settings.LANGUAGE_COOKIE_SAMESITE or "Lax",
                secure=settings.SESSION_COOKIE_SECURE,
                httponly=True,
            )
        else:
            response.delete_cookie(settings.LANGUAGE_COOKIE_NAME)
        return response
    context = {
        **admin.site.each_context(request),
        "title": gettext("Language"),
        "subtitle": None,
        "form": form,
        REDIRECT_FIELD_NAME: _next_url(request),
    }
    return render(request, "accounts/language.html", context)
