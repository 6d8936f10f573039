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


# -- the error answers of every operation (contract section 8) -------------------

ERROR_DETAIL = {
    "type": "object",
    "properties": {"detail": {"type": "string"}},
    "required": ["detail"],
    "description": "Every error other than validation: a sentence saying what went wrong.",
}
VALIDATION_ERROR = {
    "type": "object",
    "additionalProperties": {},
    "description": (
        "Each message under the name of its field, nested as the input is "
        '(`{"failures": {"3": {"record_id": ["…"]}}}`); `non_field_errors` for the body as a whole, '
        "or `detail` for a body that is not JSON."
    ),
}
ERRORS = {
    "400": ("ValidationError", "Malformed input: a field, parameter or body the API does not accept."),
    "401": ("ErrorDetail", "No credentials, or an unknown or revoked key."),
    "403": ("ErrorDetail", "Within reach, but the key's scopes or the user's role do not allow this."),
    "404": ("ErrorDetail", "Unknown, or outside the caller's tenants (before any scope or role check)."),
    "405": ("ErrorDetail", "A method this endpoint does not answer; the `Allow` header lists those it does."),
    "409": ("ErrorDetail", "The object is not in a state that allows this."),
    "413": ("ErrorDetail", "The body is over 10 MiB."),
    "415": ("ErrorDetail", "The body is not `application/json`."),
    "429": ("ErrorDetail", "The key is over its request rate; retry after `Retry-After` seconds."),
    "503": (
        "ErrorDetail",
        "The database cannot serve just now (down, restarting, read-only, its disk full): nothing was changed; "
        "retry after `Retry-After` seconds (see `/healthz`).",
    ),
}
# First path segment under /api/v1/ -> tag, for operations that name none.
TAGS = {"replays": "replays", "sla": "sla", "trends": "sla", "exceptions": "exceptions", "runs": "runs"}
# Paths whose {id} is an integer (the URL takes any text and answers 404).
INTEGER_IDS = ("/api/v1/exceptions/{id}", "/api/v1/runs/{id}")
NO_CONFLICT = ("/api/v1/runs", "/api/v1/runs/batch")


def _error_codes(path, method, operation):
    codes = ["401", "403", "404", "405", "429", "503"]
    has_query = any(p.get("in") == "query" for p in operation.get("parameters", []))
    if method != "get" or has_query:
        codes.append("400")
    if method == "post":
        codes += ["413", "415"]
        if path not in NO_CONFLICT:
            codes.append("409")
    return sorted(codes)


def _nullable_refs(node, components):
    """OpenAPI 3.0 ignores ``nullable`` beside ``allOf: [$ref]``, so strict
    validators refuse the nulls the API answers: point at a nullable copy of
    the component instead."""
    if isinstance(node, dict):
        all_of = node.get("allOf")
        if node.get("nullable") and isinstance(all_of, list) and len(all_of) == 1 and "$ref" in all_of[0]:
            name = all_of[0]["$ref"].rsplit("/", 1)[1]
            nullable = f"{name}Nullable"
            if nullable not in components and name in components:
                components[nullable] = {**components[name], "nullable": True}
            node.clear()
            node["$ref"] = f"#/components/schemas/{nullable}"
            return
        for value in list(node.values()):
            _nullable_refs(value, components)
    elif isinstance(node, list):
        for value in list(node):
            _nullable_refs(value, components)


def describe_errors(result, generator, request, public):
    """Postprocessing hook: every operation documents each error it can
    answer with its body shape, carries a tag, takes integer ids where ids
    are integers, and uses no ``allOf`` + ``nullable``."""
    components = result.setdefault("components", {}).setdefault("schemas", {})
    components["ErrorDetail"] = ERROR_DETAIL
    components["ValidationError"] = VALIDATION_ERROR
    for path, operations in result.get("paths", {}).items():
        for method, operation in operations.items():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            for code in _error_codes(path, method, operation):
                component, text = ERRORS[code]
                operation["responses"][code] = {
                    "description": text,
                    "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{component}"}}},
                }
            if operation.get("tags") in (None, [], ["v1"]):
                operation["tags"] = [TAGS.get(path.split("/")[3], "worker")]
            if path.startswith(INTEGER_IDS):
                for parameter in operation.get("parameters", []):
                    if parameter.get("in") == "path" and parameter.get("name") == "id":
                        parameter["schema"] = {"type": "integer"}
    _nullable_refs(result, components)
    return result


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
