"""Multi-factor login for staff (HIPAA 164.312(d)): a TOTP authenticator app, ten recovery codes.

Who must: platform superusers always; a clinic's staff whose role is in the clinic's
`Tenant.mfa_required_roles` (default: administrators); anyone whose second factor was reset, until
they enrol again. Whoever has a confirmed device uses it at every login, required or not.

- **Devices** are django-otp's `TOTPDevice` (RFC 6238, 30 s steps, 6 digits, one step of skew either
  way; settings.py says which of its defaults we changed and why). Its `last_t` refuses a code at
  or before the last accepted step, so a code is good once; the device row is locked while a code
  is checked, so two requests with one code cannot both pass.
- **Recovery codes**: ten per enrolment, shown once, stored as SHA-256 digests (salted with the
  user's id). Ten characters from a 31-letter alphabet (about 50 bits): offline guessing of a
  leaked digest is out of reach, online guessing is throttled like passwords.
- **The step between password and code** is an `MfaChallenge`: the API's `mfa_token` (the admin
  keeps it in the session), random, stored as its SHA-256, bound to the user and to the credentials
  fingerprint they had, valid MFA_TOKEN_TTL_SECONDS, good for one successful code and
  MFA_TOKEN_MAX_ATTEMPTS failed ones.
- **Enrolling or resetting** bumps `User.mfa_generation`, part of the credentials fingerprint, so
  every session and token issued before ends (keneyapp/accounts/revocation.py hears the save).
- Failed codes are counted by the callers on the login throttle's counters
  (keneyapp/accounts/login_throttle.py), the one lockout of both doors.
- keneyapp/accounts/signals.py announces enrolments, resets and recovery code use for an audit.
"""

import hashlib
import re
import secrets
from base64 import b32encode
from dataclasses import dataclass
from datetime import timedelta

import segno
from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.views.decorators.debug import sensitive_variables
from django_otp.plugins.otp_totp.models import TOTPDevice

from keneyapp.accounts import signals
from keneyapp.accounts.models import MfaChallenge, RecoveryCode, User

RECOVERY_CODE_COUNT = 10
# No 0/o, 1/l/i: codes are copied from paper.
RECOVERY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"
RECOVERY_CODE_LENGTH = 10
TOTP_CODE = re.compile(r"[0-9]{6}")
RECOVERY_CODE = re.compile(f"[{RECOVERY_ALPHABET}]{{{RECOVERY_CODE_LENGTH}}}")


class MfaFailed(Exception):
    """A second step refused. `reason`: "token" (unknown, expired, used, out of attempts, or the
    user's credentials changed: log in again) or "code" (wrong, reused, malformed: try again).
    `username`: the account it was for, when known, to count the failure on."""

    def __init__(self, reason: str, username: str | None):
        super().__init__(reason)
        self.reason = reason
        self.username = username


@dataclass(frozen=True, slots=True)
class IssuedChallenge:
    token: str
    expires_in: int


# --- reads ----------------------------------------------------------------------------------------


def mfa_required(user: User) -> bool:
    """Whether the user must log in with a second factor. No query: the clinic is loaded with the
    user wherever this is asked (login, refresh, the admin's requests)."""
    if user.is_superuser or user.mfa_enrolment_due:
        return True
    tenant = user.tenant if user.tenant_id is not None else None
    return tenant is not None and user.role in (tenant.mfa_required_roles or [])


def has_second_factor(user: User) -> bool:
    return TOTPDevice.objects.filter(user=user, confirmed=True).exists()


def challenge_username(mfa_token: str) -> str | None:
    """The username an mfa_token was issued to (to check and count the lockout), or None."""
    return (
        MfaChallenge.objects.filter(token_hash=_token_digest(mfa_token))
        .values_list("user__username", flat=True)
        .first()
    )


