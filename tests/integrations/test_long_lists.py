"""Lists too long to count on every page view: the inbox and the replay
record picker count up to a cap and say "N+" past it; the occurrences pager
takes the exception's stored count instead of counting rows."""

import datetime as dt

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from integrations import replay_views
from integrations.models import ExceptionStatus
from integrations.views import inbox as inbox_views
from tests import factories as f


def test_the_inbox_counts_up_to_its_cap_and_pages_within_it(client, support, integration, monkeypatch):
    monkeypatch.setattr(inbox_views, "COUNT_CAP", 50)
    now = timezone.now()
    for i in range(60):
        f.make_exception(integration, title=f"Open failure {i:02d}", opened_at=now - dt.timedelta(minutes=i))
    for i in range(5):
        f.make_exception(integration, title=f"Closed failure {i}", status=ExceptionStatus.RESOLVED, resolved_at=now)
    client.force_login(support)
    first = client.get("/inbox/").content.decode()
    assert "50+ exceptions" in first and "Page 1 of 2+" in first
    assert first.count('name="ids"') == 25
    # Every status: the open ones come first, so the pages inside the cap hold
    # open exceptions only; a page past the cap falls back to the last offered.
    last = client.get("/inbox/", {"status": "all", "page": 9}).content.decode()
    assert "Page 2 of 2+" in last and last.count('name="ids"') == 25
    assert "Closed failure" not in last


def test_the_inbox_count_is_exact_below_the_cap(client, support, integration):
    for i in range(3):
        f.make_exception(integration, title=f"Failure {i}")
    client.force_login(support)
    page = client.get("/inbox/").content.decode()
    assert "3 exceptions" in page and "+ exceptions" not in page


def test_the_record_picker_counts_up_to_its_cap(client, support, integration, monkeypatch):
    monkeypatch.setattr(replay_views, "PICKER_COUNT_CAP", 100)
    exception = f.make_exception_with_records(integration, record_ids=[f"TE-{n:03d}" for n in range(130)])
    client.force_login(support)
    body = client.get(f"/exceptions/{exception.pk}/").content.decode()
    assert "Replay all 100+ records not yet remediated" in body
    assert "Page 1 of 4+ · 100+ records" in body
    # Searching narrows the picker; the "all" button still counts everything.
    found = client.get(f"/exceptions/{exception.pk}/", {"rq": "TE-12"}).content.decode()
    assert found.count('name="records"') == 10 and "Replay all 100+ records" in found


def test_the_occurrences_pager_reads_the_stored_count(client, support, integration):
    exception = f.make_exception_with_records(integration, record_ids=[f"TE-{n}" for n in range(45)])
    client.force_login(support)
    with CaptureQueriesContext(connection) as ctx:
        body = client.get(f"/exceptions/{exception.pk}/").content.decode()
    assert 'Occurrences <span class="muted small">45</span>' in body
    counted = [
        q["sql"] for q in ctx.captured_queries if "COUNT(" in q["sql"].upper() and "integrations_failure" in q["sql"]
    ]
    # Only the capped picker count touches the failures (a LIMIT inside it).
    assert all("LIMIT" in sql.upper() for sql in counted), counted
    last = client.get(f"/exceptions/{exception.pk}/", {"page": 3}).content.decode()
    assert "Page 3 of 3" in last


def test_the_opened_range_of_one_tenants_inbox_is_in_the_tenants_time(client, support, contoso, integration):
    client.force_login(support)
    query = {"opened_after": "2026-11-02T06:00:00Z", "opened_before": "2026-11-09T06:00:00Z"}
    one = client.get("/inbox/", {**query, "tenant": contoso.slug}).content.decode()
    # Chicago: CST from 1 November.
    assert "from <time" in one and "2026-11-02 00:00 CST" in one and "2026-11-09 00:00 CST" in one
    # Across tenants the range has no one zone: UTC, said as such.
    every = client.get("/inbox/", query).content.decode()
    assert "2026-11-02 06:00:00 UTC" in every
