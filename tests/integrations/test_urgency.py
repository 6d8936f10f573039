"""The inbox and ``GET /api/v1/exceptions`` order open exceptions exactly by
urgency: priority, then the next SLA deadline (acknowledge while open,
resolve once acknowledged, in each tenant's business hours), exceptions with
no deadline after those with one, then the opening time."""

import copy
import datetime as dt
import re
from io import StringIO
from pathlib import Path

import pytest
import time_machine
from django.conf import settings as django_settings
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from integrations.models import RoutingRule, SyncException
from integrations.sync_exceptions.deadlines import refresh_due
from opsconsole.models import Tenant
from provisioning.config.apply import apply_document
from provisioning.config.loading import load_file
from tests import factories as f

UTC = dt.UTC
WEEKDAYS = ["mon", "tue", "wed", "thu", "fri"]
EXAMPLE = Path(django_settings.BASE_DIR) / "examples" / "northwind.yaml"


def at(text):
    return dt.datetime.fromisoformat(text).replace(tzinfo=UTC)


def post_failure(client, integration, run_id, error_code, record_id, now, error_class=None):
    """A worker posts a failed run with one failure; returns the exception."""
    failure = f.failure_doc(record_id, error_code=error_code, message=f"{error_code} failed")
    if error_class:
        failure["error_class"] = error_class
    started = now - dt.timedelta(minutes=1)
    doc = f.run_doc(
        run_id,
        integration=integration.slug,
        status="failed",
        started_at=started.isoformat().replace("+00:00", "Z"),
        finished_at=now.isoformat().replace("+00:00", "Z"),
        failures=[failure],
    )
    r = client.post("/api/v1/runs", doc, format="json")
    assert r.status_code in (200, 201), r.content
    return SyncException.objects.get(integration=integration, error_code=error_code)


def due(exception):
    exception.refresh_from_db(fields=["due_at", "status"])
    return exception.due_at


def inbox_ids(user, **params):
    client = Client()
    client.force_login(user)
    page = client.get("/inbox/", params)
    assert page.status_code == 200
    return [int(pk) for pk in re.findall(r'name="ids" value="(\d+)"', page.content.decode())]


def api_ids(as_user, user, **params):
    r = as_user(user).get("/api/v1/exceptions", params)
    assert r.status_code == 200
    return [d["id"] for d in r.json()["results"]]


@pytest.fixture
def world(northwind, contoso, fabrikam):
    """Three tenants of one partner, each with an integration and a worker:

    - contoso (Chicago, Mon-Fri 08:00-18:00, 14:00-24:00 UTC): P3 acknowledge
      within 60 business minutes, resolve within 960;
    - fabrikam (Berlin, Mon-Fri 09:00-17:00, 08:00-16:00 UTC): P3 acknowledge
      within 120 business minutes, no resolve objective;
    - initech (UTC): no objective at all; its AUTH failures are routed P1."""
    contoso.business_hours = {"days": WEEKDAYS, "start": "08:00", "end": "18:00"}
    contoso.save()
    fabrikam.business_hours = {"days": WEEKDAYS, "start": "09:00", "end": "17:00"}
    fabrikam.save()
    initech = f.make_tenant(northwind, "initech", name="Initech", timezone="UTC")
    RoutingRule.objects.create(tenant=initech, position=1, match={"error_code": "AUTH"}, priority="P1")
    f.make_clock_objective(contoso, "acknowledge", "P3", 60)
    f.make_clock_objective(contoso, "resolve", "P3", 960)
    f.make_clock_objective(fabrikam, "acknowledge", "P3", 120)
    out = {}
    for tenant in (contoso, fabrikam, initech):
        integration = f.make_integration(tenant, f"{tenant.slug}-sync", name=f"{tenant.name} sync")
        out[tenant.slug] = (integration, f.client_with(f.make_key(tenant, ["ingest"])))
    return out


@pytest.fixture
def opened(world):
    """Thursday 2026-11-26, exceptions opened through the worker API:

    14:30 UTC  initech   P3  D  no objective: no deadline
    15:30 UTC  fabrikam  P3  A  30 minutes left today, 90 on Friday: due Fri 09:30
    15:40 UTC  contoso   P3  B  due Thu 16:40
    15:45 UTC  initech   P1  E  no deadline, but P1

    Priority then opening time would say E, D, A, B."""
    with time_machine.travel(at("2026-11-26T14:30:00"), tick=False) as clock:
        rows = {}
        for name, tenant, code, moment in (
            ("D", "initech", "LATE", "2026-11-26T14:30:00"),
            ("A", "fabrikam", "BERLIN", "2026-11-26T15:30:00"),
            ("B", "contoso", "CHICAGO", "2026-11-26T15:40:00"),
            ("E", "initech", "AUTH", "2026-11-26T15:45:00"),
        ):
            clock.move_to(at(moment))
            integration, client = world[tenant]
            rows[name] = post_failure(client, integration, f"run-{name}", code, f"R-{name}", at(moment))
        yield rows, clock


