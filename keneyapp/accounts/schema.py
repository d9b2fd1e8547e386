"""How the OpenAPI schema describes the API's authentication (drf-spectacular extensions).

Imported by AccountsConfig.ready(): an extension is found only once its module is imported.
"""

from drf_spectacular.extensions import OpenApiAuthenticationExtension


class BearerTokenScheme(OpenApiAuthenticationExtension):
    """keneyapp.accounts.authentication.BearerTokenAuthentication: the access token of
    POST /api/v1/auth/login (a signed JWT) in `Authorization: Bearer <token>`."""

    target_class = "keneyapp.accounts.authentication.BearerTokenAuthentication"
    name = "bearerAuth"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "bearerFormat": "JWT",
            "description": "The access_token of POST /api/v1/auth/login or /api/v1/auth/refresh.",
        }
