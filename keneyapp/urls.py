from django.contrib import admin
from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from keneyapp.accounts.login_throttle import ThrottledAdminAuthenticationForm
from keneyapp.core import errors, health

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
    path("admin/", admin.site.urls),
]

handler404 = "keneyapp.core.errors.json_not_found"
handler500 = "keneyapp.core.errors.json_server_error"