def enrolment_qr_svg(device: TOTPDevice) -> str:
    """The device's otpauth:// URL as an inline SVG QR code, for an authenticator app to scan."""
    # Black on white whatever the admin's theme: a QR code on a dark background does not scan.
    return segno.make(device.config_url, error="m").svg_inline(scale=5, border=2, dark="#000", light="#fff")


def enrolment_secret(device: TOTPDevice) -> str:
    """The key in base32, grouped by four, for typing into an app that cannot scan."""
    secret = b32encode(device.bin_key).decode()
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


def unused_recovery_codes(user: User) -> int:
    return RecoveryCode.objects.filter(user=user, used_at__isnull=True).count()


# --- the second step of a login -------------------------------------------------------------------


def challenge_issue(user: User) -> IssuedChallenge:
    """After the right password of a user with a device: the token the code is to be sent with."""
    raw = secrets.token_urlsafe(32)
    now = timezone.now()
    ttl = settings.MFA_TOKEN_TTL_SECONDS
    MfaChallenge.objects.filter(user=user, expires_at__lt=now).delete()  # keeps the table small
    MfaChallenge.objects.create(
        user=user,
        token_hash=_token_digest(raw),
        credentials_fingerprint=user.credentials_fingerprint(),
        expires_at=now + timedelta(seconds=ttl),
    )
    return IssuedChallenge(token=raw, expires_in=ttl)


@sensitive_variables("mfa_token", "code")
def challenge_complete(*, mfa_token: str, code: str) -> User:
    """The user, once `code` (TOTP or recovery) passes for the challenge of `mfa_token`; raises
    MfaFailed otherwise. A failed attempt is recorded on the challenge before raising."""
    now = timezone.now()
    with transaction.atomic():
        challenge = (
            MfaChallenge.objects.select_for_update(of=("self",))
            .select_related("user__tenant")
            .filter(token_hash=_token_digest(mfa_token))
            .first()
        )
        if challenge is None:
            raise MfaFailed("token", None)
        user = challenge.user
        if (
            challenge.used_at is not None
            or challenge.expires_at <= now
            or challenge.failed_attempts >= settings.MFA_TOKEN_MAX_ATTEMPTS
            or challenge.credentials_fingerprint != user.credentials_fingerprint()
            or not user.is_active
            or (user.tenant is not None and not user.tenant.is_active)
        ):
            raise MfaFailed("token", user.username)
        if verify_second_factor(user, code):
            challenge.used_at = now
            challenge.save(update_fields=["used_at"])
            return user
        challenge.failed_attempts += 1
        challenge.save(update_fields=["failed_attempts"])
    # Raised after the block: the failed attempt above is committed, not rolled back with the error.
    raise MfaFailed("code", user.username)


@sensitive_variables("code", "candidate")
def verify_second_factor(user: User, code: str) -> bool:
    """Whether `code` is the user's current TOTP code (not used before) or one of their unused
    recovery codes, which it then uses up. Anything else (another length, other characters, other
    scripts' digits) is simply wrong."""
    candidate = _normalized(code)
    with transaction.atomic():
        if TOTP_CODE.fullmatch(candidate):
            device = TOTPDevice.objects.select_for_update().filter(user=user, confirmed=True).first()
            return device is not None and device.verify_token(candidate)
        if RECOVERY_CODE.fullmatch(candidate):
            used = RecoveryCode.objects.filter(
                user=user, code_hash=_recovery_digest(user.pk, candidate), used_at__isnull=True
            ).update(used_at=timezone.now())
            if used:
                signals.recovery_code_used.send(sender=User, user=user, remaining=unused_recovery_codes(user))
            return bool(used)
    return False


# --- enrolment and reset --------------------------------------------------------------------------


def enrolment_start(user: User) -> TOTPDevice:
    """A new device to enrol, with a key of its own: unconfirmed, so it does not count at login until
    a first code confirms it. Never an earlier one: a key shown to one session (perhaps someone
    else's, who had the password) is never shown to another, so whoever enrols the key they see
    is the only one who knows it. The caller keeps its id (the admin: in the session)."""
    return TOTPDevice.objects.create(user=user, name="Authenticator app", confirmed=False, tolerance=1)


