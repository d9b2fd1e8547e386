"""Multi-factor login through the API: POST /auth/login answers `mfa_required` and an `mfa_token` for
a user with a second factor, POST /auth/mfa exchanges it and a code for the token pair; who must
have one and has none gets 403 `mfa_enrolment_required`; every refused code or token is a 401
counted on the login lockout."""

from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone
from rest_framework.test import APIClient

from keneyapp.accounts import login_throttle, mfa
from keneyapp.accounts.models import MfaChallenge, RecoveryCode, RefreshToken, User
from keneyapp.accounts.roles import Role
from tests.accounts.conftest import ME_URL, assert_error, bearer_client, post_login, post_mfa, post_refresh
from tests.concurrency import run_at_once
from tests.factories import DEFAULT_PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

PAIR_KEYS = {"access_token", "refresh_token", "token_type", "expires_in"}


def set_required_roles(tenant, roles) -> None:
    tenant.mfa_required_roles = list(roles)
    tenant.save(update_fields=["mfa_required_roles"])


# --- the two steps --------------------------------------------------------------------------------


def test_a_right_password_of_an_enrolled_user_answers_mfa_required_and_no_tokens(api, doctor, enrol):
    enrol(doctor)

    response = post_login(api(), doctor.username)

    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"mfa_required", "mfa_token", "expires_in"}
    assert body["mfa_required"] is True
    assert len(body["mfa_token"]) >= 40
    assert body["expires_in"] == 300
    assert not RefreshToken.objects.exists()
    # Stored only as its digest.
    assert not MfaChallenge.objects.filter(token_hash=body["mfa_token"]).exists()


def test_the_code_exchanges_the_mfa_token_for_the_login_answer(api, doctor, enrol, totp_clock, mfa_token):
    device, _ = enrol(doctor)

    response = post_mfa(api(), mfa_token(doctor), totp_clock.code(device))

    assert response.status_code == 200, response.content
    pair = response.json()
    assert set(pair) == PAIR_KEYS and pair["token_type"] == "bearer"
    assert bearer_client(pair["access_token"]).get(ME_URL).json()["username"] == "alice"
    assert RefreshToken.objects.get().mfa_verified
    refreshed = post_refresh(api(), pair["refresh_token"])
    assert refreshed.status_code == 200 and RefreshToken.objects.filter(mfa_verified=True).count() == 2


def test_a_wrong_password_of_an_enrolled_user_is_the_usual_401(api, doctor, enrol):
    enrol(doctor)

    body = assert_error(post_login(api(), doctor.username, "not the password"), 401, "invalid_credentials")

    assert "mfa_token" not in body


def test_the_mfa_token_is_good_once(api, doctor, enrol, totp_clock, mfa_token):
    device, _ = enrol(doctor)
    token = mfa_token(doctor)
    assert post_mfa(api(), token, totp_clock.code(device)).status_code == 200
    totp_clock.advance()

    again = post_mfa(api(), token, totp_clock.code(device))

    assert_error(again, 401, "invalid_mfa_token")
    assert RefreshToken.objects.count() == 1


def test_an_expired_mfa_token_is_refused(api, doctor, enrol, totp_clock, mfa_token):
    device, _ = enrol(doctor)
    token = mfa_token(doctor)
    MfaChallenge.objects.update(expires_at=timezone.now() - timedelta(seconds=1))

    assert_error(post_mfa(api(), token, totp_clock.code(device)), 401, "invalid_mfa_token")
    assert not RefreshToken.objects.exists()


def test_an_unknown_mfa_token_is_refused(api, doctor, enrol, totp_clock):
    device, _ = enrol(doctor)

    assert_error(post_mfa(api(), "made-up-token", totp_clock.code(device)), 401, "invalid_mfa_token")


def test_a_password_change_between_the_steps_voids_the_mfa_token(api, doctor, enrol, totp_clock, mfa_token):
    device, _ = enrol(doctor)
    token = mfa_token(doctor)
    doctor.set_password("Another-long-password-77")
    doctor.save()

    assert_error(post_mfa(api(), token, totp_clock.code(device)), 401, "invalid_mfa_token")


