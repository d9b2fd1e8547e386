"""Passwords are hashed with Argon2id at OWASP's parameters; older hashes are upgraded on login."""

import pytest
from django.contrib.auth.hashers import Argon2PasswordHasher, identify_hasher, make_password

from tests.factories import UserFactory

pytestmark = pytest.mark.django_db
PRODUCTION_HASHERS = [
    "keneyapp.accounts.hashers.ClinicArgon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]


def test_new_passwords_use_argon2id_with_owasp_parameters(settings):
    settings.PASSWORD_HASHERS = PRODUCTION_HASHERS
    encoded = make_password("a long clinic passphrase")
    assert encoded.startswith("argon2$argon2id$v=19$m=19456,t=2,p=1$")


def test_a_hash_with_djangos_default_parameters_is_upgraded_at_login(api, settings):
    settings.PASSWORD_HASHERS = PRODUCTION_HASHERS
    user = UserFactory(username="legacy")
    user.password = Argon2PasswordHasher().encode("old but valid", Argon2PasswordHasher().salt())
    user.save(update_fields=["password"])

    response = api().post(
        "/api/v1/auth/login", {"username": "legacy", "password": "old but valid"}, format="json"
    )

    assert response.status_code == 200
    user.refresh_from_db()
    assert "m=19456,t=2,p=1" in user.password
    assert identify_hasher(user.password).algorithm == "argon2"
