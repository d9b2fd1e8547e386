"""Clinics and staff in the admin: a clinic's admin manages their own clinic's staff, nobody
else's, and can never make anyone a superuser."""

import pytest

from keneyapp.accounts.models import Tenant, User
from keneyapp.accounts.roles import Role
from tests.factories import UserFactory

USERS = "/admin/accounts/user/"
USER_ADD = "/admin/accounts/user/add/"
TENANTS = "/admin/accounts/tenant/"
NEW_PASSWORD = "a-long-enough-Passw0rd!"


def user_change_url(user) -> str:
    return f"/admin/accounts/user/{user.pk}/change/"


def tenant_change_url(tenant) -> str:
    return f"/admin/accounts/tenant/{tenant.pk}/change/"


def user_change_form(user, **overrides) -> dict:
    data = {
        "username": user.username,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "email": user.email,
        "role": user.role,
        "is_active": "on",
        "is_staff": "on",
        "_save": "Save",
    }
    data.update(overrides)
    return data


@pytest.fixture
def clinic_admin(staff_of):
    return staff_of(Role.ADMIN, username="carol")


@pytest.fixture
def other_staff(other_clinic):
    return [
        UserFactory(tenant=other_clinic, role=Role.ADMIN, username="zed.admin"),
        UserFactory(tenant=other_clinic, role=Role.NURSE, username="zed.nurse"),
    ]


# --- users ---


def test_clinic_admin_sees_only_own_clinic_users(browser, clinic_admin, doctor, other_staff):
    response = browser(clinic_admin).get(USERS)

    assert response.status_code == 200
    assert {u.username for u in response.context["cl"].result_list} == {"carol", "alice"}
    html = response.content.decode()
    assert "zed.admin" not in html
    assert "zed.nurse" not in html


def test_clinic_admin_cannot_open_other_clinic_user(browser, clinic_admin, other_staff):
    target = other_staff[1]
    client = browser(clinic_admin)

    page = client.get(user_change_url(target))
    post = client.post(user_change_url(target), user_change_form(target, first_name="Hacked"))
    password = client.post(
        f"/admin/accounts/user/{target.pk}/password/",
        {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD},
    )

    assert page.status_code == 302
    assert page.url == "/admin/"
    assert post.status_code == 302
    assert password.status_code in (302, 404)
    target.refresh_from_db()
    assert target.first_name != "Hacked"
    assert not target.check_password(NEW_PASSWORD)


def test_clinic_admin_creates_user_in_own_clinic(browser, clinic_admin, clinic, other_clinic):
    response = browser(clinic_admin).post(
        USER_ADD,
        {
            "username": "newnurse",
            "tenant": str(other_clinic.pk),
            "role": Role.NURSE,
            "password1": NEW_PASSWORD,
            "password2": NEW_PASSWORD,
            "is_superuser": "on",
            "_save": "Save",
        },
    )

    assert response.status_code == 302, response.context["adminform"].form.errors
    created = User.objects.get(username="newnurse")
    assert created.tenant_id == clinic.pk
    assert created.role == Role.NURSE
    assert not created.is_superuser
    assert created.check_password(NEW_PASSWORD)


def test_add_user_form_offers_only_own_clinic(browser, clinic_admin, clinic):
    response = browser(clinic_admin).get(USER_ADD)

    assert response.status_code == 200
    form = response.context["adminform"].form
    assert list(form.fields["tenant"].queryset) == [clinic]
    assert "is_superuser" not in form.fields
    assert "Clinique Beta" not in response.content.decode()


def test_creating_a_user_without_a_role_is_a_form_error(browser, clinic_admin):
    response = browser(clinic_admin).post(
        USER_ADD,
        {
            "username": "norole",
            "role": "",
            "password1": NEW_PASSWORD,
            "password2": NEW_PASSWORD,
            "_save": "Save",
        },
    )

    assert response.status_code == 200
    assert "need a clinic and a role" in str(response.context["adminform"].form.errors)
    assert not User.objects.filter(username="norole").exists()


def test_superuser_field_is_not_offered_to_clinic_admin(browser, clinic_admin, doctor):
    response = browser(clinic_admin).get(user_change_url(doctor))

    assert response.status_code == 200
    form = response.context["adminform"].form
    assert "is_superuser" not in form.fields
    assert "user_permissions" not in form.fields
    assert 'name="is_superuser"' not in response.content.decode()