def test_the_mfa_token_dies_after_three_wrong_codes(api, doctor, enrol, totp_clock, mfa_token):
    device, _ = enrol(doctor)
    token = mfa_token(doctor)
    for _ in range(3):
        assert_error(post_mfa(api(), token, "000000" if totp_clock.code(device) != "000000" else "111111"),
                     401, "invalid_mfa_code")  # fmt: skip

    assert_error(post_mfa(api(), token, totp_clock.code(device)), 401, "invalid_mfa_token")


# --- codes ----------------------------------------------------------------------------------------


def test_a_code_is_refused_when_used_again_within_its_window(api, doctor, enrol, totp_clock, mfa_token):
    device, _ = enrol(doctor)
    code = totp_clock.code(device)
    assert post_mfa(api(), mfa_token(doctor), code).status_code == 200

    reused = post_mfa(api(), mfa_token(doctor), code)

    assert_error(reused, 401, "invalid_mfa_code")
    # The next step's code works: the refusal was the reuse, not the device.
    totp_clock.advance()
    assert post_mfa(api(), mfa_token(doctor), totp_clock.code(device)).status_code == 200


@pytest.mark.parametrize(("offset", "accepted"), [(-2, False), (-1, True), (0, True), (1, True), (2, False)])
def test_one_step_of_clock_skew_is_accepted_two_are_not(
    api, doctor, enrol, totp_clock, mfa_token, offset, accepted
):
    device, _ = enrol(doctor)
    totp_clock.advance(2)  # so that two steps back is after the enrolment's code

    response = post_mfa(api(), mfa_token(doctor), totp_clock.code(device, offset))

    if accepted:
        assert response.status_code == 200, response.content
    else:
        assert_error(response, 401, "invalid_mfa_code")


def test_skew_does_not_move_the_window(api, doctor, enrol, totp_clock, mfa_token):
    """OTP_TOTP_SYNC is off: a code one step ahead does not make two steps ahead acceptable later."""
    device, _ = enrol(doctor)
    assert post_mfa(api(), mfa_token(doctor), totp_clock.code(device, +1)).status_code == 200
    totp_clock.advance(1)

    assert_error(post_mfa(api(), mfa_token(doctor), totp_clock.code(device, +2)), 401, "invalid_mfa_code")


def test_a_recovery_code_logs_in_once(api, doctor, enrol, mfa_token):
    _, codes = enrol(doctor)
    assert len(codes) == 10 and len(set(codes)) == 10

    first = post_mfa(api(), mfa_token(doctor), codes[0])
    again = post_mfa(api(), mfa_token(doctor), codes[0])
    # As typed from paper: capitals, no dash, spaces.
    another = post_mfa(api(), mfa_token(doctor), " " + codes[1].replace("-", " ").upper())

    assert first.status_code == 200
    assert_error(again, 401, "invalid_mfa_code")
    assert another.status_code == 200, another.content
    assert mfa.unused_recovery_codes(doctor) == 8


def test_recovery_codes_are_stored_as_digests(doctor, enrol):
    _, codes = enrol(doctor)

    stored = list(RecoveryCode.objects.filter(user=doctor).values_list("code_hash", flat=True))

    assert len(stored) == 10
    plain = {code.replace("-", "") for code in codes}
    assert not plain & set(stored)
    assert all(len(digest) == 64 for digest in stored)


def test_another_users_recovery_code_is_refused(api, doctor, staff_of, enrol, mfa_token):
    nurse = staff_of(Role.NURSE, username="nadia")
    enrol(doctor)
    _, nurses_codes = enrol(nurse)

    assert_error(post_mfa(api(), mfa_token(doctor), nurses_codes[0]), 401, "invalid_mfa_code")


