"""The admin shows and reads date-times in the signed-in staff member's clinic time zone."""

from datetime import UTC, datetime

import pytest
from django.contrib.auth.models import AnonymousUser
from django.http import HttpResponse
from django.test import RequestFactory
from django.utils import timezone

from appointments.models import Appointment
from keneyapp.accounts.roles import Role
from keneyapp.core.middleware import ClinicTimezoneMiddleware
from keneyapp.core.scoping import scopes_disabled
from tests.factories import AppointmentFactory, PatientFactory, TenantFactory, UserFactory

from .conftest import ADD, CHANGELIST, change_url


@pytest.fixture
def paris(db):
    return TenantFactory(name="Clinique Lumière", slug="lumiere", timezone="Europe/Paris")


@pytest.fixture
def paris_doctor(paris):
    return UserFactory(tenant=paris, role=Role.DOCTOR, username="pierre")


def test_winter_appointment_at_9_utc_is_shown_at_10_in_paris(browser, paris, paris_doctor):
    appointment = AppointmentFactory(tenant=paris, appointment_date=datetime(2030, 1, 7, 9, 0, tzinfo=UTC))

    response = browser(paris_doctor).get(change_url(appointment))

    assert response.status_code == 200
    html = response.content.decode()
    assert 'name="appointment_date_1" value="10:00:00"' in html
    assert 'name="appointment_date_1" value="09:00:00"' not in html
    assert 'name="appointment_date_0" value="2030-01-07"' in html


def test_summer_appointment_at_9_utc_is_shown_at_11_in_paris(browser, paris, paris_doctor):
    appointment = AppointmentFactory(tenant=paris, appointment_date=datetime(2030, 7, 1, 9, 0, tzinfo=UTC))

    html = browser(paris_doctor).get(change_url(appointment)).content.decode()

    assert 'name="appointment_date_1" value="11:00:00"' in html


def test_the_same_instant_is_shown_in_each_clinics_own_zone(browser, paris, paris_doctor, clinic, doctor):
    # Dakar is on UTC all year.
    in_paris = AppointmentFactory(tenant=paris, appointment_date=datetime(2030, 1, 7, 9, 0, tzinfo=UTC))
    in_dakar = AppointmentFactory(tenant=clinic, appointment_date=datetime(2030, 1, 7, 9, 0, tzinfo=UTC))

    paris_html = browser(paris_doctor).get(change_url(in_paris)).content.decode()
    dakar_html = browser(doctor).get(change_url(in_dakar)).content.decode()

    assert 'name="appointment_date_1" value="10:00:00"' in paris_html
    assert 'name="appointment_date_1" value="09:00:00"' in dakar_html


def test_changelist_shows_clinic_local_time(browser, paris, paris_doctor):
    AppointmentFactory(tenant=paris, appointment_date=datetime(2030, 1, 7, 9, 0, tzinfo=UTC))

    html = browser(paris_doctor).get(CHANGELIST).content.decode()

    assert "Jan. 7, 2030, 10 a.m." in html
    assert "9 a.m." not in html


def test_a_time_typed_in_the_admin_is_read_in_the_clinics_zone(browser, paris, paris_doctor):
    patient = PatientFactory(tenant=paris)

    response = browser(paris_doctor).post(
        ADD,
        {
            "patient": patient.pk,
            "provider": "",
            "appointment_date_0": "2030-01-07",
            "appointment_date_1": "10:00:00",
            "duration_minutes": 30,
            "status": "scheduled",
            "reason": "",
            "notes": "",
            "cancellation_reason": "",
            "_save": "Save",
        },
    )

    assert response.status_code == 302, response.context["adminform"].form.errors
    with scopes_disabled():
        assert Appointment.objects.get(patient=patient).appointment_date == datetime(
            2030, 1, 7, 9, 0, tzinfo=UTC
        )


def zone_seen_by_view(path: str, user) -> str:
    """The current time zone a view under ClinicTimezoneMiddleware sees for that path and user."""
    request = RequestFactory().get(path)
    request.user = user
    middleware = ClinicTimezoneMiddleware(lambda request: HttpResponse(timezone.get_current_timezone_name()))
    return middleware(request).content.decode()


def test_middleware_sets_the_clinic_zone_only_in_the_admin(paris_doctor):
    assert zone_seen_by_view("/admin/appointments/appointment/", paris_doctor) == "Europe/Paris"
    assert zone_seen_by_view("/api/v1/appointments", paris_doctor) == "UTC"
    # And the zone does not leak into the next request.
    assert timezone.get_current_timezone_name() == "UTC"


def test_middleware_leaves_superusers_and_anonymous_in_utc(db):
    root = UserFactory(username="root", tenant=None, role="", is_superuser=True, is_staff=True)

    assert zone_seen_by_view("/admin/", root) == "UTC"
    assert zone_seen_by_view("/admin/", AnonymousUser()) == "UTC"
