"""Request guards and per-partner branding."""

from django.conf import settings
from django.http import Http404
from rest_framework.views import APIView

from opsconsole.branding import host_partner
from opsconsole.errors import json_error

# Where opsconsole.urls mounts the Django admin.
ADMIN_PREFIX = "/admin/"


class BodySizeLimitMiddleware:
    """A body over MAX_BODY_BYTES is a 413 before anything reads it (contract 8)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        length = request.META.get("CONTENT_LENGTH")
        if length:
            try:
                too_big = int(length) > settings.MAX_BODY_BYTES
            except ValueError:
                return json_error(400, "Content-Length is not a number.")
            if too_big:
                return json_error(413, f"Request body is over {settings.MAX_BODY_BYTES // (1024 * 1024)} MiB.")
        return self.get_response(request)


class BrandingMiddleware:
    """Sets ``request.partner``: the signed-in user's partner, else the partner
    whose hostnames include the request's host, else None (console branding).

    The Django admin is the console operator's: on a partner's host name it
    does not exist (404), whoever asks."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.host_partner = host_partner(request)
        request.partner = request.host_partner
        user = getattr(request, "user", None)
        if user is not None and getattr(user, "is_authenticated", False) and getattr(user, "partner_id", None):
            request.partner = user.partner
        if request.host_partner is not None and request.path_info.startswith(ADMIN_PREFIX):
            raise Http404("Not found.")
        return self.get_response(request)


def allowed_methods(view_class):
    """The HTTP methods an API view answers (HEAD wherever GET is)."""
    names = [m for m in view_class.http_method_names if hasattr(view_class, m)]
    if "get" in names and "head" not in names:
        names.append("head")
    order = ["get", "head", "post", "put", "patch", "delete", "options", "trace"]
    return [m.upper() for m in order if m in names]


class ApiMethodMiddleware:
    """A verb an API endpoint does not answer is a 405 naming the allowed
    methods (contract 8), before authentication, scopes or roles are looked
    at: ``DELETE /api/v1/runs`` is not a question of the caller's key."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        view_class = getattr(view_func, "cls", None) or getattr(view_func, "view_class", None)
        if not (isinstance(view_class, type) and issubclass(view_class, APIView)):
            return None
        allowed = allowed_methods(view_class)
        if request.method in allowed:
            return None
        return json_error(
            405,
            f"Method {request.method[:20]!r} is not allowed here; use {', '.join(allowed)}.",
            Allow=", ".join(allowed),
        )