@pytest.mark.parametrize(
    "spelling",
    [
        lambda code: "".join(chr(0x0660 + int(d)) for d in code),  # Arabic-Indic digits
        lambda code: "".join(chr(0xFF10 + int(d)) for d in code),  # full-width digits
        lambda code: code + "0",
        lambda code: code[:5],
        lambda code: "abc",
        lambda code: "😀" * 6,
    ],
)
def test_a_malformed_code_is_a_401_never_a_500(api, doctor, enrol, totp_clock, mfa_token, spelling):
    device, _ = enrol(doctor)

    response = post_mfa(api(), mfa_token(doctor), spelling(totp_clock.code(device)))

    assert_error(response, 401, "invalid_mfa_code")


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        ({}, {"mfa_token", "code"}),
        ({"mfa_token": "x", "code": ""}, {"code"}),
        ({"mfa_token": 5, "code": ["123456"]}, {"code"}),
        ({"mfa_token": "x", "code": "123456", "password": "x"}, {"password"}),
        ({"mfa_token": "x" * 513, "code": "1" * 65}, {"mfa_token", "code"}),
    ],
)
def test_a_malformed_body_is_a_400_naming_the_fields(api, body, fields):
    response = api().post("/api/v1/auth/mfa", body, format="json")

    assert fields <= set(assert_error(response, 400, "validation_error")["fields"])


# --- lockout shared with passwords ----------------------------------------------------------------


@pytest.fixture
def strict_lockout(settings):
    settings.LOGIN_MAX_FAILURES_PER_USERNAME = 4
    settings.LOGIN_MAX_FAILURES_PER_ADDRESS = 100


def wrong_code(device, clock) -> str:
    right = {clock.code(device, offset) for offset in (-1, 0, 1)}
    return next(code for code in ("000000", "111111", "222222", "333333") if code not in right)


def test_wrong_codes_count_on_the_password_lockout(
    api, client, doctor, enrol, totp_clock, mfa_token, strict_lockout
):
    device, _ = enrol(doctor)
    token = mfa_token(doctor)
    for _ in range(3):
        assert_error(post_mfa(api(), token, wrong_code(device, totp_clock)), 401, "invalid_mfa_code")
    assert_error(post_login(api(), doctor.username, "wrong password"), 401, "invalid_credentials")

    # Four failures (three codes, one password): locked out everywhere, even with the right answers.
    assert_error(post_login(api(), doctor.username), 429, "throttled")
    doctor.is_staff = True
    doctor.save(update_fields=["is_staff"])
    admin_login = client.post(
        "/admin/login/?next=/admin/", {"username": "alice", "password": DEFAULT_PASSWORD}
    )
    assert "Too many failed logins" in admin_login.content.decode()


def test_a_locked_out_user_cannot_pass_the_second_step(
    api, doctor, enrol, totp_clock, mfa_token, strict_lockout
):
    device, _ = enrol(doctor)
    token = mfa_token(doctor)
    for _ in range(4):
        login_throttle.record_login_failure(doctor.username, "203.0.113.1")  # elsewhere

    response = post_mfa(api(), token, totp_clock.code(device))

    assert_error(response, 429, "throttled")
    assert response["Retry-After"].isdigit()
    assert not RefreshToken.objects.exists()


def test_unknown_mfa_tokens_count_on_the_address(api, settings):
    settings.LOGIN_MAX_FAILURES_PER_ADDRESS = 3
    for _ in range(3):
        assert_error(post_mfa(api(), "guessed-token", "123456"), 401, "invalid_mfa_token")

    assert_error(post_mfa(api(), "guessed-token", "123456"), 429, "throttled")
    assert_error(post_login(api(), "anyone", "anything-at-all"), 429, "throttled")


# --- who must ------------------------------------------------------------------------------------


def test_a_clinic_admin_without_a_second_factor_must_enrol_first(api, clinic_admin):
    response = post_login(api(), clinic_admin.username)

    body = assert_error(response, 403, "mfa_enrolment_required")
    assert "/admin/" in body["detail"]
    assert not RefreshToken.objects.exists()


def test_roles_the_clinic_does_not_require_log_in_with_the_password(api, doctor, staff_of):
    for user in (doctor, staff_of(Role.NURSE), staff_of(Role.RECEPTIONIST)):
        assert set(post_login(api(), user.username).json()) == PAIR_KEYS


