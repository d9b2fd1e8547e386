"""Failed logins are counted per username and per client address in fixed windows; reaching either
limit answers 429 with Retry-After until the window ends, even with the right password.

The throttle's clock is pinned 100 s into a 600 s window, so no test can straddle a window
boundary (which would reset the counts) and Retry-After has one exact expected value.
"""

import pytest

from keneyapp.accounts import login_throttle
from tests.accounts.conftest import assert_error, post_login
from tests.factories import DEFAULT_PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

WINDOW = 600
WINDOW_START = 1_800_000_000 - 1_800_000_000 % WINDOW


class _Clock:
    def __init__(self, now: float):
        self.now = now

    def time(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch, settings):
    settings.LOGIN_FAILURE_WINDOW_SECONDS = WINDOW
    settings.LOGIN_MAX_FAILURES_PER_USERNAME = 3
    settings.LOGIN_MAX_FAILURES_PER_ADDRESS = 100
    clock = _Clock(WINDOW_START + 100)
    monkeypatch.setattr(login_throttle, "time", clock)
    return clock


def fail_login(client, username: str, times: int, **extra) -> None:
    for _ in range(times):
        assert post_login(client, username, "wrong password", **extra).status_code == 401


def assert_throttled(response, retry_after: int) -> None:
    body = assert_error(response, 429, "throttled")
    assert "access_token" not in body
    assert response["Retry-After"].isdigit()
    assert int(response["Retry-After"]) == retry_after


def test_failures_below_the_username_limit_do_not_lock_out(api, doctor, clock):
    fail_login(api(), "alice", 2)

    assert post_login(api(), "alice").status_code == 200


def test_username_is_locked_out_after_max_failures_even_with_the_right_password(api, doctor, clock):
    fail_login(api(), "alice", 3)

    response = post_login(api(), "alice")

    assert_throttled(response, retry_after=WINDOW - 100)


def test_retry_after_counts_down_to_the_end_of_the_window(api, doctor, clock):
    fail_login(api(), "alice", 3)
    clock.now += 450

    assert_throttled(post_login(api(), "alice"), retry_after=WINDOW - 550)


def test_username_lockout_ends_with_the_window(api, doctor, clock):
    fail_login(api(), "alice", 3)
    clock.now += WINDOW - 100

    assert post_login(api(), "alice").status_code == 200


def test_username_lockout_ignores_case_and_surrounding_spaces(api, doctor, clock):
    fail_login(api(), "ALICE", 1)
    fail_login(api(), " Alice ", 1)
    fail_login(api(), "alice", 1)

    assert post_login(api(), "alice").status_code == 429


def test_username_lockout_does_not_lock_out_other_users(api, doctor, outsider, clock):
    fail_login(api(), "alice", 3)

    assert post_login(api(), "bob").status_code == 200


def test_address_is_locked_out_after_max_failures_across_usernames(api, doctor, clock, settings):
    settings.LOGIN_MAX_FAILURES_PER_USERNAME = 100
    settings.LOGIN_MAX_FAILURES_PER_ADDRESS = 3
    for username in ("mallory1", "mallory2", "mallory3"):
        fail_login(api(), username, 1, REMOTE_ADDR="203.0.113.7")

    from_attacker = post_login(api(), "alice", REMOTE_ADDR="203.0.113.7")
    from_elsewhere = post_login(api(), "alice", REMOTE_ADDR="198.51.100.9")

    assert_throttled(from_attacker, retry_after=WINDOW - 100)
    assert from_elsewhere.status_code == 200


def test_forwarded_for_header_is_not_trusted_without_proxies(api, doctor, clock, settings):
    settings.LOGIN_MAX_FAILURES_PER_USERNAME = 100
    settings.LOGIN_MAX_FAILURES_PER_ADDRESS = 3
    assert settings.NUM_PROXIES == 0
    for number in range(3):
        fail_login(
            api(), f"mallory{number}", 1, REMOTE_ADDR="203.0.113.7", HTTP_X_FORWARDED_FOR=f"10.0.0.{number}"
        )

    response = post_login(api(), "alice", REMOTE_ADDR="203.0.113.7", HTTP_X_FORWARDED_FOR="10.0.0.99")

    assert response.status_code == 429


