"""The answer to a sign-in while its account or address is locked out
(django-axes, settings.AXES_LOCKOUT_CALLABLE): a page saying when to try
again, or JSON for callers that ask for it; 429 with Retry-After either way."""

import math

from axes.helpers import get_cool_off
from django.http import JsonResponse
from django.shortcuts import render


def username_of(request, credentials=None):
    """The account a sign-in names: the login form's ``username`` field (an
    e-mail address), compared case-insensitively as the users table does."""
    source = credentials if credentials else getattr(request, "POST", {})
    value = source.get("username") or source.get("email") or ""
    return str(value).strip().lower()[:320] or None


def lockout_response(request, original_response=None, credentials=None):
    cool_off = get_cool_off(request)
    seconds = max(int(cool_off.total_seconds()), 1) if cool_off else 900
    minutes = math.ceil(seconds / 60)
    message = f"Too many failed sign-ins. Sign-in is locked for {minutes} minutes; try again later."
    if "application/json" in request.headers.get("Accept", "") or request.content_type == "application/json":
        response = JsonResponse({"detail": message}, status=429)
    else:
        response = render(request, "opsconsole/locked_out.html", {"minutes": minutes}, status=429)
    response["Retry-After"] = str(seconds)
    return response
