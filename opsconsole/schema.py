"""OpenAPI descriptions of our authentication schemes (imported in AppConfig.ready)."""

from drf_spectacular.extensions import OpenApiAuthenticationExtension


class BearerKeyScheme(OpenApiAuthenticationExtension):
    target_class = "opsconsole.authentication.BearerKeyAuthentication"
    name = "bearerKey"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "description": (
                "A tenant API key (scopes `ingest` and/or `read`) or a user's personal token, "
                "created with `manage.py create_api_key`."
            ),
        }


class SessionScheme(OpenApiAuthenticationExtension):
    target_class = "opsconsole.authentication.SessionAuthentication"
    name = "session"

    def get_security_definition(self, auto_schema):
        return {"type": "apiKey", "in": "cookie", "name": "sessionid"}
