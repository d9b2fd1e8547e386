"""The working hours' week grid (appointments/admin_hours.py)."""

from datetime import time

import pytest

from appointments.models import WorkingHours
from keneyapp.core.scoping import scopes_disabled

pytestmark = pytest.mark.django_db
WEEK = "/admin/appointments/workinghours/week/"


def hours_of(provider) -> dict[int, list[tuple[time, time]]]:
    with scopes_disabled():
        rows = WorkingHours.objects.filter(provider=provider).order_by("weekday", "starts_at")
        week: dict[int, list[tuple[time, time]]] = {}
        for row in rows:
            week.setdefault(row.weekday, []).append((row.starts_at, row.ends_at))
        return week


def grid(provider, **intervals) -> dict:
    """grid(doctor, d0_0=("08:00", "12:00"), ...) -> the form's post."""
    data = {"provider": provider.pk}
    for weekday in range(7):
        for slot in range(3):
            start, end = intervals.get(f"d{weekday}_{slot}", ("", ""))
            data[f"d{weekday}_{slot}_start"] = start
            data[f"d{weekday}_{slot}_end"] = end
    return data


def test_the_grid_shows_the_providers_week(browser, clinic_admin, doctor, clinic):
    WorkingHours.objects.create(tenant=clinic, provider=doctor, weekday=2, starts_at="08:30", ends_at="12:00")
    page = browser(clinic_admin).get(f"{WEEK}?provider={doctor.pk}")
    assert page.status_code == 200
    form = page.context["form"]
    assert form["d2_0_start"].value() == time(8, 30) and form["d2_0_end"].value() == time(12, 0)
    assert 'value="08:30"' in page.content.decode()


def test_saving_the_week_replaces_the_providers_hours(browser, clinic_admin, doctor, clinic):
    WorkingHours.objects.create(tenant=clinic, provider=doctor, weekday=5, starts_at="09:00", ends_at="10:00")
    response = browser(clinic_admin).post(
        WEEK, grid(doctor, d0_0=("08:00", "12:00"), d0_1=("14:00", "18:00"))
    )
    assert response.status_code == 302
    assert hours_of(doctor) == {0: [(time(8), time(12)), (time(14), time(18))]}


def test_copy_to_monday_friday(browser, clinic_admin, doctor):
    post = grid(doctor, d0_0=("08:00", "12:00"), d0_1=("14:00", "18:00"), d5_0=("09:00", "12:00"))
    response = browser(clinic_admin).post(WEEK, {**post, "copy_monday": "1"}, follow=True)
    assert "copied to Monday-Friday" in response.content.decode()
    week = hours_of(doctor)
    assert all(week[day] == [(time(8), time(12)), (time(14), time(18))] for day in range(5))
    assert week[5] == [(time(9), time(12))]  # Saturday as posted


def test_overlapping_intervals_are_refused_in_plain_words(browser, clinic_admin, doctor):
    response = browser(clinic_admin).post(
        WEEK, grid(doctor, d0_0=("08:00", "12:00"), d0_1=("11:00", "13:00"))
    )
    assert response.status_code == 400
    text = response.content.decode()
    assert "Monday: 08:00-12:00 and 11:00-13:00 overlap." in text
    assert "constraint" not in text.lower()
    assert hours_of(doctor) == {}


def test_an_end_before_the_start_or_half_an_interval_is_refused(browser, clinic_admin, doctor):
    client = browser(clinic_admin)
    backwards = client.post(WEEK, grid(doctor, d1_0=("12:00", "08:00")))
    assert (
        backwards.status_code == 400
        and "Tuesday: each end must be after its start." in backwards.content.decode()
    )
    half = client.post(WEEK, grid(doctor, d1_0=("08:00", "")))
    assert half.status_code == 400 and "give both the start and the end" in half.content.decode()
    assert hours_of(doctor) == {}


def test_a_receptionist_sees_the_grid_but_cannot_save_it(browser, receptionist, doctor):
    client = browser(receptionist)
    assert client.get(f"{WEEK}?provider={doctor.pk}").status_code == 200
    assert client.post(WEEK, grid(doctor, d0_0=("08:00", "12:00"))).status_code == 403
    assert hours_of(doctor) == {}


def test_another_clinics_provider_is_a_404(browser, clinic_admin, outsider):
    client = browser(clinic_admin)
    assert client.get(f"{WEEK}?provider={outsider.pk}").status_code == 404
    assert client.get(f"{WEEK}?provider=abc").status_code == 404
    assert client.post(WEEK, grid(outsider, d0_0=("08:00", "12:00"))).status_code == 404
    assert hours_of(outsider) == {}


def test_the_working_hours_list_links_to_the_grid(browser, clinic_admin):
    assert WEEK.encode() in browser(clinic_admin).get("/admin/appointments/workinghours/").content
