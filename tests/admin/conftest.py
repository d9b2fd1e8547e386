"""Admin fixtures: a browser-like Django test client logged in as a given user."""

import pytest
from django.test import Client

from tests.factories import UserFactory


@pytest.fixture
def browser():
    """browser(user) -> a django.test.Client with that user's session (the admin's way in)."""

    def make(user) -> Client:
        client = Client()
        client.force_login(user)
        return client

    return make


@pytest.fixture
def superuser(db):
    return UserFactory(username="root", tenant=None, role="", is_superuser=True, is_staff=True)
