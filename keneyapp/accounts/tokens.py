"""Access tokens (short-lived signed JWTs) and refresh tokens (random, stored hashed)."""

import hashlib
import secrets
import time
from dataclasses import dataclass

import jwt
from django.conf import settings

ALGORITHM = "HS256"
ACCESS_TOKEN_TYPE = "access"  # noqa: S105 (a claim value)


class InvalidToken(Exception):
    """The token is malformed, forged, expired or of the wrong type."""


@dataclass(frozen=True, slots=True)
class AccessClaims:
    user_id: int
    tenant_id: int | None
    expires_at: float  # the token's exp (Unix time): a websocket is closed then


def _signing_key() -> str:
    return settings.SECRET_KEY


def issue_access_token(*, user_id: int, tenant_id: int | None) -> str:
    now = int(time.time())
    payload = {
        "sub": str(user_id),
        "tid": tenant_id,
        "typ": ACCESS_TOKEN_TYPE,
        "iat": now,
        "exp": now + settings.ACCESS_TOKEN_TTL_SECONDS,
    }
    return jwt.encode(payload, _signing_key(), algorithm=ALGORITHM)


def read_access_token(token: str) -> AccessClaims:
    try:
        payload = jwt.decode(
            token,
            _signing_key(),
            algorithms=[ALGORITHM],  # never "none", never an algorithm the token names
            options={"require": ["sub", "exp", "iat", "typ"]},
        )
    except jwt.PyJWTError as exc:
        raise InvalidToken(str(exc)) from None
    if payload.get("typ") != ACCESS_TOKEN_TYPE:
        raise InvalidToken("not an access token")
    try:
        return AccessClaims(
            user_id=int(payload["sub"]), tenant_id=payload.get("tid"), expires_at=float(payload["exp"])
        )
    except (TypeError, ValueError):
        raise InvalidToken("malformed subject") from None


def new_refresh_token() -> str:
    return secrets.token_urlsafe(48)


def hash_refresh_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
