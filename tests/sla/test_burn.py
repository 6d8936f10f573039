"""Burn rates over 1 h / 5 min and 6 h / 30 min (contract section 6)."""

from datetime import timedelta

import pytest

from sla.burn import burn_rates
from tests import factories as f
from tests.sla.conftest import utc

NOW = utc(2026, 11, 20, 12)


def test_failures_in_the_last_hour_burn_the_run_success_budget(daily, contoso):
    # Six runs 10 minutes apart in the last hour, the last two failed; one older
    # failed run five hours ago counts only in the 6-hour span.
    for i in range(6):
        status = "failed" if i >= 4 else "succeeded"
        f.make_run_at(daily, NOW - timedelta(minutes=55 - 10 * i), status)
    f.make_run_at(daily, NOW - timedelta(hours=5), "failed")
    burns = {b.key: b for b in burn_rates(contoso, NOW)}
    run = burns[("run_success", "time-expense-posting", None)]
    # 99% target: budget 1%. 1 h: 2 bad of 6 -> 33.3x; 5 min: 1 of 1 -> 100x.
    assert run.rates["1h"] == pytest.approx(100 / 3)
    assert run.rates["5m"] == pytest.approx(100.0)
    assert run.rates["30m"] == pytest.approx((2 / 3) / 0.01)
    assert run.rates["6h"] == pytest.approx((3 / 7) / 0.01)
    assert run.fast and run.slow and run.firing
    # The pooled row burns the same; record_success has no records: no rate.
    assert burns[("run_success", None, None)].rates["1h"] == pytest.approx(100 / 3)
    assert burns[("record_success", None, None)].rates["1h"] is None


def test_a_healthy_integration_does_not_fire(daily, contoso):
    for i in range(36):
        f.make_run_at(daily, NOW - timedelta(minutes=10 * i + 1), "succeeded")
    burns = {b.key: b for b in burn_rates(contoso, NOW)}
    run = burns[("run_success", "time-expense-posting", None)]
    assert run.rates == {"1h": 0.0, "5m": 0.0, "6h": 0.0, "30m": 0.0}
    assert not run.firing
