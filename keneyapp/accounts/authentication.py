from django.utils.translation import gettext
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication, get_authorization_header

from keneyapp.accounts import tokens
from keneyapp.accounts.api_users import load_api_user
from keneyapp.accounts.models import User


class BearerTokenAuthentication(BaseAuthentication):
    """`Authorization: Bearer <access_token>`. A missing header leaves the request anonymous
    (401 from the permission check); a malformed, forged or expired token is 401 at once."""

    keyword = b"bearer"

    def authenticate(self, request):
        header = get_authorization_header(request).split()
        if not header or header[0].lower() != self.keyword:
            return None
        if len(header) != 2:
            raise exceptions.AuthenticationFailed(gettext("Authorization header must be 'Bearer <token>'."))
        try:
            claims = tokens.read_access_token(header[1].decode("ascii"))
        except (tokens.InvalidToken, UnicodeDecodeError):
            raise exceptions.AuthenticationFailed(gettext("Invalid or expired access token.")) from None
        user = authenticate_access_claims(claims)
        if user is None:
            raise exceptions.AuthenticationFailed(gettext("Invalid or expired access token."))
        return user, claims

    def authenticate_header(self, request) -> str:
        return 'Bearer realm="api"'


def authenticate_access_claims(claims: tokens.AccessClaims) -> User | None:
    """The user behind valid claims, if they may still use the API (see api_users for the cache).

    Refused: a token issued while the user belonged to another clinic, or before their password,
    role or clinic changed (the credentials fingerprint), or of a login that has ended (logout, a
    replayed refresh token), and any token of a closed clinic's staff. No extra round trip: all of
    it is in the cached user.
    """
    user = load_api_user(claims.user_id)
    if user is None or user.tenant_id != claims.tenant_id:
        return None
    if claims.fingerprint != user.access_fingerprint:
        return None
    if claims.family is not None and claims.family in user.revoked_login_families:
        return None
    if user.tenant is not None and not user.tenant.is_active:
        return None
    return user
