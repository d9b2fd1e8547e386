from django.urls import path

from keneyapp.accounts import api, audit_api

urlpatterns = [
    path("auth/login", api.LoginApi.as_view(), name="auth-login"),
    path("auth/mfa", api.MfaApi.as_view(), name="auth-mfa"),
    path("auth/refresh", api.RefreshApi.as_view(), name="auth-refresh"),
    path("auth/logout", api.LogoutApi.as_view(), name="auth-logout"),
    path("auth/me", api.MeApi.as_view(), name="auth-me"),
    path("audit", audit_api.AuditListApi.as_view(), name="audit-list"),
]
