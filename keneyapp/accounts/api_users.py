"""The user behind an access token, cached between requests.

Every API request needs its user (role) and clinic (active? time zone?). Read from PostgreSQL that
is one ORM query per request, about a third of a patient detail's time; through the cache service
it is one Redis round trip (the version check) and an in-process hit. The entry is a plain dict of
the fields authorization needs (never a password hash), under a key versioned on "user:<id>":
every save or delete of a user or a clinic bumps that version (keneyapp/accounts/revocation.py), so
deactivating someone, changing their password, role or clinic, or closing their clinic takes effect
on their next request, in every process, whichever door made the change. Only a write that
bypasses the model (a queryset update(), raw SQL) waits for AUTH_USER_CACHE_SECONDS. With Redis
unreachable the versions cannot be checked, so every request reads the database: slower, never
stale, never an error.
"""

from django.conf import settings

from keneyapp.accounts.models import Tenant, User
from keneyapp.core.caching import cache_service

USER_FIELDS = ("id", "username", "first_name", "last_name", "email", "role", "tenant_id", "is_active",
               "is_staff", "is_superuser", "language")  # fmt: skip
# The languages too: the API answers in them once DRF has authenticated (keneyapp/core/language.py).
TENANT_FIELDS = ("id", "name", "slug", "timezone", "is_active", "default_language")


def _namespace(user_id: int) -> str:
    return f"user:{user_id}"


# The snapshot's format is part of the key: entries a previous release cached (without the
# credentials fingerprint, v3 the languages) are never read by this one during a rolling deploy.
SNAPSHOT_FORMAT = "api-user.v3"


def _key(user_id: int) -> str | None:
    return cache_service.versioned_key(SNAPSHOT_FORMAT, user_id, namespaces=[_namespace(user_id)])


def load_api_user(user_id: int) -> User | None:
    """The active user with their clinic joined, from the cache or else one query, carrying
    `access_fingerprint` (their credentials fingerprint) and `revoked_login_families` (logins
    ended within an access token's lifetime) for keneyapp.accounts.authentication."""
    key = _key(user_id)
    snapshot = cache_service.get(key)
    if snapshot is None:
        user = User.objects.select_related("tenant").filter(pk=user_id, is_active=True).first()
        if user is None:
            return None
        snapshot = {
            "user": {name: getattr(user, name) for name in USER_FIELDS},
            "tenant": None
            if user.tenant is None
            else {name: getattr(user.tenant, name) for name in TENANT_FIELDS},
            "fingerprint": user.credentials_fingerprint(),
            "revoked_families": [family for family, _ in user.ended_logins],
        }
        if key is not None:
            cache_service.count_computed(key)
        cache_service.set(key, snapshot, ttl=settings.AUTH_USER_CACHE_SECONDS)
        _attach_credentials(user, snapshot)
        return user
    return _rebuild(snapshot)


def _attach_credentials(user: User, snapshot: dict) -> None:
    user.access_fingerprint = snapshot["fingerprint"]
    user.revoked_login_families = frozenset(snapshot["revoked_families"])


def _rebuild(snapshot: dict) -> User:
    user = User(**snapshot["user"])
    user._state.adding, user._state.db = False, "default"
    if snapshot["tenant"] is not None:
        tenant = Tenant(**snapshot["tenant"])
        tenant._state.adding, tenant._state.db = False, "default"
        user.tenant = tenant
    _attach_credentials(user, snapshot)
    return user


def forget_api_users(user_ids) -> None:
    for user_id in user_ids:
        cache_service.bump(_namespace(user_id))
