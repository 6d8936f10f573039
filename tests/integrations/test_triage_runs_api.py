"""GET /api/v1/runs and /api/v1/integrations (contract 4.2), and the schema."""

import datetime as dt

import pytest
import time_machine
from django.utils import timezone

from tests import factories as f


@pytest.fixture
def api(as_user, support):
    return as_user(support)


@pytest.fixture
def runs(integration, contoso):
    chicago = contoso.tzinfo
    other = f.make_integration(contoso, "billing-sync")
    return {
        "early": f.make_run(
            integration, "r-early", "succeeded", started_at=dt.datetime(2026, 11, 25, 23, 30, tzinfo=chicago)
        ),
        "late": f.make_run(
            integration, "r-late", "failed", started_at=dt.datetime(2026, 11, 26, 10, 0, tzinfo=chicago)
        ),
        "billing": f.make_run(
            other, "r-billing", "partial", started_at=dt.datetime(2026, 11, 26, 12, 0, tzinfo=chicago)
        ),
    }


def ids(api, query):
    r = api.get(f"/api/v1/runs?{query}")
    assert r.status_code == 200, r.json()
    return [row["run_id"] for row in r.json()["results"]]


def test_runs_newest_first_in_the_contract_shape(api, runs):
    r = api.get("/api/v1/runs")
    body = r.json()
    assert set(body) == {"count", "next", "previous", "results"}
    assert [row["run_id"] for row in body["results"]] == ["r-billing", "r-late", "r-early"]
    row = body["results"][0]
    assert row["tenant"] == "contoso" and row["integration"] == "billing-sync" and row["status"] == "partial"
    assert row["records"] == {"processed": 10, "succeeded": 9, "failed": 1, "skipped": 0}
    assert row["started_at"].endswith("Z")


def test_runs_filters(api, runs):
    assert ids(api, "status=failed") == ["r-late"]
    assert ids(api, "status=failed,partial") == ["r-billing", "r-late"]
    assert ids(api, "integration=billing-sync") == ["r-billing"]
    assert ids(api, "run_id=r-early") == ["r-early"]
    # Dates are the tenant's local days when a tenant is given; ``to`` takes in the whole day.
    assert ids(api, "tenant=contoso&from=2026-11-26&to=2026-11-26") == ["r-billing", "r-late"]
    assert ids(api, "tenant=contoso&to=2026-11-25") == ["r-early"]
    assert ids(api, "from=2026-11-26T16:00:00Z&to=2026-11-26T17:00:00Z") == ["r-late"]


@pytest.mark.parametrize(
    "query, name",
    [
        ("status=done", "status"),
        ("from=yesterday", "from"),
        ("to=2026-13-45", "to"),
        ("from=2026-11-26T10:00:00", "from"),
        # Instants no calendar can show: 400, never an overflow.
        ("to=9999-12-31", "to"),
        ("tenant=contoso&to=9999-12-31", "to"),
        ("from=0001-01-01T00:00:00%2B01:00", "from"),
        ("from=1969-12-31T23:59:59Z", "from"),
        ("to=2200-01-01T00:00:01Z", "to"),
    ],
)
def test_runs_malformed_filters_are_400_naming_the_parameter(api, runs, query, name):
    r = api.get(f"/api/v1/runs?{query}")
    assert r.status_code == 400 and name in r.json()


@pytest.mark.parametrize("query", ["tenant=globex", "tenant=nope", "integration=nope"])
def test_runs_unknown_or_unreachable_filters_are_404(api, runs, globex, query):
    assert api.get(f"/api/v1/runs?{query}").status_code == 404


def test_post_runs_is_still_the_worker_endpoint(api, worker):
    # A user's token may not report runs; the worker's key reaches the ingest view.
    assert api.post("/api/v1/runs", {}, format="json").status_code == 403
    assert worker.post("/api/v1/runs", {}, format="json").status_code != 403


def test_integrations_with_health_last_run_and_open_exceptions(api, integration, contoso):
    integration.every_minutes, integration.grace_minutes = 15, 10
    integration.save()
    quiet = f.make_integration(contoso, "billing-sync")
    now = timezone.now()
    run = f.make_run(integration, "r1", "partial", started_at=now - dt.timedelta(minutes=20))
    f.make_exception(integration)
    f.make_exception(integration, status="resolved")
    with time_machine.travel(now, tick=False):
        r = api.get("/api/v1/integrations?tenant=contoso")
    assert r.status_code == 200
    rows = {row["slug"]: row for row in r.json()["results"]}
    tep = rows["time-expense-posting"]
    assert tep["health"] == "up" and tep["open_exceptions"] == 1
    assert tep["last_run"]["run_id"] == "r1" and tep["last_run_status"] == "partial"
    assert tep["schedule"] == {"every_minutes": 15, "grace_minutes": 10}
    assert rows[quiet.slug]["health"] == "new" and rows[quiet.slug]["last_run"] is None
    with time_machine.travel(run.started_at + dt.timedelta(minutes=26), tick=False):
        assert api.get("/api/v1/integrations").json()["results"][1]["health"] == "late"
    with time_machine.travel(run.started_at + dt.timedelta(minutes=36), tick=False):
        assert api.get("/api/v1/integrations").json()["results"][1]["health"] == "down"


def test_the_schema_documents_the_staff_endpoints(client):
    r = client.get("/api/schema/", HTTP_ACCEPT="application/json")
    assert r.status_code == 200
    paths = r.json()["paths"]
    for path in (
        "/api/v1/exceptions",
        "/api/v1/exceptions/{id}",
        "/api/v1/exceptions/{id}/occurrences",
        "/api/v1/exceptions/{id}/acknowledge",
        "/api/v1/exceptions/{id}/assign",
        "/api/v1/exceptions/{id}/comment",
        "/api/v1/exceptions/{id}/resolve",
        "/api/v1/exceptions/{id}/ignore",
        "/api/v1/exceptions/{id}/reopen",
        "/api/v1/integrations",
    ):
        assert path in paths, path
    assert {"get", "post"} <= set(paths["/api/v1/runs"])
    params = {p["name"] for p in paths["/api/v1/exceptions"]["get"]["parameters"]}
    assert {"tenant", "integration", "status", "priority", "assignee", "q"} <= params
