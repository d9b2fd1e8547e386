from django.urls import path

from appointments import api

urlpatterns = [
    path("appointments", api.AppointmentListApi.as_view(), name="appointment-list"),
    path("appointments/availability", api.AvailabilityApi.as_view(), name="appointment-availability"),
    path("appointments/<id:pk>", api.AppointmentDetailApi.as_view(), name="appointment-detail"),
    path("appointments/<id:pk>/cancel", api.AppointmentCancelApi.as_view(), name="appointment-cancel"),
    path("patients/<id:pk>/appointments", api.PatientAppointmentsApi.as_view(), name="patient-appointments"),
]
