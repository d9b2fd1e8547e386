"""Who may manage whom in the admin: a clinic's admin never reaches a platform superuser (even one
attached to their clinic), and a save never changes a field the editor may not set, whatever the
POST carries."""

from datetime import UTC, datetime

import pytest
from django.contrib.auth.models import Group, Permission

from keneyapp.accounts.models import User
from keneyapp.accounts.roles import Role
from keneyapp.core.scoping import scopes_disabled
from tests.factories import UserFactory

USERS = "/admin/accounts/user/"
USER_ADD = "/admin/accounts/user/add/"
NEW_PASSWORD = "a-long-enough-Passw0rd!"
LONG_AGO = datetime(2001, 1, 1, tzinfo=UTC)


def change_url(user) -> str:
    return f"{USERS}{user.pk}/change/"


def change_form(user, **overrides) -> dict:
    data = {
        "username": user.username,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "email": user.email,
        "role": user.role,
        "is_active": "on",
        "_save": "Save",
    }
    data.update(overrides)
    return data


@pytest.fixture
def clinic_admin(staff_of):
    return staff_of(Role.ADMIN, username="carol")


@pytest.fixture
def platform_users(clinic, superuser):
    # A superuser who is also on the clinic's staff (a platform operator helping out as a doctor).
    embedded = UserFactory(tenant=clinic, role=Role.DOCTOR, username="op.doctor", last_name="Sow")
    embedded.is_superuser = True
    embedded.save(update_fields=["is_superuser"])
    return [superuser, embedded]


@pytest.fixture
def crafted_extras(other_clinic):
    group = Group.objects.create(name="platform-operators")
    permission = Permission.objects.get(codename="change_tenant")
    return {
        "is_superuser": "on",
        "is_staff": "",  # unchecked: an attempt to take admin access away
        "tenant": str(other_clinic.pk),
        "groups": [str(group.pk)],
        "user_permissions": [str(permission.pk)],
        "last_login_0": "2001-01-01",
        "last_login_1": "00:00:00",
        "date_joined_0": "2001-01-01",
        "date_joined_1": "00:00:00",
        "last_login": LONG_AGO.isoformat(),
        "date_joined": LONG_AGO.isoformat(),
    }


def snapshot(user) -> dict:
    user = User.objects.get(pk=user.pk)
    return {
        "password": user.password,
        "is_superuser": user.is_superuser,
        "is_staff": user.is_staff,
        "is_active": user.is_active,
        "tenant_id": user.tenant_id,
        "first_name": user.first_name,
        "last_login": user.last_login,
        "date_joined": user.date_joined,
        "groups": set(user.groups.all()),
        "user_permissions": set(user.user_permissions.all()),
    }


# --- superusers are out of a clinic admin's reach ---


def test_clinic_admin_does_not_see_superusers(browser, clinic_admin, doctor, platform_users):
    response = browser(clinic_admin).get(USERS)

    assert {u.username for u in response.context["cl"].result_list} == {"carol", "alice"}
    assert "op.doctor" not in response.content.decode()


def test_clinic_admin_cannot_open_or_edit_a_superuser(browser, clinic_admin, platform_users):
    client = browser(clinic_admin)
    for target in platform_users:
        before = snapshot(target)

        page = client.get(change_url(target))
        post = client.post(change_url(target), change_form(target, first_name="Hacked", is_active=""))

        assert page.status_code == 302 and page.url == "/admin/"  # the admin's "no such object"
        assert post.status_code == 302 and post.url == "/admin/"
        assert snapshot(target) == before


def test_clinic_admin_cannot_reset_a_superusers_password(browser, clinic_admin, platform_users):
    client = browser(clinic_admin)
    for target in platform_users:
        before = snapshot(target)
        url = f"{USERS}{target.pk}/password/"

        page = client.get(url)
        post = client.post(url, {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD})

        assert page.status_code == 404
        assert post.status_code == 404
        assert snapshot(target) == before


def test_clinic_admin_cannot_delete_or_view_history_of_a_superuser(browser, clinic_admin, platform_users):
    client = browser(clinic_admin)
    for target in platform_users:
        delete = client.post(f"{USERS}{target.pk}/delete/", {"post": "yes"})
        history = client.get(f"{USERS}{target.pk}/history/")

        assert delete.status_code in (302, 403, 404)
        assert history.status_code in (302, 404)
        assert User.objects.filter(pk=target.pk).exists()