def test_the_order_is_priority_then_time_left_across_tenants(opened, support, as_user):
    rows, _clock = opened
    a, b, d, e = rows["A"], rows["B"], rows["D"], rows["E"]
    assert e.priority == "P1" and {a.priority, b.priority, d.priority} == {"P3"}
    assert (due(a), due(b), due(d), due(e)) == (at("2026-11-27T09:30:00"), at("2026-11-26T16:40:00"), None, None)

    expected = [e.pk, b.pk, a.pk, d.pk]
    assert inbox_ids(support) == expected
    assert api_ids(as_user, support) == expected
    assert api_ids(as_user, support, status="open,acknowledged") == expected
    # The old order (priority, then opening time) would have put A before B.
    by_opening = list(SyncException.objects.order_by("priority", "opened_at").values_list("pk", flat=True))
    assert by_opening == [e.pk, d.pk, a.pk, b.pk]


def test_acknowledging_moves_the_deadline_to_resolve_and_the_row_down(opened, support, as_user):
    rows, clock = opened
    a, b, d, e = rows["A"], rows["B"], rows["D"], rows["E"]
    clock.move_to(at("2026-11-26T16:00:00"))
    client = Client()
    client.force_login(support)
    r = client.post("/inbox/bulk/", {"action": "acknowledge", "ids": [b.pk]})
    assert r.status_code == 302

    # Resolve within 960: 500 business minutes left on Thursday, 460 on Friday from 14:00 UTC.
    assert due(b) == at("2026-11-27T21:40:00")
    expected = [e.pk, a.pk, b.pk, d.pk]
    assert inbox_ids(support) == expected
    assert api_ids(as_user, support) == expected

    # Fabrikam has no resolve objective: acknowledged, A has no deadline left.
    assert as_user(support).post(f"/api/v1/exceptions/{a.pk}/acknowledge").status_code == 200
    assert due(a) is None
    assert api_ids(as_user, support) == [e.pk, b.pk, d.pk, a.pk]  # A opened after D


def test_resolving_and_ignoring_clear_the_deadline(opened, support, as_user):
    rows, clock = opened
    a, b = rows["A"], rows["B"]
    api = as_user(support)
    assert api.post(f"/api/v1/exceptions/{b.pk}/resolve", {"note": "fixed"}, format="json").status_code == 200
    assert due(b) is None and b.status == "resolved"
    assert api.post(f"/api/v1/exceptions/{a.pk}/ignore", {}, format="json").status_code == 200
    assert due(a) is None and a.status == "ignored"
    # Closed exceptions come after the open ones, in the same order as before.
    ids = api_ids(as_user, support, status="all")
    assert ids == [rows["E"].pk, rows["D"].pk, a.pk, b.pk]


def test_reopenings_and_regressions_start_a_new_deadline(opened, world, support, as_user):
    rows, clock = opened
    a = rows["A"]
    api = as_user(support)
    assert api.post(f"/api/v1/exceptions/{a.pk}/resolve", {}, format="json").status_code == 200

    # A new failure after the resolution: a regression, opened at 16:30 UTC,
    # after fabrikam's day: 120 minutes from Friday 08:00 UTC.
    clock.move_to(at("2026-11-26T16:30:00"))
    integration, worker = world["fabrikam"]
    assert post_failure(worker, integration, "run-A2", "BERLIN", "R-A2", at("2026-11-26T16:30:00")).pk == a.pk
    assert due(a) == at("2026-11-27T10:00:00")
    assert a.status == "open"

    # Ignored, then reopened by staff on Friday at 08:30 UTC: due 10:30.
    assert api.post(f"/api/v1/exceptions/{a.pk}/ignore", {}, format="json").status_code == 200
    assert due(a) is None
    clock.move_to(at("2026-11-27T08:30:00"))
    assert api.post(f"/api/v1/exceptions/{a.pk}/reopen", {}, format="json").status_code == 200
    assert due(a) == at("2026-11-27T10:30:00")

    # An ignored exception whose period ended reopens with a new failure.
    b = rows["B"]
    until = "2026-11-27T09:00:00Z"
    assert api.post(f"/api/v1/exceptions/{b.pk}/ignore", {"until": until}, format="json").status_code == 200
    clock.move_to(at("2026-11-27T15:00:00"))
    integration, worker = world["contoso"]
    post_failure(worker, integration, "run-B2", "CHICAGO", "R-B2", at("2026-11-27T15:00:00"))
    assert due(b) == at("2026-11-27T16:00:00")
    assert b.status == "open"

    # A regression of an exception no objective covers: open, no deadline.
    d = rows["D"]
    assert api.post(f"/api/v1/exceptions/{d.pk}/resolve", {}, format="json").status_code == 200
    integration, worker = world["initech"]
    post_failure(worker, integration, "run-D2", "LATE", "R-D2", at("2026-11-27T15:00:00"))
    assert due(d) is None
    assert d.status == "open"


