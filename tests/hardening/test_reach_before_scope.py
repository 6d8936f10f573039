"""Contract section 2 for API keys: anything outside the key's tenant answers
404 exactly as if it did not exist, before any scope or role check; inside
the tenant, a key outside its scopes gets 403."""

import pytest

from integrations import replays as replay_service
from tests import factories as f

OBJECT_ENDPOINTS = [
    ("get", "/api/v1/exceptions/{exception}"),
    ("get", "/api/v1/exceptions/{exception}/occurrences"),
    ("get", "/api/v1/runs/{run}"),
    ("get", "/api/v1/replays/{replay}"),
    *[
        ("post", f"/api/v1/exceptions/{{exception}}/{action}")
        for action in ("acknowledge", "assign", "comment", "resolve", "ignore", "reopen", "replay", "discard")
    ],
    *[("post", f"/api/v1/replays/{{replay}}/{action}") for action in ("approve", "reject", "cancel", "result")],
]
LIST_ENDPOINTS = [
    "/api/v1/exceptions?tenant={tenant}",
    "/api/v1/runs?tenant={tenant}",
    "/api/v1/integrations?tenant={tenant}",
    "/api/v1/replays?tenant={tenant}",
    "/api/v1/sla?tenant={tenant}",
    "/api/v1/trends?tenant={tenant}",
    "/api/v1/audit?tenant={tenant}",
]


def objects_of(tenant, support):
    integration = f.make_integration(tenant, "payroll")
    exception = f.make_exception_with_records(integration, ["R-1", "R-2"])
    replay = replay_service.request_replay(support, exception, records=["R-1"])
    run = exception.failures.first().run
    return {"exception": exception.pk, "run": run.pk, "replay": replay.pk, "tenant": tenant.slug}


@pytest.fixture
def elsewhere(fabrikam, globex, support, outsider):
    """Objects of another tenant of the same partner, and of another partner."""
    return {"fabrikam": objects_of(fabrikam, support), "globex": objects_of(globex, outsider)}


@pytest.fixture
def own(contoso, support):
    return objects_of(contoso, support)


@pytest.mark.parametrize("scope", ["ingest", "read"])
def test_a_key_reaching_another_tenants_object_or_list_gets_404(contoso, elsewhere, scope):
    """Every endpoint, against a tenant of the same partner and of another."""
    client = f.client_with(f.make_key(contoso, [scope]))
    answers = {}
    for where, ids in elsewhere.items():
        for method, url in OBJECT_ENDPOINTS + [("get", u) for u in LIST_ENDPOINTS]:
            response = getattr(client, method)(url.format(**ids), {}, format="json")
            answers[f"{method} {url} ({where})"] = (response.status_code, sorted(response.json()))
    assert answers == {name: (404, ["detail"]) for name in answers}


@pytest.mark.parametrize(
    ("scope", "method", "url"),
    [
        ("ingest", "get", "/api/v1/exceptions/{exception}"),
        ("ingest", "get", "/api/v1/exceptions?tenant={tenant}"),
        ("ingest", "get", "/api/v1/replays/{replay}"),
        ("read", "post", "/api/v1/exceptions/{exception}/acknowledge"),
        ("read", "post", "/api/v1/replays/{replay}/approve"),
        ("read", "post", "/api/v1/replays/{replay}/result"),
        ("read", "get", "/api/v1/audit?tenant={tenant}"),
    ],
)
def test_inside_its_tenant_a_key_outside_its_scopes_gets_403(contoso, own, scope, method, url):
    client = f.client_with(f.make_key(contoso, [scope]))
    response = getattr(client, method)(url.format(**own), {}, format="json")
    assert response.status_code == 403
