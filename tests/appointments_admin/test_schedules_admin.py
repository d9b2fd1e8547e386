"""Providers' working hours and time off in the admin: every staff member reads them, only the
clinic's admin writes them; only the clinic's doctors and nurses can be chosen."""

from datetime import UTC, datetime, time

import pytest
from django.core.exceptions import ValidationError

from appointments import services
from appointments.models import TimeOff, WorkingHours
from keneyapp.accounts.roles import Role
from keneyapp.core.scoping import scopes_disabled

HOURS = "/admin/appointments/workinghours/"
TIME_OFF = "/admin/appointments/timeoff/"


def hours_form(provider, **overrides) -> dict:
    data = {
        "provider": provider.pk,
        "weekday": 0,
        "starts_at": "08:00",
        "ends_at": "12:00",
        "_save": "Save",
    }
    data.update(overrides)
    return data


def time_off_form(provider, **overrides) -> dict:
    data = {
        "provider": provider.pk,
        "starts_at_0": "2030-02-04",
        "starts_at_1": "00:00:00",
        "ends_at_0": "2030-02-09",
        "ends_at_1": "00:00:00",
        "reason": "Leave",
        "_save": "Save",
    }
    data.update(overrides)
    return data


@pytest.fixture
def our_hours(clinic, doctor):
    return WorkingHours.objects.create(
        tenant=clinic, provider=doctor, weekday=1, starts_at=time(8), ends_at=time(12)
    )


@pytest.fixture
def their_hours(other_clinic, outsider):
    return WorkingHours.objects.create(
        tenant=other_clinic, provider=outsider, weekday=1, starts_at=time(9), ends_at=time(17)
    )


@pytest.fixture
def our_time_off(clinic, doctor):
    return TimeOff.objects.create(
        tenant=clinic,
        provider=doctor,
        starts_at=datetime(2030, 3, 1, tzinfo=UTC),
        ends_at=datetime(2030, 3, 8, tzinfo=UTC),
        reason="Conference",
    )


@pytest.fixture
def their_time_off(other_clinic, outsider):
    return TimeOff.objects.create(
        tenant=other_clinic,
        provider=outsider,
        starts_at=datetime(2030, 3, 1, tzinfo=UTC),
        ends_at=datetime(2030, 3, 8, tzinfo=UTC),
        reason="Secret retreat",
    )


def ids(response) -> set[int]:
    return {row.pk for row in response.context["cl"].result_list}


# --- reading ---


@pytest.mark.parametrize("role", list(Role))
def test_every_staff_role_sees_only_own_clinic_schedules(
    browser, staff_of, our_hours, their_hours, our_time_off, their_time_off, role
):
    client = browser(staff_of(role))

    hours = client.get(HOURS)
    time_off = client.get(TIME_OFF)

    assert hours.status_code == 200
    assert ids(hours) == {our_hours.pk}
    assert time_off.status_code == 200
    assert ids(time_off) == {our_time_off.pk}
    assert "Secret retreat" not in time_off.content.decode()


@pytest.mark.parametrize("role", list(Role))
def test_every_staff_role_can_open_own_working_hours(browser, staff_of, our_hours, role):
    response = browser(staff_of(role)).get(f"{HOURS}{our_hours.pk}/change/")

    assert response.status_code == 200


def test_other_clinics_rows_are_not_reachable(browser, clinic_admin, their_hours, their_time_off):
    client = browser(clinic_admin)

    hours = client.get(f"{HOURS}{their_hours.pk}/change/", follow=True)
    time_off = client.get(f"{TIME_OFF}{their_time_off.pk}/change/", follow=True)
    hours_post = client.post(
        f"{HOURS}{their_hours.pk}/change/", hours_form(their_hours.provider, ends_at="23:00")
    )

    assert hours.redirect_chain[-1][0] == "/admin/"
    assert time_off.redirect_chain[-1][0] == "/admin/"
    assert "Secret retreat" not in time_off.content.decode()
    assert hours_post.status_code == 302
    their_hours.refresh_from_db()
    assert their_hours.ends_at == time(17)


def test_provider_filter_lists_only_own_clinical_staff(
    browser, receptionist, doctor, nurse, outsider, our_hours
):
    response = browser(receptionist).get(HOURS)

    specs = {getattr(s, "field_path", None): s for s in response.context["cl"].filter_specs}
    assert {pk for pk, _ in specs["provider"].lookup_choices} == {doctor.pk, nurse.pk}


# --- writing: the clinic's admin only ---