def test_clinic_admin_actions_never_reach_a_superuser(browser, clinic_admin, platform_users):
    embedded = platform_users[1]

    response = browser(clinic_admin).post(
        USERS, {"action": "delete_selected", "_selected_action": [str(embedded.pk)], "post": "yes"}
    )

    assert response.status_code in (200, 302)
    assert User.objects.filter(pk=embedded.pk).exists()


@pytest.mark.parametrize("role", [Role.ADMIN, Role.RECEPTIONIST])
def test_provider_autocomplete_never_offers_a_superuser(browser, staff_of, platform_users, doctor, role):
    doctor.last_name = "Sow"
    doctor.save(update_fields=["last_name"])

    response = browser(staff_of(role)).get(
        "/admin/autocomplete/",
        {"app_label": "appointments", "model_name": "appointment", "field_name": "provider", "term": "sow"},
    )

    assert response.status_code == 200
    assert {int(item["id"]) for item in response.json()["results"]} == {doctor.pk}


def test_superuser_still_manages_superusers(browser, superuser, platform_users):
    embedded = platform_users[1]

    listing = browser(superuser).get(USERS)
    page = browser(superuser).get(change_url(embedded))

    assert "op.doctor" in {u.username for u in listing.context["cl"].result_list}
    assert page.status_code == 200


# --- a save changes only what the editor may set ---


def test_crafted_post_on_a_colleague_changes_only_what_a_clinic_admin_may_set(
    browser, clinic_admin, doctor, crafted_extras
):
    with scopes_disabled():
        User.objects.filter(pk=doctor.pk).update(last_login=datetime(2026, 1, 2, tzinfo=UTC))
    before = snapshot(doctor)

    response = browser(clinic_admin).post(
        change_url(doctor), change_form(doctor, first_name="Renamed", **crafted_extras)
    )

    assert response.status_code == 302, response.context["adminform"].form.errors
    after = snapshot(doctor)
    assert after["first_name"] == "Renamed"  # the post was applied...
    assert after == {**before, "first_name": "Renamed"}  # ...and nothing else it carried


def test_clinic_admin_cannot_raise_themselves(browser, clinic_admin, crafted_extras):
    client = browser(clinic_admin)  # logging in sets last_login
    before = snapshot(clinic_admin)

    client.post(change_url(clinic_admin), change_form(clinic_admin, **crafted_extras))

    assert snapshot(clinic_admin) == before


def test_the_clinic_admin_form_offers_no_platform_field(browser, clinic_admin, doctor):
    response = browser(clinic_admin).get(change_url(doctor))

    form = response.context["adminform"].form
    assert not {"is_superuser", "is_staff", "groups", "user_permissions", "last_login"} & set(form.fields)
    assert form.fields["tenant"].disabled


def test_crafted_post_on_the_add_form_creates_plain_clinic_staff(
    browser, clinic_admin, clinic, crafted_extras
):
    response = browser(clinic_admin).post(
        USER_ADD,
        {
            "username": "newnurse",
            "role": Role.NURSE,
            "password1": NEW_PASSWORD,
            "password2": NEW_PASSWORD,
            "_save": "Save",
            **crafted_extras,
        },
    )

    assert response.status_code == 302, response.context["adminform"].form.errors
    created = snapshot(User.objects.get(username="newnurse"))
    assert created["tenant_id"] == clinic.pk
    assert not created["is_superuser"]
    assert created["is_staff"]  # the clinic's staff work in the admin
    assert created["groups"] == set() and created["user_permissions"] == set()
    assert created["last_login"] is None
    assert created["date_joined"] != LONG_AGO


def test_superuser_sets_platform_fields(browser, superuser, doctor, crafted_extras):
    group = Group.objects.get(name="platform-operators")

    response = browser(superuser).post(
        change_url(doctor),
        change_form(doctor, tenant=str(doctor.tenant_id), is_staff="on", groups=[str(group.pk)]),
    )

    assert response.status_code == 302, response.context["adminform"].form.errors
    assert snapshot(doctor)["groups"] == {group}
