"""The customer portal: what a customer viewer and approver see of their
tenants, with the SLA engine's figures, and who may open it."""

import re

import pytest
from django.test import Client

from opsconsole.roles import Role
from tests import factories as f


def signed_in(user):
    client = Client()
    client.force_login(user)
    return client


def test_a_customer_lands_on_the_portal(portal_data, customer_viewer):
    client = signed_in(customer_viewer)
    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"] == "/portal/"
    html = client.get("/portal/").content.decode()
    assert "Contoso Consulting" in html
    assert 'href="/portal/" aria-current="page">Portal</a>' in html


def test_the_portal_shows_this_months_objectives_in_words_with_the_engines_figures(portal_data, customer_viewer):
    client = signed_in(customer_viewer)
    html = client.get("/portal/").content.decode()
    api = client.get("/api/v1/sla?tenant=contoso&period=2026-11").json()
    pooled = next(r for r in api["objectives"] if r["objective"] == "run_success" and r["integration"] is None)
    assert f"{pooled['attained']:.2f} %" in html
    assert "November 2026" in html
    # 13 of 235 runs failed against 99 %: missed, in words and in colour.
    assert re.search(r'class="glance-item verdict-missed">\s*<span class="verdict-badge">Missed</span>', html)


def test_the_status_strip_has_a_bar_per_day_with_its_figures(portal_data, customer_viewer):
    html = signed_in(customer_viewer).get("/portal/").content.decode()
    strips = re.findall(r'<ol class="strip" aria-label="([^"]+)">(.*?)</ol>', html, re.S)
    assert [label for label, _ in strips] == [
        "Billing milestones: run success per day, last 90 days",
        "Time and expense to NetSuite: run success per day, last 90 days",
    ]
    bars = re.findall(r'<li class="bar bar-(\w+)" title="([^"]+)">', strips[1][1])
    assert len(bars) == 90
    by_day = {title.split(":")[0]: (status, title) for status, title in bars}
    assert by_day["Tue 3 Nov 2026"] == ("degraded", "Tue 3 Nov 2026: Below target. 11 of 12 runs succeeded (91.67 %)")
    assert by_day["Thu 5 Nov 2026"][0] == "down"
    assert by_day["Mon 2 Nov 2026"][0] == "ok"
    assert by_day["Sat 31 Oct 2026"] == ("none", "Sat 31 Oct 2026: no runs")
    assert all(status == "none" for status, _ in re.findall(r'class="bar bar-(\w+)" title="([^"]+)"', strips[0][1]))


def test_open_exceptions_are_counted_by_priority_and_the_most_urgent_listed(portal_data, customer_viewer):
    html = signed_in(customer_viewer).get("/portal/").content.decode()
    counts = dict(re.findall(r'<span class="badge prio-(P\d)">P\d</span> <strong>(\d+)</strong>', html))
    assert counts == {"P1": "1", "P2": "1", "P3": "0", "P4": "0"}
    assert "Credentials for &lt;system&gt; expired" in html
    assert "Resolved long ago" not in html


def test_an_approver_sees_the_replays_waiting_for_them_and_a_viewer_does_not(
    portal_data, customer_approver, customer_viewer
):
    approver = signed_in(customer_approver).get("/portal/").content.decode()
    assert "Replays waiting for your approval" in approver
    assert f'href="/replays/{portal_data.replay.pk}/"' in approver
    viewer = signed_in(customer_viewer).get("/portal/").content.decode()
    assert "Replays waiting for your approval" not in viewer


def test_the_portal_has_no_staff_controls(portal_data, customer_approver):
    html = signed_in(customer_approver).get("/portal/").content.decode()
    for control in ("Acknowledge", "Assign", "Resolve", "Request replay", "Ignore", 'action="/exceptions/'):
        assert control not in html


def test_too_early_to_judge_on_the_first_morning_of_a_month(frozen, northwind, contoso, customer_viewer):
    from datetime import UTC, datetime

    plan = f.make_plan(northwind, objectives=[{"objective": "run_success", "target": 99.0}])
    contoso.plan = plan
    contoso.save()
    integration = f.make_integration(contoso)
    frozen.move_to(datetime(2026, 12, 1, 12, 0, tzinfo=UTC))
    f.make_run_at(integration, datetime(2026, 12, 1, 7, tzinfo=UTC), "failed")
    f.make_run_at(integration, datetime(2026, 12, 1, 8, tzinfo=UTC), "succeeded")
    html = signed_in(customer_viewer).get("/portal/").content.decode()
    assert "Too early to judge" in html
    assert "Missed" not in html


STAFF = (Role.PARTNER_ADMIN, Role.MANAGER, Role.SUPPORT)


@pytest.mark.parametrize("role", STAFF)
def test_staff_are_sent_to_their_home_and_may_preview_a_tenants_portal(portal_data, northwind, role):
    client = signed_in(f.make_user(northwind, role))
    assert client.get("/portal/")["Location"] == "/"
    response = client.get("/t/contoso/portal/")
    assert response.status_code == 200
    assert "This month's objectives" in response.content.decode()


@pytest.mark.parametrize("role", (Role.CUSTOMER_VIEWER, Role.CUSTOMER_APPROVER))
def test_a_customer_opens_their_tenants_portal_and_gets_404_for_another(portal_data, northwind, fabrikam, role):
    client = signed_in(f.make_user(northwind, role, tenants=[portal_data.integration.tenant]))
    assert client.get("/portal/").status_code == 200
    assert client.get("/t/contoso/portal/").status_code == 200
    assert client.get("/t/fabrikam/portal/").status_code == 404


def test_another_partners_user_gets_404_and_a_stranger_the_login_page(portal_data, outsider, client):
    assert signed_in(outsider).get("/t/contoso/portal/").status_code == 404
    assert "Contoso" not in signed_in(outsider).get("/").content.decode()
    assert client.get("/portal/")["Location"].startswith("/login/")
    assert client.get("/t/contoso/portal/")["Location"].startswith("/login/")


def test_the_report_archive_links_this_month_last_month_and_issued_reports(
    portal_data, frozen, customer_viewer, support
):
    from datetime import UTC, datetime

    from sla.reports import issuing
    from sla.reports.periods import Month

    client = signed_in(customer_viewer)
    html = client.get("/portal/").content.decode()
    section = html[html.index("Service reports") :]
    assert 'href="/reports/contoso/2026-11/"' in section
    assert 'href="/reports/contoso/2026-11.pdf"' in section
    assert "Provisional" in section
    assert "2026-10" not in section  # before contoso's first run: no report

    frozen.move_to(datetime(2026, 12, 2, 18, 0, tzinfo=UTC))  # within the session's two weeks
    html = client.get("/portal/").content.decode()
    section = html[html.index("Service reports") :]
    assert "December 2026" in section
    assert "November 2026" in section
    assert "issued when first opened" in section
    issuing.issued_or_issue(portal_data.integration.tenant, Month(2026, 11), support)
    html = client.get("/portal/").content.decode()
    section = html[html.index("Service reports") :]
    assert "issued when first opened" not in section
    assert "issued 2 Dec 2026" in section
    assert client.get("/reports/contoso/2026-11.csv").status_code == 200
