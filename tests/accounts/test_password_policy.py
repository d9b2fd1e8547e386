"""The password policy (settings.AUTH_PASSWORD_VALIDATORS): at least 12 characters, not a common
password, not close to the username, names or email, not digits only; at every door that sets a
password (the admin's add and password pages, for clinic admins and superusers alike, and
create_tenant). The API has no endpoint that sets a password. A password never shows in a log or an
error body."""

import io
import logging

import pytest
from django.core.management import CommandError, call_command

from keneyapp.accounts.management.commands import create_tenant
from keneyapp.accounts.models import User
from keneyapp.accounts.roles import Role
from tests.accounts.conftest import assert_error, post_login
from tests.factories import UserFactory

USER_ADD = "/admin/accounts/user/add/"
STRONG = "Baobab-under-the-harmattan-42"

# Each refused for one reason only: the rest of the policy would let it through.
WEAK = {
    "eleven characters": ("Kd8#pq2!Lm9", "password_too_short"),
    "common": ("password1234", "password_too_common"),
    "digits only": ("839201746351", "password_entirely_numeric"),
    "the username": ("aminata.kane.2", "password_too_similar"),
}


@pytest.fixture
def nurse_target(clinic):
    return UserFactory(tenant=clinic, role=Role.NURSE, username="aminata.kane", first_name="Aminata")


def add_user(client, password: str):
    return client.post(
        USER_ADD,
        {
            "username": "aminata.kane",
            "role": Role.NURSE,
            "tenant": "",
            "password1": password,
            "password2": password,
            "_save": "Save",
        },
    )


def form_error_codes(response, field: str) -> set[str]:
    form = response.context["adminform"].form if "adminform" in response.context else response.context["form"]
    return {error.code for error in form.errors.as_data().get(field, [])}


@pytest.mark.parametrize("case", sorted(WEAK))
def test_the_admin_add_page_refuses_a_weak_password_for_a_clinic_admin(browser, clinic_admin, case):
    password, code = WEAK[case]

    response = add_user(browser(clinic_admin), password)

    assert response.status_code == 200
    assert code in form_error_codes(response, "password2"), response.context["adminform"].form.errors
    assert not User.objects.filter(username="aminata.kane").exists()
    assert password not in response.content.decode()  # the form never echoes it back


@pytest.mark.parametrize("case", sorted(WEAK))
def test_the_admin_add_page_refuses_a_weak_password_for_a_superuser(browser, superuser, clinic, case):
    password, code = WEAK[case]
    client = browser(superuser)

    response = client.post(
        USER_ADD,
        {
            "username": "aminata.kane",
            "role": Role.NURSE,
            "tenant": str(clinic.pk),
            "password1": password,
            "password2": password,
            "_save": "Save",
        },
    )

    assert response.status_code == 200
    assert code in form_error_codes(response, "password2")
    assert not User.objects.filter(username="aminata.kane").exists()


def test_the_admin_add_page_accepts_a_strong_password(browser, clinic_admin):
    response = add_user(browser(clinic_admin), STRONG)

    assert response.status_code == 302
    assert User.objects.get(username="aminata.kane").check_password(STRONG)


@pytest.mark.parametrize("who", ["clinic_admin", "superuser"])
@pytest.mark.parametrize("case", sorted(WEAK))
def test_the_admin_password_page_refuses_a_weak_password(request, browser, nurse_target, who, case):
    password, code = WEAK[case]
    client = browser(request.getfixturevalue(who))

    response = client.post(
        f"/admin/accounts/user/{nurse_target.pk}/password/", {"password1": password, "password2": password}
    )

    assert response.status_code == 200
    assert code in form_error_codes(response, "password2")
    nurse_target.refresh_from_db()
    assert not nurse_target.check_password(password)


def test_the_admin_password_page_accepts_a_strong_password(browser, clinic_admin, nurse_target):
    response = browser(clinic_admin).post(
        f"/admin/accounts/user/{nurse_target.pk}/password/", {"password1": STRONG, "password2": STRONG}
    )

    assert response.status_code == 302
    nurse_target.refresh_from_db()
    assert nurse_target.check_password(STRONG)


@pytest.mark.django_db
@pytest.mark.parametrize(
    "password",
    [
        "Kd8#pq2!Lm9",  # eleven characters
        "password1234",
        "839201746351",
        "delta.admin.1",  # the username
    ],
)
def test_create_tenant_refuses_a_weak_password_and_names_the_field(monkeypatch, password):
    monkeypatch.setenv(create_tenant.PASSWORD_ENV, password)
    monkeypatch.setattr(create_tenant.os, "isatty", lambda fd: False)

    with pytest.raises(CommandError) as refused:
        call_command(
            "create_tenant", "Clinique Delta", "--admin-username", "delta.admin", stdout=io.StringIO()
        )

    assert str(refused.value).startswith("password:")
    assert password not in str(refused.value)
    assert not User.objects.filter(username="delta.admin").exists()


@pytest.mark.django_db
def test_create_tenant_accepts_twelve_characters(monkeypatch):
    monkeypatch.setenv(create_tenant.PASSWORD_ENV, "Kd8#pq2!Lm9x")
    monkeypatch.setattr(create_tenant.os, "isatty", lambda fd: False)

    call_command("create_tenant", "Clinique Delta", "--admin-username", "delta.admin", stdout=io.StringIO())

    assert User.objects.get(username="delta.admin").check_password("Kd8#pq2!Lm9x")


def test_a_refused_login_never_logs_or_echoes_the_password(api, client, doctor, caplog):
    secret = "Zebulon-typed-into-the-wrong-box-77"
    caplog.set_level(logging.DEBUG)

    api_response = post_login(api(), doctor.username, secret)
    admin_response = client.post(
        "/admin/login/?next=/admin/", {"username": doctor.username, "password": secret}
    )

    body = assert_error(api_response, 401, "invalid_credentials")
    assert secret not in str(body)
    assert secret not in admin_response.content.decode()
    assert secret not in caplog.text
    assert all(secret not in str(record.args) for record in caplog.records)


def test_an_oversized_password_is_a_400_that_does_not_echo_it(api, doctor):
    secret = "x" * 5000

    body = assert_error(post_login(api(), doctor.username, secret), 400, "validation_error")

    assert "password" in body["fields"]
    assert secret not in str(body)
