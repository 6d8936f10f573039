"""CSV exports of the inbox (with its filters) and of an integration's runs:
tenant walls, roles, formula cells neutralised, hostile text bounded, local time."""

import csv
import datetime as dt
import io

import pytest
from django.test import Client

from tests import factories as f

HOSTILE = '=HYPERLINK("http://evil.example","click")' + "x" * 5000


def browser(user):
    client = Client()
    client.force_login(user)
    return client


def rows_of(response):
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    return list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))


@pytest.fixture
def exceptions(integration, fabrikam):
    hostile = f.make_exception(integration, priority="P1", title=HOSTILE, error_code="+cmd|' /C calc'!A0")
    plain = f.make_exception(integration, priority="P3", title="Project P-<n> is closed")
    other = f.make_exception(f.make_integration(fabrikam, "payroll"), title="Fabrikam only")
    return hostile, plain, other


def test_the_inbox_export_has_the_filtered_exceptions_neutralised_and_bounded(support, exceptions):
    hostile, plain, other = exceptions
    rows = rows_of(browser(support).get("/inbox/export.csv?priority=P1"))
    header, body = rows[0], rows[1:]
    assert header[:4] == ["id", "priority", "status", "title"]
    assert [int(r[0]) for r in body] == [hostile.pk]
    title = body[0][header.index("title")]
    assert title.startswith("'=HYPERLINK(") and title.endswith("… [truncated]") and len(title) < 2100
    assert body[0][header.index("error_code")].startswith("'+cmd")
    everything = rows_of(browser(support).get("/inbox/export.csv"))
    assert {int(r[0]) for r in everything[1:]} == {hostile.pk, plain.pk, other.pk}


def test_the_inbox_export_shows_times_in_the_tenants_zone(support, integration):
    e = f.make_exception(integration, title="Timed")
    type(e).objects.filter(pk=e.pk).update(opened_at=dt.datetime(2026, 7, 1, 12, 0, tzinfo=dt.UTC))
    rows = rows_of(browser(support).get("/inbox/export.csv"))
    assert rows[1][rows[0].index("opened_at")] == "2026-07-01T07:00:00-05:00"  # Chicago, CDT


def test_a_customer_exports_only_their_tenant_and_nothing_past_the_wall(customer_viewer, exceptions, fabrikam):
    client = browser(customer_viewer)
    rows = rows_of(client.get("/inbox/export.csv"))
    assert "Fabrikam only" not in {r[3] for r in rows}
    assert len(rows) == 3
    assert client.get(f"/inbox/export.csv?tenant={fabrikam.slug}").status_code == 404
    assert client.get(f"/t/{fabrikam.slug}/i/payroll/runs.csv").status_code == 404


def test_an_outsider_gets_nothing(outsider, exceptions, contoso, integration):
    assert len(rows_of(browser(outsider).get("/inbox/export.csv"))) == 1  # the header only
    assert browser(outsider).get(f"/t/{contoso.slug}/i/{integration.slug}/runs.csv").status_code == 404
    assert Client().get("/inbox/export.csv").status_code == 302  # sign in first


def test_a_malformed_filter_is_a_400(support):
    response = browser(support).get("/inbox/export.csv?priority=P9")
    assert response.status_code == 400 and b"priority" in response.content


def test_the_runs_export_lists_the_integrations_runs(customer_viewer, support, integration, contoso):
    f.make_run(integration, run_id="=1+2", started_at=dt.datetime(2026, 1, 5, 16, 0, tzinfo=dt.UTC))
    f.make_run(integration, run_id="nightly-2", started_at=dt.datetime(2026, 1, 6, 16, 0, tzinfo=dt.UTC))
    for user in (support, customer_viewer):
        rows = rows_of(browser(user).get(f"/t/{contoso.slug}/i/{integration.slug}/runs.csv"))
        assert rows[0][:4] == ["run_id", "status", "trigger", "started_at"]
        assert [r[0] for r in rows[1:]] == ["nightly-2", "'=1+2"]
        assert rows[2][3] == "2026-01-05T10:00:00-06:00"
    page = browser(support).get(f"/t/{contoso.slug}/i/{integration.slug}/").content.decode()
    assert f'href="/t/{contoso.slug}/i/{integration.slug}/runs.csv"' in page
