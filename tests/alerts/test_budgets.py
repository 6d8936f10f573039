"""``sla.burn_rate`` and ``sla.breached`` on constructed histories (contract
section 6): both windows of a pair must burn; a month's budget is judged only
once it allows at least one bad event."""

from datetime import UTC, datetime, timedelta

import pytest

from alerts import budgets
from alerts.models import Alert
from integrations.models import Run
from sla.rollups import runs_changed
from tests import factories as f

NOW = datetime(2026, 11, 20, 12, tzinfo=UTC)


@pytest.fixture
def flow(contoso):
    """contoso with a run_success objective of 99% (budget: 1 bad run in 100)."""
    f.make_objective(contoso, objective="run_success", target=99)
    return f.make_integration(contoso, "time-expense-posting")


def history(flow, failed_minutes_ago, hours=6):
    """A run every 6 minutes over ``hours`` hours before NOW (the last 3 minutes
    before NOW), failed at the given minutes ago."""
    runs = []
    for minutes in range(3, hours * 60, 6):
        status = "failed" if minutes in failed_minutes_ago else "succeeded"
        runs.append(f.make_run_at(flow, NOW - timedelta(minutes=minutes), status, rollup=False))
    return runs


def burn_alerts(contoso, now=NOW):
    budgets.evaluate_tenant(contoso.pk, now)
    return list(Alert.objects.filter(event="sla.burn_rate").order_by("id"))


def test_the_fast_pair_fires_when_the_hour_and_the_last_5_minutes_both_burn(contoso, flow):
    history(flow, {3, 9}, hours=1)  # 1 h: 2 of 10 bad = 20x; 5 min: 1 of 1 = 100x
    alerts = burn_alerts(contoso)
    assert {(a.data["integration"], a.data["fast"]) for a in alerts} == {("time-expense-posting", True), (None, True)}
    pooled = next(a for a in alerts if a.data["integration"] is None)
    assert pooled.data["rates"]["1h"] == pytest.approx(20.0) and pooled.data["rates"]["5m"] == pytest.approx(100.0)
    assert pooled.state == "firing" and pooled.integration is None


def test_the_hour_and_6_hours_alone_do_not_fire(contoso, flow):
    # 1 h: 3 of 10 bad = 30x and 6 h the same, but the last 30 and 5 minutes are clean.
    history(flow, {57, 51, 45}, hours=1)
    assert burn_alerts(contoso) == []


def test_the_last_5_and_30_minutes_alone_do_not_fire(contoso, flow):
    # 5 min: 100x, 30 min: 1 of 5 = 20x; 1 h: 1 of 10 = 10x < 14.4; 6 h: 1 of 60 < 6x.
    history(flow, {3})
    assert burn_alerts(contoso) == []


def test_the_slow_pair_fires_when_6_hours_and_30_minutes_both_burn(contoso, flow):
    # 30 min: 2 of 5 = 40x; 6 h: 6 of 60 = 10x; 5 min is clean, so the fast pair does not fire.
    history(flow, {27, 15, 183, 201, 243, 333})
    alerts = burn_alerts(contoso)
    assert alerts and all(a.data["slow"] and not a.data["fast"] for a in alerts)


def test_a_burn_fires_once_per_episode_and_resolves_when_it_stops(contoso, flow):
    history(flow, {3, 9}, hours=1)
    first = burn_alerts(contoso)
    assert len(first) == 2
    assert len(burn_alerts(contoso, NOW + timedelta(minutes=1))) == 2  # no repeat while it holds
    later = NOW + timedelta(hours=7)
    for minutes in range(3, 60, 6):
        f.make_run_at(flow, later - timedelta(minutes=minutes), "succeeded", rollup=False)
    alerts = burn_alerts(contoso, later)
    assert [a.state for a in alerts] == ["resolved", "resolved"]
    assert all(list(a.notices.values_list("kind", flat=True)) == ["fired", "resolved"] for a in alerts)


def test_a_paused_integration_raises_no_burn_of_its_own(contoso, flow, support):
    from alerts import services

    services.pause(flow, support)
    history(flow, {3, 9}, hours=1)
    assert [a.data["integration"] for a in burn_alerts(contoso)] == [None]  # the pooled row still burns


# --- sla.breached -----------------------------------------------------------------------------

# Contoso is in America/Chicago: December 2026 starts at 06:00Z on the 1st.
DEC_1 = datetime(2026, 12, 1, 6, tzinfo=UTC)


def month_of_runs(flow, start, count, failed):
    runs = [
        f.make_run_at(flow, start + timedelta(minutes=10 * n), "failed" if n < failed else "succeeded", rollup=False)
        for n in range(count)
    ]
    runs_changed(flow.tenant_id, [r.pk for r in runs])
    return runs


def breach_alerts(contoso, now):
    budgets.evaluate_tenant(contoso.pk, now)
    return list(Alert.objects.filter(event="sla.breached").order_by("id"))


def test_a_bad_run_in_the_first_hours_of_a_month_is_not_a_breach(contoso, flow):
    month_of_runs(flow, DEC_1, 3, failed=1)  # spent 1, allowed 0.03: missed, but too early to judge
    assert breach_alerts(contoso, DEC_1 + timedelta(hours=2)) == []


def test_a_spent_budget_breaches_once_and_resolves_when_within_it_again(contoso, flow):
    month_of_runs(flow, DEC_1, 200, failed=5)  # allowed 2, spent 5
    now = DEC_1 + timedelta(days=3)
    (alert,) = breach_alerts(contoso, now)
    assert alert.state == "firing" and alert.data["period"] == "2026-12"
    assert alert.data["error_budget"]["spent"] == 5 and alert.data["error_budget"]["allowed"] == pytest.approx(2.0)
    assert "spent its error budget for 2026-12" in alert.summary
    assert len(breach_alerts(contoso, now + timedelta(minutes=1))) == 1

    extra = [f.make_run_at(flow, DEC_1 + timedelta(days=2, minutes=n), "succeeded", rollup=False) for n in range(400)]
    runs_changed(flow.tenant_id, [r.pk for r in extra])  # allowed 6 >= spent 5
    (alert,) = breach_alerts(contoso, now + timedelta(minutes=2))
    assert alert.state == "resolved"


def test_last_months_breach_resolves_when_the_month_is_over(contoso, flow):
    month_of_runs(flow, DEC_1, 200, failed=5)
    breach_alerts(contoso, DEC_1 + timedelta(days=3))
    (alert,) = breach_alerts(contoso, datetime(2027, 1, 1, 7, tzinfo=UTC))
    assert alert.state == "resolved" and Run.objects.count() == 200
