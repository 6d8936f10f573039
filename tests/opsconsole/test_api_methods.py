"""A wrong verb on any API endpoint is a 405 naming the allowed methods
(contract 8), whoever asks: never a scope or role message."""

import pytest
from django.urls import URLPattern, URLResolver, get_resolver
from rest_framework.test import APIClient

from opsconsole.middleware import allowed_methods
from tests import factories as f


def api_endpoints():
    """(path, allowed methods) of every route under /api/v1/."""
    found = []

    def walk(patterns, prefix):
        for entry in patterns:
            route = prefix + str(entry.pattern)
            if isinstance(entry, URLResolver):
                walk(entry.url_patterns, route)
            elif isinstance(entry, URLPattern) and route.startswith("api/v1/"):
                path = "/" + route.replace("<str:pk>", "1").replace("<uuid:pk>", "6f1c0b52-3f55-4c1e-9a55-0d2f1a3b4c5d")
                path = path.replace("<slug:tenant>", "contoso").replace("<str:period>", "2026-11")
                found.append((path, allowed_methods(entry.callback.cls)))

    walk(get_resolver().url_patterns, "")
    return found


ENDPOINTS = api_endpoints()
CALLERS = ["anonymous", "user", "read_key", "ingest_key"]
# Each endpoint is asked by one kind of caller, every kind in turn.
CASES = [(path, allowed, CALLERS[i % len(CALLERS)]) for i, (path, allowed) in enumerate(ENDPOINTS)]


def test_every_api_route_is_walked():
    paths = [p for p, _ in ENDPOINTS]
    assert "/api/v1/runs" in paths and "/api/v1/audit" in paths and len(paths) >= 25


@pytest.mark.parametrize(("path", "allowed", "caller"), CASES, ids=[f"{p}-{c}" for p, _, c in CASES])
def test_a_wrong_verb_is_405_naming_the_allowed_methods(path, allowed, caller, request, contoso):
    if caller == "anonymous":
        client = APIClient()
    elif caller == "user":
        client = f.client_with(f.make_token(request.getfixturevalue("partner_admin")))
    else:
        client = f.client_with(f.make_key(contoso, [caller.split("_")[0]]))
    wrong = next(m for m in ("DELETE", "PUT", "PATCH", "POST") if m not in allowed)
    response = client.generic(wrong, path)
    assert response.status_code == 405, response.content
    assert response["Allow"] == ", ".join(allowed)
    detail = response.json()["detail"]
    assert wrong in detail and all(method in detail for method in allowed)


def test_delete_on_runs_with_a_user_token_is_405_not_a_scope_message(partner_admin):
    response = f.client_with(f.make_token(partner_admin)).delete("/api/v1/runs")
    assert response.status_code == 405
    assert response.json() == {"detail": "Method 'DELETE' is not allowed here; use GET, HEAD, POST, OPTIONS."}
