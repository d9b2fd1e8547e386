"""Login, refresh, logout and the caller's profile. Thin views over accounts.services."""

from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import (
    OpenApiResponse,
    PolymorphicProxySerializer,
    extend_schema,
    inline_serializer,
)
from rest_framework import serializers, status
from rest_framework.exceptions import AuthenticationFailed, PermissionDenied, Throttled
from rest_framework.permissions import AllowAny
from rest_framework.response import Response

from keneyapp.accounts import login_throttle, mfa, services
from keneyapp.accounts.roles import actions_for_role
from keneyapp.core.serializers import StrictInputSerializer, validated_input
from keneyapp.core.views import ClinicApiView

INVALID_CREDENTIALS = _("Invalid username or password.")


class LoginInput(StrictInputSerializer):
    username = serializers.CharField(max_length=150)
    password = serializers.CharField(max_length=4096, trim_whitespace=False)


class MfaInput(StrictInputSerializer):
    mfa_token = serializers.CharField(max_length=512)
    code = serializers.CharField(
        max_length=64, help_text="The authenticator app's 6 digits, or a recovery code."
    )


class RefreshInput(StrictInputSerializer):
    refresh_token = serializers.CharField(max_length=512)


TokenPairOutput = inline_serializer(
    "TokenPair",
    {
        "access_token": serializers.CharField(),
        "refresh_token": serializers.CharField(),
        "token_type": serializers.CharField(),
        "expires_in": serializers.IntegerField(),
    },
)


MfaChallengeOutput = inline_serializer(
    "MfaChallenge",
    {
        "mfa_required": serializers.BooleanField(help_text="Always true: send a code to POST /auth/mfa."),
        "mfa_token": serializers.CharField(),
        "expires_in": serializers.IntegerField(),
    },
)
LoginOutput = PolymorphicProxySerializer(
    component_name="LoginResult",
    serializers=[TokenPairOutput, MfaChallengeOutput],
    resource_type_field_name=None,
)
MFA_ENROLMENT_REQUIRED = _(
    "Your account must log in with a second factor and has none yet: log in to the admin (/admin/) "
    "to enrol an authenticator app, then log in here again."
)
TOO_MANY_FAILURES = _("Too many failed logins; try again later.")


class InvalidCredentials(AuthenticationFailed):
    default_code = "invalid_credentials"


class MfaEnrolmentRequired(PermissionDenied):
    default_code = "mfa_enrolment_required"


class InvalidMfaToken(AuthenticationFailed):
    default_code = "invalid_mfa_token"


class InvalidMfaCode(AuthenticationFailed):
    default_code = "invalid_mfa_code"


class CredentialsApi(ClinicApiView):
    """Endpoints that take credentials in the body rather than a bearer token.

    They have no authenticator, and DRF turns a 401 into a 403 when no authenticator names a
    WWW-Authenticate challenge; naming the bearer one here keeps a refused login a 401.
    """

    authentication_classes = []
    permission_classes = [AllowAny]
    audit_exempt = "credentials in, tokens out: no patient-linked data"

    def get_authenticate_header(self, request) -> str:
        return 'Bearer realm="api"'


class LoginApi(CredentialsApi):
    @extend_schema(
        request=LoginInput,
        responses={
            200: OpenApiResponse(
                LoginOutput,
                description="The token pair; or, for an account with a second factor, "
                "`mfa_required` and the `mfa_token` to send its code with to POST /auth/mfa.",
            )
        },
        auth=[],
    )
    def post(self, request):
        data = validated_input(LoginInput, request.data)
        address = login_throttle.client_address(request)
        lockout = login_throttle.check_login_allowed(data["username"], address)
        if lockout is not None:
            raise Throttled(wait=lockout.retry_after_seconds, detail=str(TOO_MANY_FAILURES))
        try:
            answer = services.auth_login(username=data["username"], password=data["password"])
        except services.LoginFailed:
            login_throttle.record_login_failure(data["username"], address)
            raise InvalidCredentials(INVALID_CREDENTIALS) from None
        except services.MfaEnrolmentRequired:
            raise MfaEnrolmentRequired(MFA_ENROLMENT_REQUIRED) from None
        return Response(answer.as_response())


class MfaApi(CredentialsApi):
    """The login's second step: the mfa_token of POST /auth/login and a code, for the token pair.
    Wrong, reused or malformed codes and unknown, expired or used tokens count as failed logins."""

    @extend_schema(request=MfaInput, responses={200: TokenPairOutput}, auth=[])
    def post(self, request):
        data = validated_input(MfaInput, request.data)
        address = login_throttle.client_address(request)
        username = mfa.challenge_username(data["mfa_token"])
        lockout = login_throttle.check_login_allowed(username, address)
        if lockout is not None:
            raise Throttled(wait=lockout.retry_after_seconds, detail=str(TOO_MANY_FAILURES))
        try:
            pair = services.auth_mfa(mfa_token=data["mfa_token"], code=data["code"])
        except mfa.MfaFailed as failed:
            login_throttle.record_login_failure(failed.username, address)
            if failed.reason == "code":
                raise InvalidMfaCode(gettext("Invalid or already used code.")) from None
            raise InvalidMfaToken(gettext("Invalid, expired or used mfa_token: log in again.")) from None
        return Response(pair.as_response())


class RefreshApi(CredentialsApi):
    @extend_schema(request=RefreshInput, responses={200: TokenPairOutput}, auth=[])
    def post(self, request):
        data = validated_input(RefreshInput, request.data)
        try:
            pair = services.auth_refresh(refresh_token=data["refresh_token"])
        except services.RefreshFailed:
            raise AuthenticationFailed(gettext("Invalid, expired or revoked refresh token.")) from None
        return Response(pair.as_response())


class LogoutApi(ClinicApiView):
    audit_exempt = "ends the caller's own login: no patient-linked data"

    @extend_schema(request=RefreshInput, responses={204: None})
    def post(self, request):
        data = validated_input(RefreshInput, request.data)
        services.auth_logout(
            user=request.user, refresh_token=data["refresh_token"], access_family=request.auth.family
        )
        return Response(status=status.HTTP_204_NO_CONTENT)


class MeApi(ClinicApiView):
    audit_exempt = "the caller's own profile: no patient-linked data"

    @extend_schema(
        responses=inline_serializer(
            "Me",
            {
                "id": serializers.IntegerField(),
                "username": serializers.CharField(),
                "first_name": serializers.CharField(),
                "last_name": serializers.CharField(),
                "email": serializers.EmailField(),
                "role": serializers.CharField(),
                "permissions": serializers.ListField(child=serializers.CharField()),
                "clinic": inline_serializer(
                    "MeClinic",
                    {
                        "id": serializers.IntegerField(),
                        "name": serializers.CharField(),
                        "slug": serializers.CharField(),
                        "timezone": serializers.CharField(),
                    },
                ),
            },
        )
    )
    def get(self, request):
        user = request.user
        tenant = user.tenant
        return Response(
            {
                "id": user.pk,
                "username": user.username,
                "first_name": user.first_name,
                "last_name": user.last_name,
                "email": user.email,
                "role": user.role,
                "permissions": actions_for_role(user.role),
                "clinic": {
                    "id": tenant.pk,
                    "name": tenant.name,
                    "slug": tenant.slug,
                    "timezone": tenant.timezone,
                },
            }
        )
