"""`manage.py create_tenant`: a clinic and its first administrator, with the password from the
environment or a prompt (never the command line), all or nothing."""

import io
import os
from types import SimpleNamespace

import pytest
from django.core.management import CommandError, call_command

from keneyapp.accounts.management.commands import create_tenant
from keneyapp.accounts.models import Tenant, User
from keneyapp.accounts.roles import Role
from tests.accounts.conftest import post_login

pytestmark = pytest.mark.django_db

STRONG_PASSWORD = "Baobab-under-the-harmattan-42"


@pytest.fixture
def stdin_is_tty(monkeypatch):
    """stdin_is_tty(bool) -> the command sees (or not) a terminal on stdin, whatever runs pytest."""

    def set_tty(is_tty: bool) -> None:
        monkeypatch.setattr(
            create_tenant, "os", SimpleNamespace(environ=os.environ, isatty=lambda fd: is_tty)
        )

    set_tty(False)
    return set_tty


@pytest.fixture
def admin_password(monkeypatch):
    monkeypatch.setenv(create_tenant.PASSWORD_ENV, STRONG_PASSWORD)


def run(*args: str) -> str:
    out = io.StringIO()
    call_command("create_tenant", *args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def gamma(*extra: str) -> str:
    return run("Clinique Gamma", "--admin-username", "gamma.admin", "--timezone", "Africa/Dakar", *extra)


def assert_nothing_created(tenants_before: int, users_before: int) -> None:
    assert Tenant.objects.count() == tenants_before
    assert User.objects.count() == users_before
    assert not User.objects.filter(username="gamma.admin").exists()


def test_creates_a_clinic_and_its_admin_from_the_environment_password(admin_password, stdin_is_tty):
    output = gamma("--admin-email", "admin@gamma.example.org")

    clinic = Tenant.objects.get(slug="clinique-gamma")
    assert clinic.name == "Clinique Gamma"
    assert clinic.timezone == "Africa/Dakar"
    assert clinic.is_active
    admin = User.objects.get(username="gamma.admin")
    assert admin.tenant == clinic
    assert admin.role == Role.ADMIN
    assert admin.is_staff
    assert not admin.is_superuser
    assert admin.email == "admin@gamma.example.org"
    assert admin.check_password(STRONG_PASSWORD)
    assert "Clinique Gamma" in output and "gamma.admin" in output


def test_the_new_admin_must_enrol_a_second_factor_before_using_the_api(api, admin_password, stdin_is_tty):
    gamma("--slug", "gamma")

    response = post_login(api(), "gamma.admin", STRONG_PASSWORD)

    # A new clinic requires a second factor of its administrators: the password was right, but
    # there are no tokens until they enrol in the admin.
    assert response.status_code == 403
    assert response.json()["code"] == "mfa_enrolment_required"
    assert Tenant.objects.get(slug="gamma").mfa_required_roles == [Role.ADMIN]


def test_refuses_without_the_password_variable_when_stdin_is_not_a_tty(monkeypatch, stdin_is_tty):
    monkeypatch.delenv(create_tenant.PASSWORD_ENV, raising=False)

    with pytest.raises(CommandError, match=create_tenant.PASSWORD_ENV):
        gamma()

    assert_nothing_created(0, 0)


def test_prompts_twice_for_the_password_on_a_terminal(monkeypatch, stdin_is_tty):
    monkeypatch.delenv(create_tenant.PASSWORD_ENV, raising=False)
    stdin_is_tty(True)
    prompts = []
    monkeypatch.setattr(
        create_tenant,
        "getpass",
        SimpleNamespace(getpass=lambda prompt: prompts.append(prompt) or STRONG_PASSWORD),
    )

    gamma()

    assert len(prompts) == 2
    assert User.objects.get(username="gamma.admin").check_password(STRONG_PASSWORD)


def test_mismatched_prompted_passwords_create_nothing(monkeypatch, stdin_is_tty):
    monkeypatch.delenv(create_tenant.PASSWORD_ENV, raising=False)
    stdin_is_tty(True)
    answers = iter([STRONG_PASSWORD, STRONG_PASSWORD + "!"])
    monkeypatch.setattr(create_tenant, "getpass", SimpleNamespace(getpass=lambda prompt: next(answers)))

    with pytest.raises(CommandError, match="do not match"):
        gamma()

    assert_nothing_created(0, 0)


def test_the_password_is_never_a_command_line_argument(admin_password, stdin_is_tty):
    with pytest.raises(CommandError, match="unrecognized arguments"):
        gamma("--password", STRONG_PASSWORD)

    assert_nothing_created(0, 0)


@pytest.mark.parametrize("weak", ["password", "12345678901", "short"])
def test_weak_password_is_refused_and_creates_nothing(monkeypatch, stdin_is_tty, weak):
    monkeypatch.setenv(create_tenant.PASSWORD_ENV, weak)

    with pytest.raises(CommandError, match="password"):
        gamma()

    assert_nothing_created(0, 0)


def test_invalid_timezone_is_refused_and_creates_nothing(admin_password, stdin_is_tty):
    with pytest.raises(CommandError, match="timezone"):
        run("Clinique Gamma", "--admin-username", "gamma.admin", "--timezone", "Mars/Olympus_Mons")

    assert_nothing_created(0, 0)


def test_duplicate_slug_is_refused_and_creates_nothing(clinic, admin_password, stdin_is_tty):
    tenants, users = Tenant.objects.count(), User.objects.count()

    with pytest.raises(CommandError, match="slug"):
        gamma("--slug", clinic.slug)

    assert_nothing_created(tenants, users)
    clinic.refresh_from_db()
    assert clinic.name == "Clinique Alpha"


def test_duplicate_admin_username_leaves_no_clinic_behind(doctor, admin_password, stdin_is_tty):
    tenants, users = Tenant.objects.count(), User.objects.count()

    with pytest.raises(CommandError, match="username"):
        run("Clinique Gamma", "--admin-username", doctor.username)

    assert Tenant.objects.count() == tenants
    assert User.objects.count() == users
    assert not Tenant.objects.filter(slug="clinique-gamma").exists()
