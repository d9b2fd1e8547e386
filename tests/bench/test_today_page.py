"""bench/today_page.py books its day of 200 appointments (once) and times the page it renders."""

import pytest

from appointments.models import Appointment
from bench import today_page
from keneyapp.core.scoping import scopes_disabled
from tests.factories import PatientFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_it_renders_the_full_day_and_reports_its_figures(clinic):
    UserFactory(tenant=clinic)  # a doctor to book with
    for _ in range(20):
        PatientFactory(tenant=clinic)

    figures = today_page.measure(clinic, rounds=2)

    assert figures["rows"] == today_page.APPOINTMENTS and figures["rounds"] == 2
    assert figures["median_ms"] > 0 and figures["empty_day_ms"] > 0 and figures["admin_index_ms"] > 0
    assert f"**{figures['median_ms']} ms**" in "\n".join(today_page.markdown_rows(figures))
    today_page.measure(clinic, rounds=1)  # a second run books nothing more
    with scopes_disabled():
        assert Appointment.objects.filter(tenant=clinic).count() == today_page.APPOINTMENTS
