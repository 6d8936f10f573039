"""Every API error is JSON (contract section 8): validation errors in DRF's
shape, everything else ``{"detail": "…"}``; nothing malformed becomes a 500."""

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig, SuspiciousOperation
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, JsonResponse
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler


class PayloadTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = "Request body is over 10 MiB."
    default_code = "payload_too_large"


class Conflict(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = "The object is not in a state that allows this."
    default_code = "conflict"


def _outside_reach(exc, context):
    """A NotFound when a 403 would answer a request that names something
    outside the caller's reach (contract section 2: 404 first)."""
    request, view = context.get("request"), context.get("view")
    if request is None or not getattr(getattr(request, "user", None), "is_authenticated", False):
        return None
    from integrations.access import check_reach

    try:
        check_reach(request, getattr(view, "kwargs", None) or {})
    except Http404 as missing:
        return exceptions.NotFound(str(missing) or "Not found.")
    except exceptions.APIException:
        return None  # a malformed filter: the 403 stands
    return None


def exception_handler(exc, context):
    if isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied(str(exc) or None)
    if isinstance(exc, exceptions.PermissionDenied):
        exc = _outside_reach(exc, context) or exc
    if isinstance(exc, RequestDataTooBig):
        exc = PayloadTooLarge()
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound(str(exc) or "Not found.")
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    elif isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(exc.message_dict if hasattr(exc, "error_dict") else exc.messages)
    elif isinstance(exc, SuspiciousOperation):
        exc = exceptions.ParseError(str(exc) or "Bad request.")
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if not isinstance(exc, exceptions.ValidationError) and not (
        isinstance(response.data, dict) and "detail" in response.data
    ):
        response = Response({"detail": response.data}, status=response.status_code, headers=dict(response.items()))
    return response


def json_error(status_code, detail, **headers):
    response = JsonResponse({"detail": detail}, status=status_code)
    for name, value in headers.items():
        response[name] = value
    return response


def handler404(request, exception=None):
    return _html_or_json(request, 404, "Not found.", "404.html")


def handler500(request):
    return _html_or_json(request, 500, "Server error.", "500.html")


def handler403(request, exception=None):
    return _html_or_json(request, 403, "You do not have permission to do this.", "403.html")


def handler400(request, exception=None):
    return _html_or_json(request, 400, "Bad request.", "400.html")


def _html_or_json(request, code, detail, template):
    from django.shortcuts import render
    from django.template import TemplateDoesNotExist

    if request.path.startswith("/api/") or "json" in request.headers.get("Accept", ""):
        return json_error(code, detail)
    try:
        return render(request, template, {"detail": detail}, status=code)
    except TemplateDoesNotExist:
        return json_error(code, detail)
