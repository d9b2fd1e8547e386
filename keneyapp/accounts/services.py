"""Writes for accounts: logging in (with its second step: keneyapp/accounts/mfa.py), rotating refresh
tokens, logging out, creating clinics and their staff."""

import uuid
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import authenticate, password_validation
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext
from django.views.decorators.debug import sensitive_variables

from keneyapp.accounts import mfa, tokens
from keneyapp.accounts.models import LANGUAGE_CHOICES, RefreshToken, Tenant, User
from keneyapp.accounts.roles import Role


class LoginFailed(Exception):
    """Wrong password, unknown user, inactive user or inactive clinic: callers must not tell
    these apart, so they all raise this one exception."""


class RefreshFailed(Exception):
    """Unknown, expired, revoked or replayed refresh token."""


class MfaEnrolmentRequired(Exception):
    """The right password of a user who must use a second factor and has none yet: they enrol in
    the admin (which asks for it before anything else), then log in again."""


@dataclass(frozen=True, slots=True)
class MfaRequired:
    """The login's answer for a user with a second factor: no tokens yet, the token to send the
    code with (POST /auth/mfa)."""

    mfa_token: str
    expires_in: int

    def as_response(self) -> dict:
        return {"mfa_required": True, "mfa_token": self.mfa_token, "expires_in": self.expires_in}


@dataclass(frozen=True, slots=True)
class TokenPair:
    access_token: str
    refresh_token: str
    expires_in: int

    def as_response(self) -> dict:
        return {
            "access_token": self.access_token,
            "refresh_token": self.refresh_token,
            "token_type": "bearer",
            "expires_in": self.expires_in,
        }


def _issue_pair(*, user: User, family: uuid.UUID, mfa_verified: bool) -> tuple[TokenPair, RefreshToken]:
    raw_refresh = tokens.new_refresh_token()
    stored = RefreshToken.objects.create(
        user=user,
        token_hash=tokens.hash_refresh_token(raw_refresh),
        family=family,
        credentials_fingerprint=user.credentials_fingerprint(),
        mfa_verified=mfa_verified,
        expires_at=timezone.now() + timedelta(seconds=settings.REFRESH_TOKEN_TTL_SECONDS),
    )
    pair = TokenPair(
        access_token=tokens.issue_access_token(user=user, family=family),
        refresh_token=raw_refresh,
        expires_in=settings.ACCESS_TOKEN_TTL_SECONDS,
    )
    return pair, stored


def user_may_use_api(user: User) -> bool:
    tenant = user.tenant  # None for a superuser outside every clinic (no query then)
    return user.is_active and (tenant is None or tenant.is_active)


# A traceback through here (Django's error page, an error reporter) shows the password as stars.
@sensitive_variables("password")
def auth_login(*, username: str, password: str) -> TokenPair | MfaRequired:
    """The token pair, or, for a user with a second factor, the MFA step's token; raises
    LoginFailed, or MfaEnrolmentRequired for a user who must have a second factor and has none."""
    # authenticate() runs the password hasher even for unknown usernames, so response time does
    # not reveal which usernames exist; it also refuses inactive users.
    user = authenticate(username=username, password=password)
    if user is None or not user_may_use_api(user):
        raise LoginFailed
    if mfa.has_second_factor(user):
        issued = mfa.challenge_issue(user)
        return MfaRequired(mfa_token=issued.token, expires_in=issued.expires_in)
    if mfa.mfa_required(user):
        raise MfaEnrolmentRequired
    return _begin_login(user, mfa_verified=False)


@sensitive_variables("mfa_token", "code")
def auth_mfa(*, mfa_token: str, code: str) -> TokenPair:
    """The login's second step: the token pair once `code` passes (mfa.challenge_complete, which
    raises mfa.MfaFailed)."""
    user = mfa.challenge_complete(mfa_token=mfa_token, code=code)
    return _begin_login(user, mfa_verified=True)


def _begin_login(user: User, *, mfa_verified: bool) -> TokenPair:
    pair, _ = _issue_pair(user=user, family=uuid.uuid4(), mfa_verified=mfa_verified)
    User.objects.filter(pk=user.pk).update(last_login=timezone.now())
    return pair


def auth_refresh(*, refresh_token: str) -> TokenPair:
    pair = _rotate_refresh_token(tokens.hash_refresh_token(refresh_token))
    if pair is None:
        raise RefreshFailed
    return pair


