"""The second factor's security events in the audit trail (keneyapp/accounts/mfa_audit.py): a reset
(by whom, through which door), an enrolment, a recovery code's use; and a reset that cannot be
recorded does not happen."""

import io

import pytest
from django.core.management import call_command
from django.db import DatabaseError
from django.test import Client
from django_otp.plugins.otp_totp.models import TOTPDevice

from keneyapp.accounts.models import RecoveryCode
from keneyapp.accounts.roles import Role
from keneyapp.core import audit
from tests.accounts.conftest import assert_error, post_mfa
from tests.accounts.test_mfa_admin import CODE, ENROL, log_in_with_password, reset
from tests.audit.helpers import only, trail

pytestmark = pytest.mark.django_db

USER = "accounts.user"


@pytest.fixture
def nurse(staff_of):
    return staff_of(Role.NURSE, username="nadia")


def test_a_clinic_admins_reset_is_recorded_with_who_and_the_door(browser, clinic_admin, nurse, enrol):
    enrol(nurse)

    reset(browser(clinic_admin), nurse)

    event = only(model=USER, fields=["second_factor_reset"])
    assert (event.object_id, event.user_id, event.role, event.tenant_id) == (
        nurse.pk, clinic_admin.pk, Role.ADMIN, nurse.tenant_id,
    )  # fmt: skip
    assert (event.door, event.action, event.outcome, event.route) == (
        "admin",
        "change",
        "allowed",
        "accounts_user_changelist",
    )


def test_a_superusers_reset_is_in_the_users_clinics_trail(browser, superuser, nurse, enrol):
    enrol(nurse)

    reset(browser(superuser), nurse)

    event = only(model=USER, fields=["second_factor_reset"])
    assert (event.user_id, event.tenant_id) == (superuser.pk, nurse.tenant_id)


def test_the_commands_reset_is_recorded_as_the_commands(nurse, enrol):
    enrol(nurse)

    call_command("reset_second_factor", nurse.username, stdout=io.StringIO())

    event = only(model=USER, fields=["second_factor_reset"])
    assert (event.door, event.route, event.user_id, event.object_id) == (
        "command", "reset_second_factor", None, nurse.pk,
    )  # fmt: skip


def test_a_reset_that_cannot_be_recorded_does_not_happen(browser, clinic_admin, nurse, enrol, monkeypatch):
    enrol(nurse)

    def refuse(*args, **kwargs):
        raise DatabaseError("audit table unavailable")

    monkeypatch.setattr(audit, "insert_events", refuse)

    response = reset(browser(clinic_admin), nurse)

    assert response.status_code == 503
    assert TOTPDevice.objects.filter(user=nurse, confirmed=True).exists()


def test_an_enrolment_in_the_admin_is_recorded(client, clinic_admin, totp_clock):
    log_in_with_password(client, clinic_admin)
    client.get(ENROL)
    device = TOTPDevice.objects.get(user=clinic_admin)

    client.post(ENROL, {"code": totp_clock.code(device)})

    event = only(model=USER, fields=["second_factor_enrolled"])
    assert (event.user_id, event.object_id, event.door, event.route) == (
        clinic_admin.pk, clinic_admin.pk, "admin", "admin-mfa-enrol",
    )  # fmt: skip
    assert event.address == "127.0.0.1"


def test_a_recovery_code_used_at_either_door_is_recorded(api, nurse, enrol, mfa_token):
    _, codes = enrol(nurse)
    browser_session = Client()

    assert post_mfa(api(), mfa_token(nurse), codes[0]).status_code == 200
    log_in_with_password(browser_session, nurse)
    assert browser_session.post(CODE, {"code": codes[1]}).status_code == 302

    used = trail(model=USER, fields=["recovery_code_used"])
    assert [(e.door, e.route, e.user_id, e.object_id) for e in used] == [
        ("api", "auth-mfa", nurse.pk, nurse.pk),
        ("admin", "admin-mfa-code", nurse.pk, nurse.pk),
    ]


@pytest.fixture
def audit_down(monkeypatch):
    """audit_down(): from now on, the trail cannot be stored."""

    def refuse(*args, **kwargs):
        raise DatabaseError("audit table unavailable")

    return lambda: monkeypatch.setattr(audit, "insert_events", refuse)


def test_a_recovery_code_whose_use_cannot_be_recorded_is_a_503_and_stays_unused(
    api, nurse, enrol, mfa_token, audit_down
):
    _, codes = enrol(nurse)
    token = mfa_token(nurse)
    audit_down()

    response = post_mfa(api(), token, codes[0])

    assert_error(response, 503, "audit_unavailable")
    assert "access_token" not in response.json()
    assert RecoveryCode.objects.filter(user=nurse, used_at__isnull=True).count() == 10


def test_a_recovery_code_in_the_admin_whose_use_cannot_be_recorded_is_a_503(nurse, enrol, audit_down):
    _, codes = enrol(nurse)
    session = Client()
    log_in_with_password(session, nurse)
    audit_down()

    response = session.post(CODE, {"code": codes[0]})

    assert response.status_code == 503
    assert "_auth_user_id" not in session.session
