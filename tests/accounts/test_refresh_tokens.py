"""POST /api/v1/auth/refresh and /api/v1/auth/logout: rotation, replay detection, expiry, and
logging out, through the API as a client would."""

import pytest
from django.db import connection
from rest_framework.test import APIClient

from keneyapp.accounts.models import RefreshToken
from tests.accounts.conftest import LOGOUT_URL, ME_URL, assert_error, bearer_client, post_refresh
from tests.concurrency import run_at_once

pytestmark = pytest.mark.django_db


def test_refresh_answers_a_new_pair_whose_access_token_works(api, doctor, login_pair, settings):
    first = login_pair(doctor)

    response = post_refresh(api(), first["refresh_token"])

    assert response.status_code == 200
    second = response.json()
    assert set(second) == {"access_token", "refresh_token", "token_type", "expires_in"}
    assert second["token_type"] == "bearer"
    assert second["expires_in"] == settings.ACCESS_TOKEN_TTL_SECONDS
    assert second["refresh_token"] != first["refresh_token"]
    me = bearer_client(second["access_token"]).get(ME_URL)
    assert me.status_code == 200
    assert me.json()["id"] == doctor.pk


def test_refresh_rotates_the_new_token_works_and_the_old_one_stops(api, doctor, login_pair):
    first = login_pair(doctor)
    second = post_refresh(api(), first["refresh_token"]).json()

    third = post_refresh(api(), second["refresh_token"])
    old = post_refresh(api(), first["refresh_token"])

    assert third.status_code == 200
    assert_error(old, 401, "authentication_failed")


def test_replaying_a_rotated_token_revokes_the_whole_family(api, doctor, login_pair, settings):
    settings.REFRESH_REUSE_GRACE_SECONDS = -1  # the replay comes after the grace period
    first = login_pair(doctor)
    second = post_refresh(api(), first["refresh_token"]).json()

    replay = post_refresh(api(), first["refresh_token"])
    newest = post_refresh(api(), second["refresh_token"])

    assert_error(replay, 401, "authentication_failed")
    assert_error(newest, 401, "authentication_failed")


def test_replay_within_the_grace_period_is_refused_but_keeps_the_login(api, doctor, login_pair):
    """Two tabs of one SPA refreshing with the same token at once: the late one is refused, and
    the pair the early one received keeps working."""
    first = login_pair(doctor)
    second = post_refresh(api(), first["refresh_token"]).json()

    late_tab = post_refresh(api(), first["refresh_token"])

    assert_error(late_tab, 401, "authentication_failed")
    assert post_refresh(api(), second["refresh_token"]).status_code == 200


def test_replay_revokes_only_the_login_it_belongs_to(api, doctor, login_pair, settings):
    settings.REFRESH_REUSE_GRACE_SECONDS = -1
    phone = login_pair(doctor)
    laptop = login_pair(doctor)
    post_refresh(api(), phone["refresh_token"])

    post_refresh(api(), phone["refresh_token"])  # replay: revokes the phone's login

    assert post_refresh(api(), laptop["refresh_token"]).status_code == 200


def test_expired_refresh_token_is_401(api, doctor, login_pair, settings):
    settings.REFRESH_TOKEN_TTL_SECONDS = -1
    expired = login_pair(doctor)

    assert_error(post_refresh(api(), expired["refresh_token"]), 401, "authentication_failed")


def test_unknown_refresh_token_is_401(api, doctor, login_pair):
    login_pair(doctor)

    assert_error(post_refresh(api(), "not-a-token-we-issued"), 401, "authentication_failed")


def test_refresh_for_a_deactivated_user_is_401(api, doctor, login_pair):
    pair = login_pair(doctor)
    doctor.is_active = False
    doctor.save(update_fields=["is_active"])

    assert_error(post_refresh(api(), pair["refresh_token"]), 401, "authentication_failed")


def test_refresh_for_a_deactivated_clinic_is_401(api, doctor, clinic, login_pair):
    pair = login_pair(doctor)
    clinic.is_active = False
    clinic.save(update_fields=["is_active"])

    assert_error(post_refresh(api(), pair["refresh_token"]), 401, "authentication_failed")


def test_refresh_with_unknown_field_is_400_naming_it(api, doctor, login_pair):
    pair = login_pair(doctor)

    response = api().post(
        "/api/v1/auth/refresh", {"refresh_token": pair["refresh_token"], "user_id": 1}, format="json"
    )

    body = assert_error(response, 400, "validation_error")
    assert set(body["fields"]) == {"user_id"}


# --- Logout ---------------------------------------------------------------------------------------


def test_logout_makes_the_refresh_token_stop_working(api, doctor, login_pair):
    pair = login_pair(doctor)

    response = bearer_client(pair["access_token"]).post(
        LOGOUT_URL, {"refresh_token": pair["refresh_token"]}, format="json"
    )

    assert response.status_code == 204
    assert_error(post_refresh(api(), pair["refresh_token"]), 401, "authentication_failed")


def test_logout_with_a_rotated_token_ends_the_whole_login(api, doctor, login_pair):
    first = login_pair(doctor)
    second = post_refresh(api(), first["refresh_token"]).json()

    bearer_client(second["access_token"]).post(
        LOGOUT_URL, {"refresh_token": first["refresh_token"]}, format="json"
    )

    assert post_refresh(api(), second["refresh_token"]).status_code == 401


def test_logout_leaves_the_users_other_logins_alive(api, doctor, login_pair):
    phone = login_pair(doctor)
    laptop = login_pair(doctor)

    bearer_client(phone["access_token"]).post(
        LOGOUT_URL, {"refresh_token": phone["refresh_token"]}, format="json"
    )

    assert post_refresh(api(), laptop["refresh_token"]).status_code == 200


def test_logout_without_a_bearer_token_is_401_and_revokes_nothing(api, doctor, login_pair):
    pair = login_pair(doctor)

    response = APIClient().post(LOGOUT_URL, {"refresh_token": pair["refresh_token"]}, format="json")

    assert_error(response, 401, "not_authenticated")
    assert post_refresh(api(), pair["refresh_token"]).status_code == 200


def test_logout_cannot_revoke_another_users_login(api, doctor, outsider, login_pair):
    victim = login_pair(doctor)

    response = api(outsider).post(LOGOUT_URL, {"refresh_token": victim["refresh_token"]}, format="json")

    assert response.status_code == 204  # unknown tokens are ignored: no oracle for other users' tokens
    assert post_refresh(api(), victim["refresh_token"]).status_code == 200


def test_logout_without_refresh_token_is_400(api, doctor):
    response = api(doctor).post(LOGOUT_URL, {}, format="json")

    body = assert_error(response, 400, "validation_error")
    assert set(body["fields"]) == {"refresh_token"}


# --- Concurrency ----------------------------------------------------------------------------------


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_refreshes_with_one_token_yield_exactly_one_new_pair(doctor, login_pair):
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL's row locks (set DATABASE_URL)")
    pair = login_pair(doctor)
    racers = 6

    def refresh() -> int:
        return post_refresh(APIClient(), pair["refresh_token"]).status_code  # a client per racer

    statuses: list[int] = run_at_once([refresh] * racers, timeout=30, barrier_timeout=10)

    assert sorted(statuses) == [200] + [401] * (racers - 1)
    # The login's token and exactly one replacement: no second pair was ever issued.
    assert RefreshToken.objects.filter(user=doctor).count() == 2
