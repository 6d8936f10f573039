"""GET /api/v1/portfolio (contract 4.6): every tenant's pooled and
tenant-wide SLA rows exactly as GET /api/v1/sla gives them, open exceptions
by priority and integration health."""

from decimal import Decimal

import time_machine

from integrations.models import ExceptionStatus
from tests import factories as f
from tests.governance.conftest import utc

ROW_KEYS = {
    "objective",
    "priority",
    "target",
    "threshold_minutes",
    "within_business_minutes",
    "good",
    "total",
    "attained",
    "met",
    "error_budget",
}


def pooled_sla_rows(client, slug, period):
    response = client.get(f"/api/v1/sla?tenant={slug}&period={period}")
    assert response.status_code == 200, response.content
    return [
        {k: v for k, v in r.items() if k != "integration"}
        for r in response.json()["objectives"]
        if r["integration"] is None
    ]


def portfolio(client, query=""):
    response = client.get(f"/api/v1/portfolio{query}")
    assert response.status_code == 200, response.content
    return response.json()


@time_machine.travel(utc(2026, 12, 3, 10), tick=False)
def test_objective_rows_equal_the_sla_api_for_a_past_and_the_current_month(portfolio_data, as_user, manager):
    client = as_user(manager)
    for period in ("2026-11", "2026-12"):
        body = portfolio(client, f"?period={period}")
        assert body["period"] == period
        assert [t["tenant"] for t in body["tenants"]] == ["contoso", "fabrikam"]
        for entry in body["tenants"]:
            expected = pooled_sla_rows(client, entry["tenant"], period)
            assert entry["objectives"] == expected
            assert {r["objective"] for r in expected} == {
                "run_success",
                "record_success",
                "freshness",
                "timeliness",
                "acknowledge",
                "resolve",
            }
            assert all(set(r) == ROW_KEYS for r in entry["objectives"])
            # Figures are real: runs were counted.
            assert next(r for r in expected if r["objective"] == "run_success")["total"] > 0


@time_machine.travel(utc(2026, 12, 3, 10), tick=False)
def test_open_exceptions_health_and_money_per_tenant(portfolio_data, as_user, partner_admin):
    sched, other = portfolio_data["contoso"]
    f.make_exception(sched, priority="P1", open_amount=Decimal("8000.5000"))
    f.make_exception(sched, priority="P3", status=ExceptionStatus.ACKNOWLEDGED, open_amount=Decimal("120"))
    f.make_exception(other, priority="P3", status=ExceptionStatus.RESOLVED, open_amount=Decimal("999"))
    f.make_integration(portfolio_data["contoso"][0].tenant, "never-ran")
    entry = portfolio(as_user(partner_admin))["tenants"][0]
    assert entry["tenant"] == "contoso" and entry["name"] == "Contoso Consulting"
    # The fixture's openings left 7 P1 and 6 P2 exceptions open.
    assert entry["open_exceptions"] == {"P1": 8, "P2": 6, "P3": 1, "P4": 0}
    # The scheduled flow ran at 09:00Z (every 6 h, grace 1 h): up; billing-sync
    # has no schedule and has run: up; the new one has never run.
    assert entry["health"] == {"new": 1, "up": 2, "late": 0, "down": 0}
    # The money of exceptions open or acknowledged now; resolved ones hold none.
    assert entry["open_amount"] == "8120.5000" and entry["currency"] == "USD"


@time_machine.travel(utc(2026, 12, 3, 10), tick=False)
def test_open_amount_is_null_when_no_open_exception_holds_money(portfolio_data, as_user, manager):
    sched, _ = portfolio_data["contoso"]
    tenant = sched.tenant
    tenant.currency = "EUR"
    tenant.save(update_fields=["currency"])
    f.make_exception(sched, priority="P1")
    entry = portfolio(as_user(manager))["tenants"][0]
    assert entry["tenant"] == "contoso"
    assert entry["open_amount"] is None and entry["currency"] == "EUR"


@time_machine.travel(utc(2026, 12, 3, 20), tick=False)
def test_health_counts_late_and_down_as_the_integrations_api_does(portfolio_data, as_user, manager):
    # Last heartbeat 09:00Z, every 6 h + grace 1 h: late from 16:00Z, down from 17:00Z.
    client = as_user(manager)
    entry = portfolio(client, "?tenant=fabrikam")["tenants"]
    assert [e["tenant"] for e in entry] == ["fabrikam"]
    listed = client.get("/api/v1/integrations?tenant=fabrikam").json()
    listed = listed["results"] if isinstance(listed, dict) else listed
    health = {}
    for row in listed:
        health[row["health"]] = health.get(row["health"], 0) + 1
    assert entry[0]["health"] == {"new": 0, "up": 0, "late": 0, "down": 0} | health
    assert entry[0]["health"]["down"] == 1


def test_a_partner_without_tenants_has_an_empty_portfolio(as_user, southwind):
    lonely = f.make_user(f.make_partner("lonely"), "manager", "boss@lonely.example")
    assert portfolio(as_user(lonely), "?period=2026-11") == {"period": "2026-11", "tenants": []}


def test_another_partners_tenants_never_appear(portfolio_data, as_user, globex, southwind):
    boss = f.make_user(southwind, "manager", "boss@southwind.example")
    body = portfolio(as_user(boss), "?period=2026-11")
    assert [t["tenant"] for t in body["tenants"]] == ["globex"]
    assert as_user(boss).get("/api/v1/portfolio?tenant=contoso").status_code == 404


def test_malformed_periods_and_tenants_are_400_naming_the_parameter(as_user, manager, contoso):
    client = as_user(manager)
    for bad in ("2026-13", "2026-1", "26-11", "november", "2026-11-01", "0000-01"):
        response = client.get(f"/api/v1/portfolio?period={bad}")
        assert response.status_code == 400, bad
        assert "period" in response.json()
    response = client.get("/api/v1/portfolio?tenant=" + "x" * 300)
    assert response.status_code == 400 and "tenant" in response.json()
    assert client.get("/api/v1/portfolio?tenant=nope").status_code == 404


@time_machine.travel(utc(2026, 11, 20, 12), tick=False)
def test_without_a_period_it_is_the_current_month(as_user, manager, contoso):
    assert portfolio(as_user(manager))["period"] == "2026-11"