def test_a_recovery_that_resolves_the_exception_clears_the_deadline(opened, world):
    rows, clock = opened
    b = rows["B"]
    clock.move_to(at("2026-11-26T16:10:00"))
    integration, worker = world["contoso"]
    doc = f.run_doc(
        "run-B-recovered",
        integration=integration.slug,
        started_at="2026-11-26T16:05:00Z",
        finished_at="2026-11-26T16:09:00Z",
        recovered=[{"entity": "time_entry", "record_id": "R-B"}],
    )
    assert worker.post("/api/v1/runs", doc, format="json").status_code in (200, 201)
    assert due(b) is None and b.status == "resolved"


def test_refresh_due_recomputes_after_an_objective_changes_in_a_constant_number_of_queries(world, contoso, fabrikam):
    integration_c, _ = world["contoso"]
    integration_f, _ = world["fabrikam"]
    opened_at = at("2026-11-26T15:00:00")

    def make(n):
        made = []
        for i in range(n):
            made.append(f.make_exception(integration_c, priority="P3", opened_at=opened_at, title=f"c{n}-{i}"))
            made.append(f.make_exception(integration_f, priority="P3", opened_at=opened_at, title=f"f{n}-{i}"))
        return [e.pk for e in made]

    few, many = make(1), make(20)
    counts = []
    for ids in (few, many):
        with CaptureQueriesContext(connection) as captured:
            assert refresh_due(ids) == len(ids)
        counts.append(len(captured.captured_queries))
    assert counts[0] == counts[1]
    assert {due(SyncException(pk=pk)) for pk in many[0::2]} == {at("2026-11-26T16:00:00")}
    # Fabrikam: 60 minutes left on Thursday (until 16:00 UTC), 60 on Friday from 08:00.
    assert {due(SyncException(pk=pk)) for pk in many[1::2]} == {at("2026-11-27T09:00:00")}
    # Nothing changed: nothing written.
    assert refresh_due(many) == 0


def test_apply_config_recomputes_the_deadlines_of_open_exceptions(db):
    doc = copy.deepcopy(load_file(EXAMPLE))
    contoso_doc = doc["tenants"][0]
    contoso_doc["sla"] = [{"objective": "acknowledge", "priority": "P2", "target": 95.0, "within_business_minutes": 60}]
    with time_machine.travel(at("2026-11-26T15:00:00"), tick=False):
        apply_document(doc, base_dir=EXAMPLE.parent)
        contoso = Tenant.objects.get(slug="contoso")
        integration = contoso.integrations.get(slug="time-expense-posting")
        worker = f.client_with(f.make_key(contoso, ["ingest"]))
        # Routed P2 (validation errors of this integration), opened 09:00 in Chicago.
        exc = post_failure(worker, integration, "r1", "E1", "TE-1", at("2026-11-26T15:00:00"), "validation")
        assert exc.priority == "P2"
        assert due(exc) == at("2026-11-26T16:00:00")

        contoso_doc["sla"][0]["within_business_minutes"] = 120
        apply_document(doc, base_dir=EXAMPLE.parent)
        assert due(exc) == at("2026-11-26T17:00:00")

        # Business hours from 10:00 in Chicago (16:00 UTC): 120 minutes from then.
        contoso_doc["business_hours"]["start"] = "10:00"
        apply_document(doc, base_dir=EXAMPLE.parent)
        assert due(exc) == at("2026-11-26T18:00:00")

        # Without the objective (pruned), no deadline applies.
        contoso_doc["sla"] = []
        apply_document(doc, base_dir=EXAMPLE.parent, prune=True)
        assert due(exc) is None


def test_the_refresh_due_command_fills_exceptions_stored_without_a_deadline(world, contoso, fabrikam):
    integration_c, _ = world["contoso"]
    integration_f, _ = world["fabrikam"]
    opened_at = at("2026-11-26T15:00:00")
    c = f.make_exception(integration_c, priority="P3", opened_at=opened_at)
    fa = f.make_exception(integration_f, priority="P3", opened_at=opened_at, title="Berlin")
    done = f.make_exception(integration_c, priority="P3", opened_at=opened_at, status="resolved", title="Done")
    SyncException.objects.filter(pk=done.pk).update(due_at=opened_at)  # a stale value
    assert due(c) is None

    call_command("refresh_due", "contoso", stdout=StringIO())
    assert due(c) == at("2026-11-26T16:00:00")
    assert due(fa) is None
    assert due(done) is None

    out = StringIO()
    call_command("refresh_due", stdout=out)
    assert due(fa) == at("2026-11-27T09:00:00")
    assert "1 exception(s)" in out.getvalue()
    with pytest.raises(CommandError, match="unknown tenant"):
        call_command("refresh_due", "nobody", stdout=StringIO())
