"""Access tokens (short-lived signed JWTs) and refresh tokens (random, stored hashed)."""

import functools
import hashlib
import secrets
import time
import uuid
from dataclasses import dataclass

import jwt
from django.conf import settings
from django.utils.crypto import salted_hmac

ALGORITHM = "HS256"
ACCESS_TOKEN_TYPE = "access"  # noqa: S105 (a claim value)
# A socket ticket: an admin page's way onto /ws/notifications/ (docs/security.md, "Socket tickets").
# The websocket accepts it as it accepts an access token; the API refuses it (its type is not
# "access"), so the ticket a page embeds opens no API door.
SOCKET_TICKET_TYPE = "socket"
WEBSOCKET_TYPES = (ACCESS_TOKEN_TYPE, SOCKET_TICKET_TYPE)
TOKEN_KEY_SALT = "keneyapp.accounts.tokens"  # noqa: S105 (a salt, not a secret)


class InvalidToken(Exception):
    """The token is malformed, forged, expired or of the wrong type."""


@dataclass(frozen=True, slots=True)
class AccessClaims:
    user_id: int
    tenant_id: int | None
    expires_at: float  # the token's exp (Unix time): a websocket is closed then
    # The user's credentials fingerprint at issue (User.credentials_fingerprint): a token issued
    # before a password, role or clinic change no longer matches and is refused.
    fingerprint: str
    # The login (refresh-token family) the token belongs to, if any: logging out, or a replayed
    # refresh token, ends that family's access tokens too.
    family: str | None


@functools.lru_cache(maxsize=8)
def _derived_key(secret: str) -> bytes:
    # A key of its own for access tokens, derived from SECRET_KEY: a token key that leaks (or a
    # signature made elsewhere with SECRET_KEY) is not a key for sessions, and the reverse.
    return salted_hmac(TOKEN_KEY_SALT, "access-token-signing-key", secret=secret, algorithm="sha256").digest()


def _signing_key() -> bytes:
    return _derived_key(settings.SECRET_KEY)


def _verification_keys() -> list[bytes]:
    """The current key first, then those of SECRET_KEY_FALLBACKS (a rotation in progress)."""
    return [_derived_key(secret) for secret in (settings.SECRET_KEY, *settings.SECRET_KEY_FALLBACKS)]


def issue_access_token(*, user, family: uuid.UUID | None = None) -> str:
    return _issue(user=user, family=family, token_type=ACCESS_TOKEN_TYPE)


def issue_socket_ticket(*, user) -> str:
    """A ticket for the websocket only, for a page of a signed-in admin session: the same claims
    and lifetime as an access token (it ends with the user's credentials, as one does), another type."""
    return _issue(user=user, family=None, token_type=SOCKET_TICKET_TYPE)


def _issue(*, user, family: uuid.UUID | None, token_type: str) -> str:
    now = int(time.time())
    payload = {
        "sub": str(user.pk),
        "tid": user.tenant_id,
        "fp": user.credentials_fingerprint(),
        "fam": family.hex if family is not None else None,
        "typ": token_type,
        "iat": now,
        "exp": now + settings.ACCESS_TOKEN_TTL_SECONDS,
    }
    return jwt.encode(payload, _signing_key(), algorithm=ALGORITHM)


def read_access_token(token: str, *, types: tuple[str, ...] = (ACCESS_TOKEN_TYPE,)) -> AccessClaims:
    """The claims of a valid token of one of `types` (by default an access token only)."""
    payload = None
    for key in _verification_keys():
        try:
            payload = jwt.decode(
                token,
                key,
                algorithms=[ALGORITHM],  # never "none", never an algorithm the token names
                options={"require": ["sub", "exp", "iat", "typ", "fp"]},
            )
            break
        except jwt.InvalidSignatureError as exc:
            failure = exc  # perhaps signed with a former key: try the next one
        except jwt.PyJWTError as exc:
            raise InvalidToken(str(exc)) from None
    if payload is None:
        raise InvalidToken(str(failure))
    if payload.get("typ") not in types:
        raise InvalidToken("not an access token")
    try:
        return AccessClaims(
            user_id=int(payload["sub"]),
            tenant_id=payload.get("tid"),
            expires_at=float(payload["exp"]),
            fingerprint=str(payload["fp"]),
            family=payload.get("fam") or None,
        )
    except (TypeError, ValueError):
        raise InvalidToken("malformed claims") from None


def new_refresh_token() -> str:
    return secrets.token_urlsafe(48)


def hash_refresh_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