def test_behind_one_proxy_the_forwarded_address_is_the_client(api, doctor, clock, settings):
    settings.NUM_PROXIES = 1
    settings.LOGIN_MAX_FAILURES_PER_USERNAME = 100
    settings.LOGIN_MAX_FAILURES_PER_ADDRESS = 3
    proxy = {"REMOTE_ADDR": "10.0.0.1"}
    for number in range(3):
        fail_login(api(), f"mallory{number}", 1, HTTP_X_FORWARDED_FOR="203.0.113.7", **proxy)

    attacker = post_login(api(), "alice", HTTP_X_FORWARDED_FOR="203.0.113.7", **proxy)
    colleague = post_login(api(), "alice", HTTP_X_FORWARDED_FOR="198.51.100.9", **proxy)

    assert attacker.status_code == 429
    assert colleague.status_code == 200


def test_successful_logins_are_never_counted(api, doctor, clock, settings):
    settings.LOGIN_MAX_FAILURES_PER_USERNAME = 2
    settings.LOGIN_MAX_FAILURES_PER_ADDRESS = 2
    colleagues = UserFactory.create_batch(10, tenant=doctor.tenant)

    statuses = [post_login(api(), "alice").status_code for _ in range(10)]
    statuses += [post_login(api(), user.username).status_code for user in colleagues]

    assert set(statuses) == {200}
    # The counters are still at zero: one failure is refused as a failure, not throttled.
    assert post_login(api(), "alice", "wrong password").status_code == 401


# --- one lockout for both doors -------------------------------------------------------------------


def post_admin_login(client, username: str, password: str):
    return client.post(
        "/admin/login/?next=/admin/", {"username": username, "password": password}, REMOTE_ADDR="10.0.0.9"
    )


@pytest.fixture
def staff_doctor(doctor):
    doctor.is_staff = True
    doctor.save(update_fields=["is_staff"])
    return doctor


def test_failures_at_the_api_lock_the_admin_login_too(api, client, staff_doctor, clock):
    fail_login(api(), "alice", 3)

    response = post_admin_login(client, "alice", DEFAULT_PASSWORD)
    assert response.status_code == 200  # the form again, not a redirect into the admin
    assert "Too many failed logins" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_failures_at_the_admin_lock_the_api_login_too(api, client, staff_doctor, clock):
    for _ in range(3):
        response = post_admin_login(client, "alice", "wrong password")
        assert response.status_code == 200 and "_auth_user_id" not in client.session

    assert_throttled(post_login(api(), "alice"), retry_after=WINDOW - 100)


def test_the_admin_login_works_below_the_limit(client, staff_doctor, clock):
    post_admin_login(client, "alice", "wrong password")

    response = post_admin_login(client, "alice", DEFAULT_PASSWORD)
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(staff_doctor.pk)


def test_staff_of_a_closed_clinic_cannot_log_in_to_the_admin(client, staff_doctor, clock):
    staff_doctor.tenant.is_active = False
    staff_doctor.tenant.save(update_fields=["is_active"])

    response = post_admin_login(client, "alice", DEFAULT_PASSWORD)
    assert response.status_code == 200
    assert "_auth_user_id" not in client.session


# --- the shared cache unreachable -----------------------------------------------------------------


@pytest.fixture
def shared_cache_down(monkeypatch):
    from django_redis.exceptions import ConnectionInterrupted

    class Unreachable:
        def __getattr__(self, name):
            def refuse(*args, **kwargs):
                raise ConnectionInterrupted(connection=None)

            return refuse

    monkeypatch.setattr(login_throttle, "cache", Unreachable())
    monkeypatch.setattr(login_throttle, "_shared_down_until", 0.0)
    login_throttle._local_counts.clear()
    yield
    login_throttle._local_counts.clear()


def test_a_login_answers_when_the_shared_cache_is_down(api, doctor, clock, shared_cache_down):
    assert post_login(api(), "alice").status_code == 200
    assert post_login(api(), "alice", "wrong password").status_code == 401


def test_logins_are_still_throttled_per_process_when_the_shared_cache_is_down(
    api, doctor, clock, shared_cache_down
):
    fail_login(api(), "alice", 3)

    assert_throttled(post_login(api(), "alice"), retry_after=WINDOW - 100)
