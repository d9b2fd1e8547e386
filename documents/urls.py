from django.urls import path

from documents import api

urlpatterns = [
    path("documents", api.DocumentListApi.as_view(), name="document-list"),
    path("documents/upload", api.DocumentUploadApi.as_view(), name="document-upload"),
    path("documents/presign", api.DocumentPresignApi.as_view(), name="document-presign"),
    path("documents/<id:pk>", api.DocumentDetailApi.as_view(), name="document-detail"),
    path("documents/<id:pk>/confirm", api.DocumentConfirmApi.as_view(), name="document-confirm"),
    path("documents/<id:pk>/download", api.DocumentDownloadApi.as_view(), name="document-download"),
    path("documents/<id:pk>/versions", api.DocumentVersionsApi.as_view(), name="document-versions"),
    # Under /patients/ because it is about a patient; served by documents (patients imports no other app).
    path("patients/<id:pk>/report", api.PatientReportApi.as_view(), name="patient-report"),
]
