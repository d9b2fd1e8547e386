from django.urls import path

from patients import api

urlpatterns = [
    path("patients", api.PatientListApi.as_view(), name="patient-list"),
    path("patients/<id:pk>", api.PatientDetailApi.as_view(), name="patient-detail"),
    path(
        "patients/<id:pk>/access-report",
        api.PatientAccessReportApi.as_view(),
        name="patient-access-report",
    ),
    path(
        "patients/<id:pk>/access-report.pdf",
        api.PatientAccessReportPdfApi.as_view(),
        name="patient-access-report-pdf",
    ),
]
