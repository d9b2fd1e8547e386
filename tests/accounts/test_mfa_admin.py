"""Multi-factor login in the admin, through its real pages: the password, then the code for a user
with a device; enrolment before anything else for a user who must have one and has none; a clinic
admin's reset of a colleague's second factor; the clinic's setting of which roles must."""

import io
import re

import pytest
from django.core.management import CommandError, call_command
from django.test import Client
from django_otp.plugins.otp_totp.models import TOTPDevice

from keneyapp.accounts import mfa
from keneyapp.accounts.admin_mfa import MFA_VERIFIED
from keneyapp.accounts.models import RecoveryCode, Tenant, User
from keneyapp.accounts.roles import Role
from tests.accounts.conftest import ME_URL, assert_error, bearer_client, post_login, post_mfa
from tests.factories import DEFAULT_PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

LOGIN = "/admin/login/?next=/admin/patients/patient/"
CODE = "/admin/login/code/"
ENROL = "/admin/mfa/enrol/"
USERS = "/admin/accounts/user/"


def log_in_with_password(client: Client, user, password: str = DEFAULT_PASSWORD):
    return client.post(LOGIN, {"username": user.username, "password": password})


def signed_in(client: Client) -> bool:
    return "_auth_user_id" in client.session


@pytest.fixture
def nurse(staff_of):
    return staff_of(Role.NURSE, username="nadia")


# --- two steps ------------------------------------------------------------------------------------


def test_an_enrolled_user_logs_in_with_the_password_then_the_code(client, nurse, enrol, totp_clock):
    device, _ = enrol(nurse)

    password_step = log_in_with_password(client, nurse)

    assert password_step.status_code == 302 and password_step["Location"] == CODE
    assert not signed_in(client)  # nobody is logged in by the password alone
    assert client.get("/admin/").status_code == 302
    code_page = client.get(CODE)
    assert code_page.status_code == 200 and 'name="code"' in code_page.content.decode()

    code_step = client.post(CODE, {"code": totp_clock.code(device)})

    assert code_step.status_code == 302 and code_step["Location"] == "/admin/patients/patient/"
    assert signed_in(client) and client.session[MFA_VERIFIED] is True
    assert client.get("/admin/patients/patient/").status_code == 200


def test_a_wrong_code_in_the_admin_is_a_form_error_and_logs_nobody_in(client, nurse, enrol):
    enrol(nurse)
    log_in_with_password(client, nurse)

    response = client.post(CODE, {"code": "12345x"})

    assert response.status_code == 200
    assert "not valid" in response.content.decode()
    assert not signed_in(client)


def test_a_reused_code_is_refused_in_the_admin(client, nurse, enrol, totp_clock, mfa_token, api):
    device, _ = enrol(nurse)
    code = totp_clock.code(device)
    assert post_mfa(api(), mfa_token(nurse), code).status_code == 200  # used at the API first

    log_in_with_password(client, nurse)
    response = client.post(CODE, {"code": code})

    assert response.status_code == 200 and not signed_in(client)


def test_a_recovery_code_logs_in_to_the_admin_once(nurse, enrol):
    _, codes = enrol(nurse)
    first, second = Client(), Client()

    log_in_with_password(first, nurse)
    assert first.post(CODE, {"code": codes[3]}).status_code == 302
    log_in_with_password(second, nurse)
    assert second.post(CODE, {"code": codes[3]}).status_code == 200

    assert signed_in(first) and not signed_in(second)


def test_three_wrong_codes_send_the_user_back_to_the_password(client, nurse, enrol, totp_clock):
    device, _ = enrol(nurse)
    log_in_with_password(client, nurse)
    for _ in range(3):
        client.post(CODE, {"code": "abcdefghjk"})

    response = client.post(CODE, {"code": totp_clock.code(device)})

    assert response.status_code == 302 and response["Location"] == "/admin/login/"
    assert not signed_in(client)