@pytest.mark.parametrize("role", [Role.DOCTOR, Role.NURSE, Role.RECEPTIONIST])
def test_other_roles_cannot_add_change_or_delete(browser, staff_of, doctor, our_hours, our_time_off, role):
    client = browser(staff_of(role))

    assert client.get(f"{HOURS}add/").status_code == 403
    assert client.post(f"{HOURS}add/", hours_form(doctor, weekday=3)).status_code == 403
    assert client.get(f"{TIME_OFF}add/").status_code == 403
    assert client.post(f"{TIME_OFF}add/", time_off_form(doctor)).status_code == 403
    changed = client.post(f"{HOURS}{our_hours.pk}/change/", hours_form(doctor, weekday=1, ends_at="20:00"))
    assert changed.status_code == 403
    assert client.post(f"{HOURS}{our_hours.pk}/delete/", {"post": "yes"}).status_code == 403
    assert client.post(f"{TIME_OFF}{our_time_off.pk}/delete/", {"post": "yes"}).status_code == 403

    our_hours.refresh_from_db()
    assert our_hours.ends_at == time(12)
    with scopes_disabled():
        assert WorkingHours.objects.count() == 1
        assert TimeOff.objects.count() == 1


def test_read_only_roles_see_no_add_button(browser, staff_of, our_hours):
    response = browser(staff_of(Role.DOCTOR)).get(HOURS)

    assert response.context["has_add_permission"] is False


def test_clinic_admin_adds_working_hours_for_own_doctor(browser, clinic_admin, doctor, other_clinic):
    response = browser(clinic_admin).post(f"{HOURS}add/", hours_form(doctor, tenant=other_clinic.pk))

    assert response.status_code == 302, response.context["adminform"].form.errors
    with scopes_disabled():
        created = WorkingHours.objects.get()
    assert created.tenant_id == clinic_admin.tenant_id
    assert (created.provider, created.weekday, created.starts_at, created.ends_at) == (
        doctor,
        0,
        time(8),
        time(12),
    )


def test_clinic_admin_changes_and_deletes_working_hours(browser, clinic_admin, doctor, our_hours):
    client = browser(clinic_admin)

    changed = client.post(f"{HOURS}{our_hours.pk}/change/", hours_form(doctor, weekday=1, ends_at="13:00"))
    assert changed.status_code == 302, changed.context["adminform"].form.errors
    our_hours.refresh_from_db()
    assert our_hours.ends_at == time(13)

    deleted = client.post(f"{HOURS}{our_hours.pk}/delete/", {"post": "yes"})
    assert deleted.status_code == 302
    with scopes_disabled():
        assert not WorkingHours.objects.exists()


def test_clinic_admin_adds_time_off(browser, clinic_admin, nurse):
    response = browser(clinic_admin).post(f"{TIME_OFF}add/", time_off_form(nurse))

    assert response.status_code == 302, response.context["adminform"].form.errors
    with scopes_disabled():
        created = TimeOff.objects.get()
    assert created.tenant_id == clinic_admin.tenant_id
    assert created.provider == nurse


@pytest.mark.parametrize("path", [HOURS, TIME_OFF])
def test_provider_choices_are_own_clinic_doctors_and_nurses(
    browser, clinic_admin, doctor, nurse, receptionist, outsider, path
):
    form = browser(clinic_admin).get(f"{path}add/").context["adminform"].form

    assert set(form.fields["provider"].queryset) == {doctor, nurse}


def test_working_hours_for_a_receptionist_or_another_clinics_doctor_are_refused(
    browser, clinic_admin, receptionist, outsider
):
    client = browser(clinic_admin)

    not_clinical = client.post(f"{HOURS}add/", hours_form(receptionist))
    foreign = client.post(f"{HOURS}add/", hours_form(outsider))

    assert not_clinical.status_code == 200
    assert "provider" in not_clinical.context["adminform"].form.errors
    assert foreign.status_code == 200
    assert "provider" in foreign.context["adminform"].form.errors
    with scopes_disabled():
        assert not WorkingHours.objects.exists()


def test_working_hours_ending_before_they_start_are_a_form_error(browser, clinic_admin, doctor):
    response = browser(clinic_admin).post(
        f"{HOURS}add/", hours_form(doctor, starts_at="14:00", ends_at="09:00")
    )

    assert response.status_code == 200
    assert response.context["adminform"].form.errors
    with scopes_disabled():
        assert not WorkingHours.objects.exists()


def test_provider_autocomplete_for_working_hours_is_scoped(browser, clinic_admin, doctor, nurse, outsider):
    response = browser(clinic_admin).get(
        "/admin/autocomplete/",
        {"app_label": "appointments", "model_name": "workinghours", "field_name": "provider", "term": ""},
    )

    assert response.status_code == 200
    assert {int(item["id"]) for item in response.json()["results"]} == {doctor.pk, nurse.pk}


def test_the_schedule_services_refuse_another_clinics_provider(clinic, outsider):
    with pytest.raises(ValidationError) as refused:
        services.working_hours_create(
            tenant=clinic,
            data={"provider": outsider, "weekday": 0, "starts_at": time(8), "ends_at": time(12)},
        )

    assert refused.value.message_dict == {"provider": ["No such doctor or nurse in this clinic."]}
    with scopes_disabled():
        assert not WorkingHours.objects.filter(provider=outsider).exists()
