"""Every API error is JSON (contract section 8): validation errors in DRF's
shape, everything else ``{"detail": "…"}``; nothing malformed becomes a 500."""

import logging
import sys

from django.conf import settings
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig, SuspiciousOperation
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import utils as db_errors
from django.http import Http404, HttpResponse, JsonResponse
from django.template import loader
from django.utils.html import escape
from django.utils.module_loading import import_string
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from opsconsole import disk_full, domain_errors

log = logging.getLogger(__name__)


class PayloadTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = "Request body is over 10 MiB."
    default_code = "payload_too_large"


class Conflict(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = "The object is not in a state that allows this."
    default_code = "conflict"


def from_domain_error(exc):
    """The API answer of a writer's refusal (``opsconsole.domain_errors``)."""
    if isinstance(exc, domain_errors.Invalid):
        return exceptions.ValidationError(exc.errors)
    if isinstance(exc, domain_errors.NotPermitted):
        return exceptions.PermissionDenied(str(exc))
    return Conflict(str(exc))


def _outside_reach(exc, context):
    """A NotFound when a 403 would answer a request that names something
    outside the caller's reach (contract section 2: 404 first)."""
    request, view = context.get("request"), context.get("view")
    if request is None or not getattr(getattr(request, "user", None), "is_authenticated", False):
        return None
    try:
        import_string(settings.OPSCONSOLE_REACH_CHECK)(request, getattr(view, "kwargs", None) or {})
    except Http404 as missing:
        return exceptions.NotFound(str(missing) or "Not found.")
    except exceptions.APIException:
        return None  # a malformed filter: the 403 stands
    return None


def exception_handler(exc, context):
    if isinstance(exc, domain_errors.DomainError):
        exc = from_domain_error(exc)
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


ERROR_PAGES = {
    400: ("Bad request", "The request could not be understood. Check the address and try again."),
    403: ("Not allowed", "Your role does not allow this. Ask your administrator if you need it."),
    404: ("Page not found", "There is nothing at this address, or it is not yours to see."),
    500: ("Something went wrong", "The page could not be shown. It has been logged; please try again shortly."),
    503: ("Temporarily unavailable", "The console cannot store or read data just now. Please try again in a minute."),
}

# Seconds a client is asked to wait when the database is unavailable: about
# what a PostgreSQL restart or a fail-over takes.
UNAVAILABLE_RETRY_AFTER = 5
# ... and when its disk is full: space comes back when someone frees it, not
# in seconds; retrying every 5 s would only add load.
DISK_FULL_RETRY_AFTER = 30

# SQLSTATE of a write refused by a read-only database or transaction.
READ_ONLY_SQL_TRANSACTION = "25006"


def database_unavailable(exc):
    """True when ``exc`` means the database cannot serve now (down, restarting,
    unreachable, out of disk, read-only): a 503 to retry, never a 500."""
    if isinstance(exc, (db_errors.OperationalError, db_errors.InterfaceError)):
        return True
    if isinstance(exc, db_errors.DatabaseError):
        cause = exc.__cause__
        return getattr(cause, "sqlstate", None) == READ_ONLY_SQL_TRANSACTION
    return False


def handler400(request, exception=None):
    return _error_page(request, 400, "Bad request.")


def handler403(request, exception=None):
    return _error_page(request, 403, "You do not have permission to do this.")


def handler404(request, exception=None):
    return _error_page(request, 404, "Not found.")


def csrf_failure(request, reason=""):
    """A form sent without its security token (usually an old tab or an
    expired session): the 403 page in the layout, saying what to do."""
    return _error_page(
        request, 403, "CSRF check failed.", text="The form had expired. Go back, reload the page and try again."
    )


def handler500(request):
    exc = sys.exc_info()[1]
    if database_unavailable(exc):
        if disk_full.is_disk_full(exc):
            return disk_full_unavailable(request)
        return unavailable(request)
    return _error_page(request, 500, "Server error.", minimal=True)


def unavailable(request):
    """503 with Retry-After: the database is down, restarting or refusing writes."""
    response = _error_page(request, 503, "The database is unavailable; try again shortly (see /healthz).", minimal=True)
    response["Retry-After"] = str(UNAVAILABLE_RETRY_AFTER)
    return response


def disk_full_unavailable(request):
    """503 with Retry-After: the database could not write for lack of disk
    space. The request's transaction was rolled back, so nothing of it is
    stored; /healthz reports the full disk for a while (opsconsole.disk_full)."""
    disk_full.note_seen()
    response = _error_page(
        request,
        503,
        "The database's disk is full: nothing was stored. Retry later (see /healthz).",
        minimal=True,
        text="The console cannot store anything just now: its database's disk is full. "
        "Nothing was saved; please try again later.",
    )
    response["Retry-After"] = str(DISK_FULL_RETRY_AFTER)
    return response


def _error_page(request, code, detail, minimal=False, text=None):
    """JSON for the API, else the error page in the console's layout with the
    request's branding. It never fails itself: the 500 page renders from the
    brand alone (no user, session or database), and if even a page cannot
    render, a bare page in the same words is answered."""
    if request.path.startswith("/api/") or "json" in request.headers.get("Accept", ""):
        return json_error(code, detail)
    title, default_text = ERROR_PAGES[code]
    text = text or default_text
    context = {"code": code, "title": title, "text": text}
    try:
        if minimal:
            html = loader.get_template(f"{code}.html").render({**context, "brand": _brand_of(request)})
        else:
            html = loader.render_to_string(f"{code}.html", context, request=request)
    except Exception:  # noqa: BLE001 - an error page must always answer
        log.exception("error page %s failed to render", code)
        html = _bare_page(code, title, text, _brand_of(request))
    return HttpResponse(html, status=code)


def _brand_of(request):
    from opsconsole.branding import DEFAULT, branding_for, host_partner

    try:
        partner = getattr(request, "partner", None)
        if partner is None and not hasattr(request, "host_partner"):
            partner = host_partner(request)
        return branding_for(partner)
    except Exception:  # noqa: BLE001 - the database may be what failed
        return DEFAULT


def _bare_page(code, title, text, brand):
    name = escape(brand.product_name)
    return (
        f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{escape(title)} · {name}</title>'
        '<meta name="viewport" content="width=device-width, initial-scale=1"></head>'
        f'<body style="font-family: sans-serif; margin: 2rem"><p>{name}</p><h1>{escape(title)}</h1>'
        f'<p>{escape(text)} (error {code})</p><p><a href="/">Home</a></p></body></html>'
    )
