from django.urls import path

from patients import api

urlpatterns = [
    path("patients", api.PatientListApi.as_view(), name="patient-list"),
    path("patients/<id:pk>", api.PatientDetailApi.as_view(), name="patient-detail"),
]