def test_the_code_step_without_a_password_step_goes_to_the_login(client):
    assert client.get(CODE)["Location"] == "/admin/login/"
    assert client.post(CODE, {"code": "123456"})["Location"] == "/admin/login/"


def test_failed_codes_in_the_admin_lock_the_api_out_too(client, api, nurse, enrol, settings):
    settings.LOGIN_MAX_FAILURES_PER_USERNAME = 3
    enrol(nurse)
    for _ in range(3):
        log_in_with_password(client, nurse)
        client.post(CODE, {"code": "000000"})

    assert_error(post_login(api(), nurse.username), 429, "throttled")
    log_in_with_password(client, nurse)
    assert "Too many failed logins" in client.post(CODE, {"code": "000000"}).content.decode()


# --- enrolment ------------------------------------------------------------------------------------


def test_a_clinic_admin_without_a_second_factor_enrols_before_anything_else(client, clinic_admin, totp_clock):
    response = log_in_with_password(client, clinic_admin)
    assert response.status_code == 302 and signed_in(client)  # the password: no device to ask for

    for page in ("/admin/", "/admin/patients/patient/", USERS, "/admin/password_change/"):
        blocked = client.get(page)
        assert blocked.status_code == 302 and blocked["Location"] == ENROL, page

    enrol_page = client.get(ENROL)
    assert enrol_page.status_code == 200
    page = enrol_page.content.decode()
    assert "<svg" in page and 'name="code"' in page
    device = TOTPDevice.objects.get(user=clinic_admin, confirmed=False)
    assert mfa.enrolment_secret(device).replace(" ", "") in page.replace(" ", "")

    wrong = client.post(ENROL, {"code": "000000" if totp_clock.code(device) != "000000" else "111111"})
    assert wrong.status_code == 200 and "does not match" in wrong.content.decode()
    assert client.get("/admin/")["Location"] == ENROL

    confirmed = client.post(ENROL, {"code": totp_clock.code(device)})

    assert confirmed.status_code == 200
    shown = re.findall(r"<code>([a-z0-9]{5}-[a-z0-9]{5})</code>", confirmed.content.decode())
    assert len(shown) == 10
    # The session that enrolled stays, now verified; the page was the codes' only showing.
    assert client.get("/admin/").status_code == 200
    assert client.get(ENROL).content.decode().count("<code>") == 0
    stored = set(RecoveryCode.objects.filter(user=clinic_admin).values_list("code_hash", flat=True))
    assert len(stored) == 10 and not {code.replace("-", "") for code in shown} & stored


def test_enrolling_ends_the_users_other_sessions_and_tokens(clinic_admin, totp_clock, login_pair, settings):
    elsewhere = Client()
    elsewhere.force_login(clinic_admin)
    assert elsewhere.get("/admin/").status_code == 200
    settings_roles = Tenant.objects.get(pk=clinic_admin.tenant_id)
    settings_roles.mfa_required_roles = []
    settings_roles.save()
    pair = login_pair(clinic_admin)
    client = Client()
    log_in_with_password(client, clinic_admin)
    client.get(ENROL)
    device = TOTPDevice.objects.get(user=clinic_admin, confirmed=False)

    client.post(ENROL, {"code": totp_clock.code(device)})

    assert client.get("/admin/").status_code == 200
    assert elsewhere.get("/admin/").status_code == 302
    assert_error(bearer_client(pair["access_token"]).get(ME_URL), 401, "authentication_failed")


