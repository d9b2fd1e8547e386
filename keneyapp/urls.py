from django.contrib import admin
from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from keneyapp.accounts import admin_language, admin_mfa
from keneyapp.accounts.login_throttle import ThrottledAdminAuthenticationForm
from keneyapp.core import admin_autocomplete, errors, health

# The admin's login counts failures on the API login's counters: one lockout for both doors.
admin.site.login_form = ThrottledAdminAuthenticationForm

api_v1 = [
    path("", include("keneyapp.accounts.urls")),
    path("", include("patients.urls")),
    path("", include("appointments.urls")),
    path("", include("dashboard.urls")),
    path("", include("documents.urls")),
    path("", include("messaging.urls")),
]

urlpatterns = [
    path("api/v1/", include(api_v1)),
    # Anything else under /api/ is the API's JSON 404, in DEBUG too (never an HTML page).
    re_path(r"^api/v1/", errors.api_route_not_found),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    # The split view serves its start-up script from a URL, so the page needs no inline script (CSP).
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="schema"), name="api-docs"),
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    # The admin's login, in two steps for staff with a second factor, and the enrolment of one
    # (keneyapp/accounts/admin_mfa.py); before admin.site.urls, whose /admin/login/ this replaces.
    path("admin/login/", admin_mfa.staff_login, name="admin-login"),
    path("admin/login/code/", admin_mfa.code_step, name="admin-mfa-code"),
    path("admin/mfa/enrol/", admin_mfa.enrol, name="admin-mfa-enrol"),
    # Each member of staff's own language (keneyapp/accounts/admin_language.py).
    path("admin/language/", admin_language.choose_language, name="admin-language"),
    # Before admin.site.urls: the same view, whose results say which patient is which.
    path("admin/autocomplete/", admin_autocomplete.autocomplete, name="autocomplete"),
    path("admin/", admin.site.urls),
]

handler404 = "keneyapp.core.errors.json_not_found"
handler500 = "keneyapp.core.errors.json_server_error"