def enrolment_device(user: User, device_id: object) -> TOTPDevice | None:
    """The unconfirmed device `device_id` of `user` that this caller started, if it is still there."""
    if not isinstance(device_id, int):
        return None
    return TOTPDevice.objects.filter(pk=device_id, user=user, confirmed=False).first()


@sensitive_variables("code", "candidate")
def enrolment_confirm(*, user: User, device_id: object, code: str) -> list[str] | None:
    """Confirm the device being enrolled (`device_id`, from enrolment_start for this caller) with its
    first code: returns the ten new recovery codes (to show once), or None when the code is wrong
    or the device is not the caller's pending one. Removes every other device of the user (other
    sessions' unconfirmed keys included) and ends the user's other sessions and tokens (they were
    granted without this factor); the caller keeps its own session (update_session_auth_hash)."""
    candidate = _normalized(code)
    if not isinstance(device_id, int):
        return None
    with transaction.atomic():
        device = (
            TOTPDevice.objects.select_for_update().filter(pk=device_id, user=user, confirmed=False).first()
        )
        if device is None or not TOTP_CODE.fullmatch(candidate) or not device.verify_token(candidate):
            return None
        TOTPDevice.objects.filter(user=user).exclude(pk=device.pk).delete()
        device.confirmed = True
        device.save(update_fields=["confirmed"])
        codes = _replace_recovery_codes(user)
        _bump_generation(user, enrolment_due=False)
        signals.second_factor_enrolled.send(sender=User, user=user)
    return codes


def second_factor_reset(*, user: User, by: User | None) -> None:
    """Remove the user's devices, recovery codes and pending challenges; end their sessions and
    tokens (the credentials fingerprint changes); they must enrol again at their next login.
    `by`: the admin who reset it, None from manage.py reset_second_factor."""
    with transaction.atomic():
        TOTPDevice.objects.filter(user=user).delete()
        RecoveryCode.objects.filter(user=user).delete()
        MfaChallenge.objects.filter(user=user).delete()
        _bump_generation(user, enrolment_due=True)
        signals.second_factor_reset.send(sender=User, user=user, by=by)


def _bump_generation(user: User, *, enrolment_due: bool) -> None:
    locked = User.objects.select_for_update().get(pk=user.pk)
    locked.mfa_generation += 1
    locked.mfa_enrolment_due = enrolment_due
    # A save, not an update(): keneyapp/accounts/revocation.py hears it and ends the sessions now.
    locked.save(update_fields=["mfa_generation", "mfa_enrolment_due"])
    user.mfa_generation, user.mfa_enrolment_due = locked.mfa_generation, locked.mfa_enrolment_due


def _replace_recovery_codes(user: User) -> list[str]:
    RecoveryCode.objects.filter(user=user).delete()
    codes: list[str] = []
    while len(codes) < RECOVERY_CODE_COUNT:
        code = "".join(secrets.choice(RECOVERY_ALPHABET) for _ in range(RECOVERY_CODE_LENGTH))
        if code not in codes:
            codes.append(code)
    RecoveryCode.objects.bulk_create(
        RecoveryCode(user=user, code_hash=_recovery_digest(user.pk, code)) for code in codes
    )
    half = RECOVERY_CODE_LENGTH // 2
    return [f"{code[:half]}-{code[half:]}" for code in codes]


def _normalized(code: str) -> str:
    # People type "123 456", "abcde-fghjk", capitals: the separators and case are not the code.
    return re.sub(r"[\s-]", "", code).lower()


def _token_digest(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def _recovery_digest(user_id: int, code: str) -> str:
    return hashlib.sha256(f"keneyapp.recovery|{user_id}|{code}".encode()).hexdigest()
