"""Fixtures shared by the whole suite: two clinics, their staff, and authenticated API clients.

Naming follows healthchecks' alice/bob habit: `clinic` and its staff are "ours"; `other_clinic`
and `outsider` exist to prove that nothing of ours is visible to them, and the reverse.
"""

import inspect
import secrets

import pytest
from django.conf import settings as django_settings
from django.core.cache import cache
from django.test import Client
from django_scopes.state import state as scope_state
from rest_framework.test import APIClient

from keneyapp.accounts.admin_mfa import MFA_VERIFIED
from keneyapp.accounts.roles import Role
from keneyapp.accounts.tokens import issue_access_token
from keneyapp.core.caching import cache_service
from keneyapp.core.scoping import scopes_disabled
from tests.factories import TenantFactory, UserFactory

# The suite signs with a strong random key of its own, as production must (with DEBUG off the
# servers it starts refuse the development key; tests/live_servers.py hands them this one).
django_settings.SECRET_KEY = secrets.token_urlsafe(50)


@pytest.hookimpl(hookwrapper=True)
def pytest_fixture_setup(fixturedef, request):
    """Fixtures make rows for any clinic, so they run with scopes disabled (as pretix's do).

    A generator fixture's body cannot be wrapped from here (it resumes at teardown outside this
    hook): one that queries clinic-owned rows says `with scopes_disabled():` itself. Test bodies
    are never wrapped: a body that reads the ORM says so, and the requests it makes go through
    the real doors (ClinicScopeMiddleware clears any scope a request inherits).
    """
    if inspect.isgeneratorfunction(fixturedef.func):
        yield
    else:
        with scopes_disabled():
            yield


@pytest.fixture(autouse=True)
def _no_clinic_scope_leaks():
    """Every test body starts outside any clinic scope, and a test that leaves one active fails:
    a leaked scope would let the next test's unscoped queries pass unnoticed."""
    token = scope_state.set(None)
    yield
    leaked = scope_state.get()
    scope_state.reset(token)
    if leaked:
        pytest.fail(f"the test left a clinic scope active: {leaked}")


@pytest.fixture(autouse=True)
def _force_login_skips_the_second_factor(monkeypatch):
    """A test client's force_login() skips the password; it skips the second factor too, as if the
    session had passed it. The two-step login itself is tested through the real pages
    (tests/accounts/test_mfa_admin.py), and a test that needs a session without it removes the mark."""
    real_force_login = Client.force_login

    def force_login(self, user, backend=None):
        real_force_login(self, user, backend)
        session = self.session
        session[MFA_VERIFIED] = True
        session.save()

    monkeypatch.setattr(Client, "force_login", force_login)


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    # Argon2 costs ~50 ms a hash by design; tests hash hundreds of passwords.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _live_events_checked_when_published(settings):
    # An event that does not match its declared shape, or cannot be serialised, fails the test
    # (keneyapp/core/events.py) instead of becoming a log line.
    settings.LIVE_EVENTS_STRICT = True


@pytest.fixture(autouse=True)
def _channel_layer_not_resting():
    # A test that made the channel layer fail must not make the next one's events be dropped
    # (keneyapp/core/events.py rests the layer for a moment after a failure).
    from keneyapp.core.events import _LayerHealth

    _LayerHealth.failed_at = 0.0


@pytest.fixture(autouse=True)
def _static_files_without_collectstatic(settings):
    # Production serves hashed files from collectstatic's manifest; tests render the admin
    # without running collectstatic first.
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


@pytest.fixture(scope="session", autouse=True)
def _document_bucket(django_test_environment):
    # When the environment configures S3 (CI runs the suite against moto's server), its bucket
    # must exist before a test stores a document; production buckets are provisioned, not created.
    from documents.storage import ensure_bucket

    ensure_bucket()


@pytest.fixture(autouse=True)
def _private_document_storage(settings, tmp_path_factory):
    # Without S3, documents go to a temporary folder, never to the checkout's var/documents.
    documents = settings.STORAGES["documents"]
    if documents["BACKEND"].endswith("FileSystemStorage"):
        location = str(tmp_path_factory.getbasetemp() / "documents")
        settings.STORAGES = {
            **settings.STORAGES,
            "documents": {**documents, "OPTIONS": {**documents.get("OPTIONS", {}), "location": location}},
        }


@pytest.fixture(autouse=True)
def _clean_cache():
    # Both levels: the shared cache and this process's in-memory level of the cache service.
    cache.clear()
    cache_service.l1.clear()
    yield
    cache.clear()
    cache_service.l1.clear()


@pytest.fixture
def clinic(db):
    return TenantFactory(name="Clinique Alpha", slug="alpha")


@pytest.fixture
def other_clinic(db):
    return TenantFactory(name="Clinique Beta", slug="beta")


@pytest.fixture
def doctor(clinic):
    return UserFactory(tenant=clinic, role=Role.DOCTOR, username="alice")


@pytest.fixture
def staff_of(clinic):
    """staff_of(role) -> a user of `clinic` with that role."""

    def make(role: Role, **kwargs):
        return UserFactory(tenant=clinic, role=role, **kwargs)

    return make


@pytest.fixture
def nurse(staff_of):
    return staff_of(Role.NURSE, username="nadia", first_name="Nadia", last_name="Ba")


@pytest.fixture
def receptionist(staff_of):
    return staff_of(Role.RECEPTIONIST, username="rama", first_name="Rama", last_name="Diouf")


@pytest.fixture
def clinic_admin(staff_of):
    return staff_of(Role.ADMIN, username="aminata", first_name="Aminata", last_name="Kane")


@pytest.fixture
def outsider(other_clinic):
    return UserFactory(tenant=other_clinic, role=Role.DOCTOR, username="bob")


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
    """A platform operator: no clinic, sees every clinic in the admin."""
    return UserFactory(username="root", tenant=None, role="", is_superuser=True, is_staff=True)


def client_for(user) -> APIClient:
    client = APIClient()
    token = issue_access_token(user=user)
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return client


@pytest.fixture
def api():
    """api(user) -> an APIClient that sends that user's bearer token; api() -> anonymous."""

    def make(user=None) -> APIClient:
        return client_for(user) if user is not None else APIClient()

    return make


@pytest.fixture
def bumped(monkeypatch):
    """The cache namespaces invalidated (bumped), in order; the bumps still happen."""
    namespaces: list[str] = []
    real_bump = cache_service.bump
    monkeypatch.setattr(
        cache_service, "bump", lambda namespace: (namespaces.append(namespace), real_bump(namespace))
    )
    return namespaces
