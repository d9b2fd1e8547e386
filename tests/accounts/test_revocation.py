"""Revocation takes effect at once, everywhere: after a password change, a deactivation, a change
of role or clinic, every access token issued before is refused on its next request, every refresh
token stops working, the user's open websockets close with 4401 and their admin sessions end.
Logout and a replayed refresh token do the same for that one login."""

import asyncio
import time

import pytest
from channels.db import database_sync_to_async
from django.contrib.auth import get_user_model

from keneyapp.accounts.roles import Role
from tests.accounts.conftest import LOGOUT_URL, ME_URL, assert_error, bearer_client, post_login, post_refresh
from tests.factories import TenantFactory
from tests.messaging.websocket_helpers import communicator

pytestmark = pytest.mark.django_db(transaction=True)


def login(api, user) -> dict:
    response = post_login(api(), user.username)
    assert response.status_code == 200, response.content
    return response.json()


def assert_works(pair):
    assert bearer_client(pair["access_token"]).get(ME_URL).status_code == 200


def assert_access_refused(pair):
    assert_error(bearer_client(pair["access_token"]).get(ME_URL), 401, "authentication_failed")


def assert_refresh_refused(api, pair):
    assert_error(post_refresh(api(), pair["refresh_token"]), 401)


def change_password(user):
    user = get_user_model().objects.get(pk=user.pk)
    user.set_password("a brand new passphrase")
    user.save()


def deactivate(user):
    user = get_user_model().objects.get(pk=user.pk)
    user.is_active = False
    user.save()


def change_role(user):
    user = get_user_model().objects.get(pk=user.pk)
    user.role = Role.RECEPTIONIST
    user.save()


def change_clinic(user):
    user = get_user_model().objects.get(pk=user.pk)
    user.tenant = TenantFactory(slug=f"moved-{user.pk}")
    user.save()


CHANGES = {
    "password": change_password,
    "deactivation": deactivate,
    "role": change_role,
    "clinic": change_clinic,
}


@pytest.mark.parametrize("change", CHANGES)
def test_a_credentials_change_ends_every_token_issued_before(api, doctor, change):
    first, second = login(api, doctor), login(api, doctor)
    assert_works(first)  # the user is cached now: the change must reach past the cache

    CHANGES[change](doctor)

    for pair in (first, second):
        assert_access_refused(pair)
        assert_refresh_refused(api, pair)


def test_a_new_login_after_a_role_change_works(api, doctor):
    change_role(doctor)
    assert_works(login(api, doctor))


def test_logout_ends_that_logins_access_token_but_not_another_login(api, doctor):
    laptop, phone = login(api, doctor), login(api, doctor)
    assert_works(laptop)

    response = bearer_client(laptop["access_token"]).post(
        LOGOUT_URL, {"refresh_token": laptop["refresh_token"]}, format="json"
    )
    assert response.status_code == 204

    assert_access_refused(laptop)
    assert_refresh_refused(api, laptop)
    assert_works(phone)
    assert post_refresh(api(), phone["refresh_token"]).status_code == 200


def test_a_replayed_refresh_token_ends_the_familys_access_tokens(api, doctor, settings):
    settings.REFRESH_REUSE_GRACE_SECONDS = 0
    pair = login(api, doctor)
    renewed = post_refresh(api(), pair["refresh_token"]).json()
    assert_works(renewed)
    time.sleep(0.01)

    assert post_refresh(api(), pair["refresh_token"]).status_code == 401  # the replay

    assert_access_refused(renewed)
    assert_refresh_refused(api, renewed)


# --- open websockets --------------------------------------------------------------------------


async def open_socket_with(access_token: str):
    socket = communicator(["bearer", access_token])
    connected, _ = await socket.connect()
    assert connected
    return socket


async def assert_closed_with_4401(socket, timeout=3.0):
    deadline = time.monotonic() + timeout
    while True:
        output = await socket.receive_output(timeout=max(0.1, deadline - time.monotonic()))
        if output["type"] == "websocket.close":
            assert output["code"] == 4401
            return


@pytest.mark.parametrize("change", CHANGES)
def test_a_credentials_change_closes_the_users_open_sockets(api, doctor, change):
    pair = login(api, doctor)

    async def scenario():
        socket = await open_socket_with(pair["access_token"])
        await database_sync_to_async(CHANGES[change])(doctor)
        await assert_closed_with_4401(socket)

    asyncio.run(scenario())


def test_logout_closes_that_logins_socket_and_no_other(api, doctor):
    laptop, phone = login(api, doctor), login(api, doctor)

    async def scenario():
        laptop_socket = await open_socket_with(laptop["access_token"])
        phone_socket = await open_socket_with(phone["access_token"])
        response = await database_sync_to_async(
            lambda: bearer_client(laptop["access_token"]).post(
                LOGOUT_URL, {"refresh_token": laptop["refresh_token"]}, format="json"
            )
        )()
        assert response.status_code == 204
        await assert_closed_with_4401(laptop_socket)
        await phone_socket.send_to(text_data='{"type": "ping"}')
        assert await phone_socket.receive_json_from(timeout=3) == {"type": "pong"}
        await phone_socket.disconnect()

    asyncio.run(scenario())


def test_closing_a_clinic_closes_its_staffs_sockets(api, doctor):
    pair = login(api, doctor)

    def close_clinic():
        clinic = type(doctor.tenant).objects.get(pk=doctor.tenant_id)
        clinic.is_active = False
        clinic.save()

    async def scenario():
        socket = await open_socket_with(pair["access_token"])
        await database_sync_to_async(close_clinic)()
        await assert_closed_with_4401(socket)

    asyncio.run(scenario())
    assert_access_refused(pair)


# --- admin sessions ---------------------------------------------------------------------------


@pytest.mark.parametrize("change", ["password", "role", "clinic", "deactivation"])
def test_a_credentials_change_ends_admin_sessions(client, doctor, change):
    client.force_login(doctor)
    assert client.get("/admin/").status_code == 200

    CHANGES[change](doctor)

    response = client.get("/admin/")
    assert response.status_code == 302 and "/admin/login/" in response["Location"]
