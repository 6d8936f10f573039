"""The inbox, exception, integration and run pages as a person sees them."""

import datetime as dt
import re

import pytest
import time_machine
from django.test import Client
from django.utils import timezone

from integrations.models import LogLevel, RunLog
from integrations.sync_exceptions.deadlines import refresh_due_of_tenants
from opsconsole.models import AuditEntry
from tests import factories as f


def browser(user):
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def exc(integration):
    e = f.make_exception(integration, priority="P2", title="Project P-<n> is closed in the ERP")
    f.make_failure(e, record_id="TE-1001")
    return e


def test_the_inbox_lists_open_exceptions_with_their_clock(support, exc, contoso):
    f.make_clock_objective(contoso, "acknowledge", "P2", 60)
    resolved = f.make_exception(exc.integration, status="resolved", title="Old and done")
    page = browser(support).get("/inbox/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "Project P-&lt;n&gt; is closed in the ERP" in html
    assert "Old and done" not in html
    assert "Acknowledge in" in html
    assert f'value="{exc.pk}"' in html  # a bulk-selection checkbox
    assert resolved.pk
    # The navigation links to the inbox.
    assert 'href="/inbox/"' in html


def test_the_inbox_filters_and_searches_by_record_id(support, integration):
    a = f.make_exception(integration, priority="P1", title="Alpha failure")
    f.make_failure(a, record_id="INV-77")
    f.make_exception(integration, priority="P3", title="Beta failure")
    html = browser(support).get("/inbox/", {"q": "INV-77"}).content.decode()
    assert "Alpha failure" in html and "Beta failure" not in html
    html = browser(support).get("/inbox/", {"priority": "P3"}).content.decode()
    assert "Beta failure" in html and "Alpha failure" not in html


def test_saved_views(support, manager, integration, contoso):
    now = timezone.now()
    mine = f.make_exception(integration, priority="P3", assignee=support, title="Mine to fix")
    urgent = f.make_exception(integration, priority="P1", title="Urgent nobody has")
    f.make_exception(integration, priority="P2", assignee=manager, title="Taken by max")
    f.make_clock_objective(contoso, "resolve", "P3", 60)
    late = f.make_exception(
        integration, priority="P3", title="About to breach", opened_at=now - dt.timedelta(minutes=30)
    )
    f.make_exception(integration, priority="P3", title="Plenty of time", opened_at=now + dt.timedelta(hours=3))
    # As apply_config does after an objective changes: recompute stored deadlines.
    refresh_due_of_tenants([contoso.pk])
    client = browser(support)

    def titles(view):
        html = client.get("/inbox/", {"view": view}).content.decode()
        return {
            t
            for t in ("Mine to fix", "Urgent nobody has", "Taken by max", "About to breach", "Plenty of time")
            if t in html
        }

    assert titles("mine") == {mine.title}
    assert titles("unassigned-urgent") == {urgent.title}
    # 24x7 tenant: resolve within 60 min; "Mine to fix" was opened now, due in an hour.
    assert titles("breaching") == {late.title, mine.title}


def test_the_empty_inbox_says_what_to_do(support, contoso):
    html = browser(support).get("/inbox/").content.decode()
    assert "Nothing needs attention" in html
    html = browser(support).get("/inbox/", {"q": "zzz"}).content.decode()
    assert "No exceptions match these filters" in html and "clear all filters" in html


def test_inbox_bad_filters(support, exc, globex):
    assert browser(support).get("/inbox/", {"status": "sleepy"}).status_code == 400
    assert browser(support).get("/inbox/", {"tenant": "globex"}).status_code == 404


def test_inbox_query_count_does_not_depend_on_page_size(support, integration, django_assert_max_num_queries):
    for i in range(60):
        f.make_exception(integration, priority=f"P{i % 4 + 1}")
    client = browser(support)
    client.get("/inbox/")  # warm the session
    with django_assert_max_num_queries(14) as small:
        assert client.get("/inbox/?page_size=25").status_code == 200
    with django_assert_max_num_queries(14) as large:
        assert client.get("/inbox/?page_size=100").status_code == 200
    assert len(small.captured_queries) == len(large.captured_queries)


def test_bulk_acknowledge_and_assign_are_audited(support, manager, integration, fabrikam):
    a = f.make_exception(integration)
    b = f.make_exception(integration)
    done = f.make_exception(integration, status="resolved")
    client = browser(support)
    r = client.post(
        "/inbox/bulk/", {"action": "acknowledge", "ids": [a.pk, b.pk, done.pk], "next": "/inbox/?priority=P3"}
    )
    assert r.status_code == 302 and r["Location"] == "/inbox/?priority=P3"
    a.refresh_from_db()
    b.refresh_from_db()
    assert a.status == b.status == "acknowledged"
    assert AuditEntry.objects.filter(action="exception.acknowledge").count() == 2
    msgs = [str(m) for m in client.get("/inbox/").context["messages"]]
    assert "Acknowledged 2 exceptions. 1 skipped: their status does not allow it." in msgs
    r = client.post("/inbox/bulk/", {"action": "assign", "ids": [a.pk, b.pk], "assignee": manager.email})
    a.refresh_from_db()
    assert a.assignee == manager
    assert AuditEntry.objects.filter(action="exception.assign").count() == 2


def test_bulk_resolve_and_ignore(support, integration):
    a = f.make_exception(integration)
    b = f.make_exception(integration)
    client = browser(support)
    client.post("/inbox/bulk/", {"action": "resolve", "ids": [a.pk], "note": "fixed upstream"})
    until = (timezone.now() + dt.timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")
    client.post("/inbox/bulk/", {"action": "ignore", "ids": [b.pk], "until": until})
    a.refresh_from_db()
    b.refresh_from_db()
    assert a.status == "resolved" and b.status == "ignored" and b.ignored_until is not None


def test_bulk_refuses_bad_input_and_foreign_ids(support, integration, outsider, globex):
    mine = f.make_exception(integration)
    theirs = f.make_exception(f.make_integration(globex, "x"))
    client = browser(support)
    client.post("/inbox/bulk/", {"action": "assign", "ids": [mine.pk], "assignee": outsider.email})
    client.post("/inbox/bulk/", {"action": "explode", "ids": [mine.pk]})
    client.post("/inbox/bulk/", {"action": "acknowledge", "ids": ["1; drop table"]})
    client.post("/inbox/bulk/", {"action": "acknowledge", "ids": [theirs.pk]})
    mine.refresh_from_db()
    theirs.refresh_from_db()
    assert mine.assignee is None and mine.status == "open" and theirs.status == "open"
    assert not AuditEntry.objects.filter(action__startswith="exception.").exists()


def test_bulk_needs_csrf(support, exc):
    client = Client(enforce_csrf_checks=True)
    client.force_login(support)
    assert client.post("/inbox/bulk/", {"action": "acknowledge", "ids": [exc.pk]}).status_code == 403
    exc.refresh_from_db()
    assert exc.status == "open"


def test_the_exception_page_shows_summary_occurrences_and_actions(support, exc):
    exc.runbook = "Reopen the project, then replay."
    exc.save()
    html = browser(support).get(f"/exceptions/{exc.pk}/").content.decode()
    for text in (
        "Summary",
        "Error code",
        "share the entity and the error code",
        "TE-1001",
        "Reopen the project",
        "Timeline",
        'id="acknowledge"',
        'id="resolve"',
        'id="ignore"',
        'id="comment"',
        'id="assign"',
    ):
        assert text in html, text
    run = exc.failures.get().run
    assert f'href="/runs/{run.pk}/"' in html


def test_redacted_values_are_marked_in_the_payload_viewer(support, exc):
    f.make_failure(exc, record_id="TE-SSN", payload={"employee": "E-1", "ssn": "[redacted]"})
    html = browser(support).get(f"/exceptions/{exc.pk}/").content.decode()
    assert '<mark class="redacted"' in html and "holds scrubbed values" in html


def test_actions_from_the_exception_page(support, manager, exc):
    client = browser(support)
    assert client.post(f"/exceptions/{exc.pk}/acknowledge/").status_code == 302
    client.post(f"/exceptions/{exc.pk}/assign/", {"assignee": manager.email})
    client.post(f"/exceptions/{exc.pk}/comment/", {"body": "On it <b>now</b>"})
    client.post(f"/exceptions/{exc.pk}/resolve/", {"note": "Project reopened"})
    exc.refresh_from_db()
    assert exc.status == "resolved" and exc.assignee == manager
    html = client.get(f"/exceptions/{exc.pk}/").content.decode()
    assert "On it &lt;b&gt;now&lt;/b&gt;" in html
    assert "exception.acknowledge" in html and "exception.resolve" in html and 'id="reopen"' in html
    client.post(f"/exceptions/{exc.pk}/reopen/")
    exc.refresh_from_db()
    assert exc.status == "open"
    # An illegal transition from a page says why and changes nothing.
    client.post(f"/exceptions/{exc.pk}/reopen/")
    msgs = [str(m) for m in client.get(f"/exceptions/{exc.pk}/").context["messages"]]
    assert any("can be reopened" in m for m in msgs)


def test_ignore_from_the_page_refuses_a_past_until(support, exc):
    client = browser(support)
    client.post(f"/exceptions/{exc.pk}/ignore/", {"until": "2001-01-01T00:00"})
    exc.refresh_from_db()
    assert exc.status == "open"


def test_customers_see_their_tenant_read_only(customer_viewer, customer_approver, exc, fabrikam):
    other = f.make_exception(f.make_integration(fabrikam, "payroll"), title="Fabrikam only")
    for user in (customer_viewer, customer_approver):
        client = browser(user)
        html = client.get("/inbox/").content.decode()
        assert "Project P-&lt;n&gt;" in html and "Fabrikam only" not in html
        assert "bulk-form" not in html and 'name="ids"' not in html
        page = client.get(f"/exceptions/{exc.pk}/").content.decode()
        for control in ('id="acknowledge"', 'id="assign"', 'id="resolve"', 'id="comment"', "csrfmiddlewaretoken"):
            assert control not in page.split("</header>")[1], control
        assert client.get(f"/exceptions/{other.pk}/").status_code == 404
        assert client.post(f"/exceptions/{exc.pk}/acknowledge/").status_code == 403
        assert client.post("/inbox/bulk/", {"action": "acknowledge", "ids": [exc.pk]}).status_code == 403
    exc.refresh_from_db()
    assert exc.status == "open"


def test_integration_page_shows_health_and_runs(support, integration):
    integration.every_minutes, integration.grace_minutes = 15, 10
    integration.save()
    now = timezone.now()
    f.make_run(integration, "run-ok", status="succeeded", started_at=now - dt.timedelta(minutes=30), lag_seconds=840)
    html = browser(support).get("/t/contoso/i/time-expense-posting/").content.decode()
    assert 'id="health">late<' in html
    assert "run-ok" in html and "14m" in html
    with time_machine.travel(now + dt.timedelta(minutes=10)):
        html = browser(support).get("/t/contoso/i/time-expense-posting/").content.decode()
    assert 'id="health">down<' in html
    assert browser(support).get("/t/contoso/i/nope/").status_code == 404


def test_run_page_shows_logs_by_level_and_failures(support, exc):
    run = exc.failures.get().run
    now = timezone.now()
    RunLog.objects.create(run=run, at=now, level=LogLevel.INFO, message="fetched 120 entries", digest="a")
    RunLog.objects.create(run=run, at=now, level=LogLevel.ERROR, message="post failed for TE-1001", digest="b")
    client = browser(support)
    html = client.get(f"/runs/{run.pk}/").content.decode()
    assert "fetched 120 entries" in html and "post failed" in html and "TE-1001" in html
    html = client.get(f"/runs/{run.pk}/", {"level": "warning"}).content.decode()
    assert "fetched 120 entries" not in html and "post failed" in html


HOSTILE = "<script>alert(1)</script><b>bold</b>\x07\x1b[31m\u202e" + "A" * (1024 * 1024)


def test_hostile_strings_are_escaped_and_bounded_on_every_page(support, integration):
    e = f.make_exception(integration, title=HOSTILE, error_code="<img src=x onerror=alert(1)>", runbook=HOSTILE)
    run = f.make_run(integration, run_id="<script>run</script>")
    f.make_failure(
        e,
        run=run,
        record_id="<i>TE</i>",
        message=HOSTILE,
        payload={"note": HOSTILE, "<k>": "\x01"},
        response={"status": 500, "body": HOSTILE},
    )
    RunLog.objects.create(
        run=run, at=timezone.now(), level="error", message=HOSTILE, context={"x": HOSTILE}, digest="h"
    )
    client = browser(support)
    for url in (
        "/inbox/",
        f"/exceptions/{e.pk}/",
        f"/runs/{run.pk}/",
        "/t/contoso/i/time-expense-posting/",
        "/t/contoso/",
        "/",
    ):
        r = client.get(url)
        assert r.status_code == 200, url
        html = r.content.decode()
        assert "<script>alert" not in html and "<b>bold" not in html and "<img src=x" not in html, url
        assert "<script>run" not in html and "<i>TE" not in html, url
        assert "\x07" not in html and "\x1b" not in html and "\u202e" not in html, url
        assert len(html) < 300_000, (url, len(html))
        if url != "/":
            assert "truncated" in html or url.startswith("/t/"), url
    html = client.get(f"/exceptions/{e.pk}/").content.decode()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "\\u0007" in html
    assert "more characters]" in html


def test_the_inbox_is_paginated(support, integration):
    for i in range(30):
        f.make_exception(
            integration, title=f"Failure number {i:02d}", opened_at=timezone.now() - dt.timedelta(minutes=i)
        )
    client = browser(support)
    first = client.get("/inbox/").content.decode()
    assert first.count('name="ids"') == 25 and "Page 1 of 2" in first and 'rel="next"' in first
    second = client.get("/inbox/", {"page": 2}).content.decode()
    assert second.count('name="ids"') == 5 and "Failure number 00" in second
    # Out of range or malformed pages fall back to a real page.
    assert "Page 2 of 2" in client.get("/inbox/", {"page": 99}).content.decode()
    assert "Page 1 of 2" in client.get("/inbox/", {"page": "x", "page_size": "7"}).content.decode()
    assert client.get("/inbox/", {"page_size": 50}).content.decode().count('name="ids"') == 30


def test_the_exception_page_pages_its_occurrences(support, integration):
    exception = f.make_exception_with_records(integration, record_ids=[f"TE-{n}" for n in range(25)])
    client = browser(support)
    first = client.get(f"/exceptions/{exception.pk}/").content.decode()
    assert 'aria-label="Occurrence pages"' in first
    assert "Page 1 of 2" in first and 'href="?page=2">Older →</a>' in first
    second = client.get(f"/exceptions/{exception.pk}/", {"page": 2}).content.decode()
    assert "Page 2 of 2" in second and 'href="?page=1">← Newer</a>' in second


def test_the_timeline_shows_the_opening_once(post_run, support):
    from integrations.models import SyncException

    assert post_run(f.run_doc("r1", failures=[f.failure_doc("TE-1")])).status_code in (200, 201)
    exception = SyncException.objects.get()
    html = browser(support).get(f"/exceptions/{exception.pk}/").content.decode()
    timeline = html[html.index('id="timeline-h"') :]
    items = timeline[: timeline.index("</ol>")].split("<li>")[1:]
    assert [i for i in items if "Opened" in i] == [
        i for i in items if "Opened</strong> · Opened by its first failure" in i
    ]
    assert len([i for i in items if "Opened" in i]) == 1
    assert "exception.opened" not in timeline


def test_an_exception_without_an_audited_opening_still_shows_when_it_opened(support, exc):
    html = browser(support).get(f"/exceptions/{exc.pk}/").content.decode()
    assert html[html.index('id="timeline-h"') :].count("Opened") == 1


def test_inbox_titles_show_one_real_message_under_the_normalised_title(support, exc, integration):
    f.make_failure(exc, record_id="TE-1002", message="Project P-4711 is closed in the ERP")
    hostile = f.make_exception(integration, priority="P3", title="Value <s> is bad", error_code="E2")
    f.make_failure(hostile, record_id="TE-9", message="<script>alert(1)</script>" + "x" * 5000)
    html = browser(support).get("/inbox/").content.decode()
    assert "Project P-&lt;n&gt; is closed in the ERP" in html
    assert "e.g. “Project P-4711 is closed in the ERP”" in html
    assert "<script>alert(1)" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    example = re.search(r'<div class="example-message[^>]*>(.*?)</div>', html[html.index("alert(1)") - 400 :], re.S)
    assert len(example.group(1)) < 400  # bounded, not the worker's 5,000 characters


@time_machine.travel(dt.datetime(2026, 3, 1, 12, 0, tzinfo=dt.UTC), tick=False)
def test_ignore_until_is_the_tenants_local_time_across_dst(support, exc, contoso):
    assert contoso.timezone == "America/Chicago"
    client = browser(support)
    page = client.get(f"/exceptions/{exc.pk}/").content.decode()
    assert "America/Chicago, CST local time" in page
    # 09:00 on 10 March is CDT (UTC-5), after the change of 8 March.
    client.post(f"/exceptions/{exc.pk}/ignore/", {"until": "2026-03-10T09:00"})
    exc.refresh_from_db()
    assert exc.status == "ignored"
    assert exc.ignored_until == dt.datetime(2026, 3, 10, 14, 0, tzinfo=dt.UTC)
    assert "until 2026-03-10 09:00 CDT" in client.get(f"/exceptions/{exc.pk}/").content.decode()


@time_machine.travel(dt.datetime(2026, 3, 1, 12, 0, tzinfo=dt.UTC), tick=False)
def test_ignore_until_refuses_a_time_the_clocks_skip(support, exc):
    client = browser(support)
    client.post(f"/exceptions/{exc.pk}/ignore/", {"until": "2026-03-08T02:30"})
    exc.refresh_from_db()
    assert exc.status == "open"
    msgs = [str(m) for m in client.get(f"/exceptions/{exc.pk}/").context["messages"]]
    assert any("does not exist in America/Chicago" in m for m in msgs)


@time_machine.travel(dt.datetime(2026, 12, 1, 12, 0, tzinfo=dt.UTC), tick=False)
def test_bulk_ignore_reads_until_in_each_exceptions_tenant_zone(support, exc, fabrikam):
    fabrikam.timezone = "Asia/Kathmandu"
    fabrikam.save(update_fields=["timezone"])
    other = f.make_exception(f.make_integration(fabrikam, "payroll"), title="Fabrikam one")
    client = browser(support)
    assert "each tenant&#x27;s local time" in client.get("/inbox/").content.decode()
    client.post("/inbox/bulk/", {"action": "ignore", "ids": [exc.pk, other.pk], "until": "2026-12-02T09:00"})
    exc.refresh_from_db()
    other.refresh_from_db()
    assert exc.ignored_until == dt.datetime(2026, 12, 2, 15, 0, tzinfo=dt.UTC)  # 09:00 CST
    assert other.ignored_until == dt.datetime(2026, 12, 2, 3, 15, tzinfo=dt.UTC)  # 09:00 +05:45


@time_machine.travel(dt.datetime(2026, 12, 1, 12, 0, tzinfo=dt.UTC), tick=False)
def test_the_inbox_says_how_long_ago_with_the_tenants_time_as_tooltip(support, exc):
    type(exc).objects.filter(pk=exc.pk).update(last_seen=dt.datetime(2026, 12, 1, 9, 11, tzinfo=dt.UTC))
    html = browser(support).get("/inbox/").content.decode()
    assert re.search(r'<time class="nowrap" datetime="[^"]+" title="2026-12-01 03:11 CST">2\xa0hours ago</time>', html)