def test_the_required_roles_are_each_clinics_own(api, clinic, other_clinic, doctor, outsider):
    set_required_roles(clinic, [Role.ADMIN, Role.DOCTOR])
    other_admin = UserFactory(tenant=other_clinic, role=Role.ADMIN, username="zed.admin")
    set_required_roles(other_clinic, [])

    assert_error(post_login(api(), doctor.username), 403, "mfa_enrolment_required")
    assert set(post_login(api(), outsider.username).json()) == PAIR_KEYS  # a doctor elsewhere
    assert set(post_login(api(), other_admin.username).json()) == PAIR_KEYS


def test_a_superuser_must_always_use_a_second_factor(api, clinic):
    set_required_roles(clinic, [])
    User.objects.create_superuser(
        "root", "root@example.org", DEFAULT_PASSWORD, tenant=clinic, role=Role.ADMIN
    )

    assert_error(post_login(api(), "root"), 403, "mfa_enrolment_required")


def test_a_user_with_a_second_factor_uses_it_even_when_not_required(api, doctor, enrol):
    enrol(doctor)

    assert post_login(api(), doctor.username).json()["mfa_required"] is True


def test_a_login_without_the_second_factor_ends_when_the_clinic_starts_requiring_it(
    api, clinic, doctor, login_pair
):
    pair = login_pair(doctor)
    set_required_roles(clinic, [Role.ADMIN, Role.DOCTOR])

    assert_error(post_refresh(api(), pair["refresh_token"]), 401, "authentication_failed")


# --- enrolment and reset end earlier logins ------------------------------------------------------


def test_enrolling_ends_the_logins_made_without_the_second_factor(api, doctor, login_pair, enrol):
    pair = login_pair(doctor)

    enrol(doctor)

    assert_error(bearer_client(pair["access_token"]).get(ME_URL), 401, "authentication_failed")
    assert_error(post_refresh(api(), pair["refresh_token"]), 401, "authentication_failed")


def test_a_reset_ends_tokens_and_forces_enrolment_again(
    api, doctor, clinic_admin, enrol, totp_clock, mfa_token
):
    device, codes = enrol(doctor)
    pair = post_mfa(api(), mfa_token(doctor), totp_clock.code(device)).json()
    pending = mfa_token(doctor)

    mfa.second_factor_reset(user=doctor, by=clinic_admin)

    assert_error(bearer_client(pair["access_token"]).get(ME_URL), 401, "authentication_failed")
    assert_error(post_refresh(api(), pair["refresh_token"]), 401, "authentication_failed")
    assert_error(post_mfa(api(), pending, codes[0]), 401, "invalid_mfa_token")
    # Doctors need no second factor in this clinic, but a reset one must be enrolled again.
    assert_error(post_login(api(), doctor.username), 403, "mfa_enrolment_required")
    assert not RecoveryCode.objects.filter(user=doctor).exists()


def test_a_reset_is_announced_for_the_audit_trail(doctor, clinic_admin, enrol):
    from keneyapp.accounts import signals

    heard = []
    receiver = lambda sender, **kwargs: heard.append(kwargs)  # noqa: E731
    signals.second_factor_reset.connect(receiver)
    try:
        enrol(doctor)
        mfa.second_factor_reset(user=doctor, by=clinic_admin)
    finally:
        signals.second_factor_reset.disconnect(receiver)

    assert len(heard) == 1
    assert heard[0]["user"].pk == doctor.pk and heard[0]["by"].pk == clinic_admin.pk


# --- concurrency ----------------------------------------------------------------------------------


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_one_code_sent_at_once_by_several_logins_passes_once(doctor, enrol, totp_clock, mfa_token):
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL's row locks (set DATABASE_URL)")
    device, _ = enrol(doctor)
    racers = 6
    tokens = [mfa_token(doctor) for _ in range(racers)]
    code = totp_clock.code(device)

    def exchange(token: str):
        return lambda: post_mfa(APIClient(), token, code).status_code  # a client per racer

    statuses: list[int] = run_at_once([exchange(token) for token in tokens], timeout=30, barrier_timeout=10)

    assert sorted(statuses) == [200] + [401] * (racers - 1)
    assert RefreshToken.objects.filter(user=doctor).count() == 1