@transaction.atomic
def _rotate_refresh_token(token_hash: str) -> TokenPair | None:
    """Swap a live refresh token for a new pair; None when it cannot be used.

    Returns rather than raises so that a revocation made here commits with the transaction.
    The row lock makes two concurrent refreshes with one token yield one new pair, not two.
    """
    stored = (
        RefreshToken.objects.select_for_update(of=("self",))
        .select_related("user__tenant")
        .filter(token_hash=token_hash)
        .first()
    )
    now = timezone.now()
    if stored is None or stored.expires_at <= now:
        return None
    if stored.revoked_at is not None:
        replayed = stored.replaced_by_id is not None
        if replayed and now - stored.revoked_at > timedelta(seconds=settings.REFRESH_REUSE_GRACE_SECONDS):
            # An already-rotated token is being replayed: someone else holds a copy.
            # Revoke the whole login so that neither copy works any more. Within the grace
            # period it is more likely two tabs of one SPA refreshing at once: the late one is
            # refused, but the login the early one just renewed stays valid.
            _revoke_family(stored.family, now, user_id=stored.user_id)
        return None
    if not user_may_use_api(stored.user):
        return None
    if stored.credentials_fingerprint != stored.user.credentials_fingerprint():
        # The password, role or clinic changed since this login began: the login is over.
        _revoke_family(stored.family, now, user_id=stored.user_id)
        return None
    if not stored.mfa_verified and mfa.mfa_required(stored.user):
        # The clinic now requires a second factor of this role (or it was reset) and this login had
        # none: it ends here; the next login asks for the code, or for enrolment.
        _revoke_family(stored.family, now, user_id=stored.user_id)
        return None
    pair, replacement = _issue_pair(user=stored.user, family=stored.family, mfa_verified=stored.mfa_verified)
    stored.revoked_at = now
    stored.replaced_by = replacement
    stored.save(update_fields=["revoked_at", "replaced_by"])
    return pair


def _revoke_family(family: uuid.UUID, when, *, user_id: int) -> None:
    """End a login: its refresh tokens, and its access tokens and open websockets (the family is
    recorded on the user, whose save keneyapp/accounts/revocation.py announces)."""
    RefreshToken.objects.filter(family=family, revoked_at__isnull=True).update(revoked_at=when)
    with transaction.atomic():
        user = User.objects.select_for_update().get(pk=user_id)  # two logouts at once: both kept
        horizon = when.timestamp() - settings.ACCESS_TOKEN_TTL_SECONDS - 60
        still_relevant = [
            entry for entry in user.ended_logins if entry[1] >= horizon and entry[0] != family.hex
        ]
        user.ended_logins = [*still_relevant, [family.hex, when.timestamp()]]
        user.save(update_fields=["ended_logins"])


def auth_logout(*, user: User, refresh_token: str, access_family: str | None = None) -> None:
    """Revoke the login the refresh token belongs to, and the one the caller's access token
    belongs to (`access_family`; usually the same). Unknown tokens are ignored (idempotent)."""
    now = timezone.now()
    stored = RefreshToken.objects.filter(
        token_hash=tokens.hash_refresh_token(refresh_token), user=user
    ).first()
    families = {stored.family} if stored is not None else set()
    if access_family:
        families.add(uuid.UUID(access_family))
    for family in families:
        _revoke_family(family, now, user_id=user.pk)


def staff_has_admin_access(role: str) -> bool:
    """Whether a member of staff of this role works in the admin: every clinic role does (what each
    may do there is the roles table's), so nobody ticks a "staff status" box by hand."""
    return role in Role.values


@sensitive_variables("password")
@transaction.atomic
def staff_create(
    *,
    tenant: Tenant | None,
    username: str,
    role: str,
    password: str,
    first_name: str = "",
    last_name: str = "",
    email: str = "",
) -> User:
    """A member of a clinic's staff who can log in at once (admin and API): the password policy
    checked, admin access from the role. The admin's add form and create_tenant call it."""
    user = User(
        username=username,
        first_name=first_name,
        last_name=last_name,
        email=email,
        tenant=tenant,
        role=role,
        is_staff=staff_has_admin_access(role),
    )
    try:
        password_validation.validate_password(password, user)
    except ValidationError as exc:
        raise ValidationError({"password": exc.messages}) from None
    user.set_password(password)
    user.full_clean(exclude=["password"])
    user.save()
    return user


@sensitive_variables("admin_password")
@transaction.atomic
def tenant_create(
    *, name: str, slug: str, timezone_name: str, admin_username: str, admin_email: str, admin_password: str
) -> tuple[Tenant, User]:
    tenant = Tenant(name=name, slug=slug, timezone=timezone_name)
    tenant.full_clean()
    tenant.save()
    admin = staff_create(
        tenant=tenant, username=admin_username, email=admin_email, role=Role.ADMIN, password=admin_password
    )
    return tenant, admin


def user_set_language(*, user: User, language: str) -> User:
    """The user's own language ("" = their clinic's default; keneyapp/core/language.py). Saving the
    user makes every process re-read them (keneyapp/accounts/revocation.py), so the API answers in
    it from their next request."""
    if language not in {"", *(code for code, _name in LANGUAGE_CHOICES)}:
        raise ValidationError({"language": gettext("Choose one of the languages offered.")})
    user.language = language
    user.save(update_fields=["language"])
    return user