def test_an_enrolment_key_is_shown_to_one_session_only(clinic_admin, totp_clock):
    """Someone with only the password opens the enrolment page first and walks away with its key:
    the user's own session is shown another key, and the first key cannot be confirmed from there."""
    attacker, owner = Client(), Client()
    log_in_with_password(attacker, clinic_admin)
    attacker_page = attacker.get(ENROL).content.decode().replace(" ", "")
    attackers_device = TOTPDevice.objects.get(user=clinic_admin, confirmed=False)
    log_in_with_password(owner, clinic_admin)

    owner_page = owner.get(ENROL).content.decode().replace(" ", "")

    owners_device = TOTPDevice.objects.get(user=clinic_admin, confirmed=False, pk__gt=attackers_device.pk)
    assert mfa.enrolment_secret(attackers_device).replace(" ", "") in attacker_page
    assert mfa.enrolment_secret(attackers_device).replace(" ", "") not in owner_page
    assert mfa.enrolment_secret(owners_device).replace(" ", "") in owner_page
    # The attacker's key, confirmed in the owner's session, is not what the owner enrols.
    refused = owner.post(ENROL, {"code": totp_clock.code(attackers_device)})
    assert "does not match" in refused.content.decode()
    assert owner.post(ENROL, {"code": totp_clock.code(owners_device)}).status_code == 200
    assert list(TOTPDevice.objects.filter(user=clinic_admin).values_list("pk", "confirmed")) == [
        (owners_device.pk, True)
    ]
    # The attacker's session ended with the enrolment (the credentials changed), key and all.
    assert attacker.get(ENROL).status_code == 302


def test_an_enrolment_post_without_a_started_setup_confirms_nothing(client, clinic_admin, totp_clock):
    log_in_with_password(client, clinic_admin)
    elsewhere = mfa.enrolment_start(clinic_admin)  # another session's pending key

    response = client.post(ENROL, {"code": totp_clock.code(elsewhere)})

    assert response.status_code == 200 and "was replaced" in response.content.decode()
    assert not TOTPDevice.objects.filter(user=clinic_admin, confirmed=True).exists()


def test_a_superuser_enrols_whatever_the_clinic_setting(client, clinic):
    clinic.mfa_required_roles = []
    clinic.save()
    root = User.objects.create_superuser("root", "root@example.org", DEFAULT_PASSWORD)

    log_in_with_password(client, root)

    assert client.get("/admin/")["Location"] == ENROL


def test_roles_the_clinic_does_not_require_use_the_admin_with_the_password(client, nurse):
    log_in_with_password(client, nurse)

    assert client.get("/admin/patients/patient/").status_code == 200


def test_an_unverified_session_of_someone_who_must_enrol_is_sent_to_enrol(clinic_admin):
    """A session that passed no second factor (force_login marks it passed: conftest.py)."""
    client = Client()
    client.force_login(clinic_admin)
    session = client.session
    del session[MFA_VERIFIED]
    session.save()

    assert client.get("/admin/")["Location"] == ENROL


# --- reset by the clinic's admin ------------------------------------------------------------------


def reset(client: Client, *users):
    return client.post(
        USERS, {"action": "reset_second_factor", "_selected_action": [str(user.pk) for user in users]}
    )


def test_a_clinic_admin_resets_a_colleagues_second_factor(
    browser, api, clinic_admin, nurse, enrol, totp_clock, mfa_token
):
    device, codes = enrol(nurse)
    pair = post_mfa(api(), mfa_token(nurse), totp_clock.code(device)).json()
    totp_clock.advance()
    nurses_session = Client()
    log_in_with_password(nurses_session, nurse)
    nurses_session.post(CODE, {"code": totp_clock.code(device)})
    assert nurses_session.get("/admin/patients/patient/").status_code == 200
    change_page = browser(clinic_admin).get(f"{USERS}{nurse.pk}/change/")
    assert "10 recovery codes left" in change_page.content.decode()

    response = reset(browser(clinic_admin), nurse)

    assert response.status_code == 302
    assert not TOTPDevice.objects.filter(user=nurse).exists()
    assert not RecoveryCode.objects.filter(user=nurse).exists()
    # Their session, tokens are over...
    assert nurses_session.get("/admin/patients/patient/").status_code == 302
    assert_error(bearer_client(pair["access_token"]).get(ME_URL), 401, "authentication_failed")
    # ... and their next login sets up a new authenticator first (nurses need none in this clinic).
    assert_error(post_login(api(), nurse.username), 403, "mfa_enrolment_required")
    again = Client()
    log_in_with_password(again, nurse)
    assert again.get("/admin/")["Location"] == ENROL
    assert_error(post_mfa(api(), "x", codes[0]), 401, "invalid_mfa_token")


