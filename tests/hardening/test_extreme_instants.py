"""Instants no tenant calendar can show (contract 3.1, 8): ingest refuses
them with a 400 naming the field, and rows stored before that rule (year 9999
or year 1) still render on every page and in every answer."""

import datetime as dt

import pytest
from django.test import Client

from integrations.models import ExceptionStatus, Run, RunLog
from tests import factories as f

FAR_FUTURE = dt.datetime(9999, 12, 31, 23, 59, 59, tzinfo=dt.UTC)
FAR_PAST = dt.datetime(1, 1, 1, tzinfo=dt.UTC)
INGEST_FIELDS = [
    ("started_at", lambda v: f.run_doc(started_at=v, finished_at=None, status="running")),
    ("finished_at", lambda v: f.run_doc(finished_at=v)),
    ("occurred_at", lambda v: f.run_doc(failures=[f.failure_doc(occurred_at=v)])),
    ("source_changed_at", lambda v: f.run_doc(failures=[f.failure_doc(source_changed_at=v)])),
    ("at", lambda v: f.run_doc(logs=[{"at": v, "level": "info", "message": "hello"}])),
]


def _errors_name(body, field):
    text = repr(body)
    return f"'{field}'" in text and "1970" in text


@pytest.mark.parametrize(("field", "build"), INGEST_FIELDS, ids=[n for n, _ in INGEST_FIELDS])
@pytest.mark.parametrize(
    "value", ["9999-12-31T23:59:59Z", "0001-01-01T00:00:00Z", "0001-01-01T00:00:00+01:00", "1969-12-31T23:59:59Z"]
)
def test_ingest_refuses_instants_outside_1970_to_2200_naming_the_field(worker, integration, field, build, value):
    response = worker.post("/api/v1/runs", build(value), format="json")
    assert response.status_code == 400, response.content
    assert _errors_name(response.json(), field), response.json()
    assert not integration.runs.exists()


def test_ingest_takes_the_bounds_themselves(worker, integration):
    doc = f.run_doc(started_at="1970-01-01T00:00:00Z", finished_at="1970-01-01T00:01:00Z")
    doc["failures"] = [f.failure_doc(occurred_at="1970-01-01T00:00:30Z")]
    assert worker.post("/api/v1/runs", doc, format="json").status_code == 201


@pytest.fixture
def extreme_rows(integration, fabrikam):
    """Rows as an older version stored them: a western tenant (contoso,
    Chicago) with year-1 instants, an eastern one (fabrikam, Berlin) with
    year-9999 instants, each with an exception, a failure, a run and a log."""
    east = f.make_integration(fabrikam, "payroll")
    made = {}
    for name, integ, instant in (("west", integration, FAR_PAST), ("east", east, FAR_FUTURE)):
        run = Run.objects.create(
            tenant=integ.tenant,
            integration=integ,
            run_id=name,
            status="partial",
            started_at=instant,
            finished_at=instant,
        )
        exc = f.make_exception(
            integ,
            first_seen=instant,
            last_seen=instant,
            status=ExceptionStatus.IGNORED,
            ignored_until=FAR_FUTURE,
            acknowledged_at=instant,
        )
        f.make_failure(exc, run=run, occurred_at=instant, source_changed_at=instant)
        RunLog.objects.create(run=run, at=instant, level="info", message="x", digest=name)
        made[name] = (integ, run, exc)
    return made


def _pages(rows):
    for integ, run, exc in rows.values():
        slug = integ.tenant.slug
        yield from (
            f"/exceptions/{exc.pk}/",
            f"/runs/{run.pk}/",
            f"/t/{slug}/",
            f"/t/{slug}/i/{integ.slug}/",
            f"/t/{slug}/sla/",
            f"/t/{slug}/trends/",
            f"/t/{slug}/replays/",
            f"/exceptions/{exc.pk}/replay/",
            f"/api/v1/exceptions/{exc.pk}",
            f"/api/v1/exceptions/{exc.pk}/occurrences",
            f"/api/v1/runs?tenant={slug}",
            f"/api/v1/integrations?tenant={slug}",
        )
    yield from ("/inbox/", "/inbox/?status=ignored", "/approvals/", "/api/v1/exceptions?status=ignored")


def test_stored_extreme_instants_render_on_every_page(extreme_rows, manager):
    client = Client()
    client.force_login(manager)
    for url in _pages(extreme_rows):
        response = client.get(url)
        assert response.status_code == 200, url
