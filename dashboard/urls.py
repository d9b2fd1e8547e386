from django.urls import path

from dashboard import api

urlpatterns = [
    path("dashboard/stats", api.DashboardStatsApi.as_view(), name="dashboard-stats"),
]
