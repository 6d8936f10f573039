"""OpenAPI descriptions of our authentication schemes (imported in AppConfig.ready),
and the schema and API docs views under the request's brand."""

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.utils import extend_schema
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView


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


def branded_title(request):
    """The API's title as the request's brand names it (contract 1: a partner's
    host name never shows the console's own name)."""
    from opsconsole.branding import branding_for

    return f"{branding_for(getattr(request, 'partner', None)).product_name} API"


class BrandedSchemaView(SpectacularAPIView):
    """GET /api/schema/ under the request's brand (title and file name)."""

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        self.custom_settings = {**(self.custom_settings or {}), "TITLE": branded_title(request)}


class BrandedSwaggerView(SpectacularSwaggerView):
    """/api/docs/ under the request's brand."""

    @extend_schema(exclude=True)
    def get(self, request, *args, **kwargs):
        self.title = branded_title(request)
        return super().get(request, *args, **kwargs)


class BrandedRedocView(SpectacularRedocView):
    """/api/redoc/ under the request's brand."""

    @extend_schema(exclude=True)
    def get(self, request, *args, **kwargs):
        self.title = branded_title(request)
        return super().get(request, *args, **kwargs)
