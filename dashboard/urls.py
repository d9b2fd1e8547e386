from django.urls import path

from keneyapp.dashboard import api

urlpatterns = [
    path("dashboard/stats", api.DashboardStatsApi.as_view(), name="dashboard-stats"),
]