def test_a_clinic_admin_cannot_reset_a_superusers_second_factor(browser, clinic_admin, clinic, totp_clock):
    root = UserFactory(username="root", tenant=clinic, role=Role.ADMIN, is_superuser=True)
    device = mfa.enrolment_start(root)
    assert mfa.enrolment_confirm(user=root, device_id=device.pk, code=totp_clock.code(device)) is not None

    reset(browser(clinic_admin), root)

    assert TOTPDevice.objects.filter(user=root, confirmed=True).exists()
    assert User.objects.get(pk=root.pk).mfa_enrolment_due is False


def test_a_clinic_admin_cannot_reset_another_clinics_staff(browser, clinic_admin, other_clinic, enrol):
    theirs = UserFactory(tenant=other_clinic, role=Role.NURSE, username="zed.nurse")
    enrol(theirs)

    reset(browser(clinic_admin), theirs)

    assert TOTPDevice.objects.filter(user=theirs, confirmed=True).exists()


def test_other_staff_cannot_reset(browser, staff_of, nurse, enrol):
    enrol(nurse)

    reset(browser(staff_of(Role.DOCTOR)), nurse)

    assert TOTPDevice.objects.filter(user=nurse, confirmed=True).exists()


def test_a_superuser_resets_anyone(browser, superuser, nurse, enrol):
    enrol(nurse)

    reset(browser(superuser), nurse)

    assert not TOTPDevice.objects.filter(user=nurse).exists()


def test_django_otps_device_admin_is_not_exposed(browser, superuser, nurse, enrol):
    enrol(nurse)

    assert browser(superuser).get("/admin/otp_totp/totpdevice/").status_code == 404


# --- the clinic's setting -------------------------------------------------------------------------


def test_a_clinic_admin_sets_which_roles_must_use_a_second_factor(browser, clinic_admin, clinic):
    client = browser(clinic_admin)
    page = client.get(f"/admin/accounts/tenant/{clinic.pk}/change/")
    assert page.status_code == 200
    assert page.context["adminform"].form.initial["mfa_required_roles"] == [Role.ADMIN]

    response = client.post(
        f"/admin/accounts/tenant/{clinic.pk}/change/",
        {
            "name": clinic.name,
            "timezone": clinic.timezone,
            "mfa_required_roles": [Role.NURSE, Role.ADMIN, "superuser"],
        },
    )
    assert response.status_code == 200  # "superuser" is no role: refused
    response = client.post(
        f"/admin/accounts/tenant/{clinic.pk}/change/",
        {"name": clinic.name, "timezone": clinic.timezone, "mfa_required_roles": [Role.NURSE, Role.ADMIN]},
    )

    assert response.status_code == 302
    clinic.refresh_from_db()
    assert clinic.mfa_required_roles == [Role.ADMIN, Role.NURSE]


# --- an operator's way back in --------------------------------------------------------------------


def test_manage_py_resets_a_superusers_second_factor(client, totp_clock):
    root = User.objects.create_superuser("root", "root@example.org", DEFAULT_PASSWORD)
    device = mfa.enrolment_start(root)
    assert mfa.enrolment_confirm(user=root, device_id=device.pk, code=totp_clock.code(device)) is not None

    call_command("reset_second_factor", "root", stdout=io.StringIO())

    assert not TOTPDevice.objects.filter(user=root).exists()
    log_in_with_password(client, root)
    assert client.get("/admin/")["Location"] == ENROL
    with pytest.raises(CommandError, match="No user"):
        call_command("reset_second_factor", "nobody", stdout=io.StringIO())