def test_posting_is_superuser_has_no_effect(browser, clinic_admin, doctor, other_clinic):
    response = browser(clinic_admin).post(
        user_change_url(doctor),
        user_change_form(doctor, first_name="Renamed", is_superuser="on", tenant=str(other_clinic.pk)),
    )

    assert response.status_code == 302, response.context["adminform"].form.errors
    doctor.refresh_from_db()
    assert doctor.first_name == "Renamed"  # the post was applied...
    assert not doctor.is_superuser  # ...but not that part
    assert doctor.tenant_id != other_clinic.pk


def test_clinic_admin_cannot_promote_self(browser, clinic_admin):
    browser(clinic_admin).post(
        user_change_url(clinic_admin), user_change_form(clinic_admin, is_superuser="on")
    )

    clinic_admin.refresh_from_db()
    assert not clinic_admin.is_superuser


def test_clearing_a_role_is_a_form_error(browser, clinic_admin, doctor):
    response = browser(clinic_admin).post(user_change_url(doctor), user_change_form(doctor, role=""))

    assert response.status_code == 200
    assert "need a clinic and a role" in str(response.context["adminform"].form.errors)
    doctor.refresh_from_db()
    assert doctor.role == Role.DOCTOR


@pytest.mark.parametrize("role", [Role.DOCTOR, Role.NURSE, Role.RECEPTIONIST])
def test_non_admin_staff_cannot_open_users_admin(browser, staff_of, doctor, role):
    client = browser(staff_of(role))

    assert client.get(USERS).status_code == 403
    assert client.get(USER_ADD).status_code == 403
    assert client.get(user_change_url(doctor)).status_code == 403


def test_clinic_admin_cannot_delete_users(browser, clinic_admin, doctor):
    response = browser(clinic_admin).post(f"/admin/accounts/user/{doctor.pk}/delete/", {"post": "yes"})

    assert response.status_code == 403
    assert User.objects.filter(pk=doctor.pk).exists()


def test_superuser_sees_every_clinic_users_and_superuser_field(browser, superuser, doctor, other_staff):
    listing = browser(superuser).get(USERS)
    page = browser(superuser).get(user_change_url(doctor))

    assert {u.username for u in listing.context["cl"].result_list} >= {"alice", "zed.admin", "zed.nurse"}
    assert "is_superuser" in page.context["adminform"].form.fields


# --- clinics ---


@pytest.mark.parametrize("role", list(Role))
def test_tenant_changelist_shows_only_own_clinic(browser, staff_of, clinic, other_clinic, role):
    response = browser(staff_of(role)).get(TENANTS)

    assert response.status_code == 200
    assert list(response.context["cl"].result_list) == [clinic]
    assert "Clinique Beta" not in response.content.decode()


def test_staff_cannot_change_other_clinic(browser, clinic_admin, other_clinic):
    client = browser(clinic_admin)

    page = client.get(tenant_change_url(other_clinic))
    post = client.post(
        tenant_change_url(other_clinic), {"name": "Taken over", "timezone": "UTC", "_save": "Save"}
    )

    assert page.status_code == 302
    assert post.status_code == 302
    other_clinic.refresh_from_db()
    assert other_clinic.name == "Clinique Beta"


def test_clinic_admin_edits_own_clinic_but_not_its_status(browser, clinic_admin, clinic):
    response = browser(clinic_admin).post(
        tenant_change_url(clinic),
        {"name": "Clinique Alpha Nord", "timezone": "Africa/Dakar", "is_active": "", "_save": "Save"},
    )

    assert response.status_code == 302, response.context["adminform"].form.errors
    clinic.refresh_from_db()
    assert clinic.name == "Clinique Alpha Nord"
    assert clinic.is_active


def test_doctor_cannot_change_own_clinic(browser, doctor, clinic):
    response = browser(doctor).post(
        tenant_change_url(clinic), {"name": "Renamed", "timezone": "UTC", "_save": "Save"}
    )

    assert response.status_code == 403
    clinic.refresh_from_db()
    assert clinic.name == "Clinique Alpha"


def test_staff_cannot_add_clinics(browser, clinic_admin):
    response = browser(clinic_admin).post(
        "/admin/accounts/tenant/add/", {"name": "New", "slug": "new", "timezone": "UTC"}
    )

    assert response.status_code == 403
    assert not Tenant.objects.filter(slug="new").exists()


def test_superuser_creating_staff_without_a_clinic_gets_a_form_error(browser, superuser):
    response = browser(superuser).post(
        USER_ADD,
        {
            "username": "homeless",
            "tenant": "",
            "role": Role.DOCTOR,
            "password1": NEW_PASSWORD,
            "password2": NEW_PASSWORD,
            "_save": "Save",
        },
    )

    assert response.status_code == 200
    assert "need a clinic and a role" in str(response.context["adminform"].form.errors)
    assert not User.objects.filter(username="homeless").exists()
