"""The month level of the lag histograms (``sla.models.LagMonth``): always
the exact sum of its day rows, whatever moves runs between days and months,
so the freshness figures read through it are the ones the day rows give."""

import time_machine

from integrations.models import Run
from sla import lag_months
from sla.models import LagMonth, RunDay
from tests import factories as f
from tests.sla.conftest import utc


def doc(run_id, started, lag_seconds):
    return {
        "integration": "time-expense-posting",
        "run_id": run_id,
        "status": "succeeded",
        "started_at": started,
        "finished_at": started,
        "records": {"succeeded": 1, "failed": 0},
        "lag_seconds": lag_seconds,
    }


def freshness(client, period):
    rows = client.get(f"/api/v1/sla?tenant=contoso&period={period}").json()["objectives"]
    (row,) = [r for r in rows if r["objective"] == "freshness" and r["integration"] is None]
    return row["good"], row["total"]


def months_match_days(integration):
    """Each month row equals the sum of its day rows, and no month is missing."""
    sums = {}
    for day in RunDay.objects.filter(integration=integration):
        h = sums.setdefault(day.day.replace(day=1), {})
        for k, v in day.lag_hist.items():
            h[k] = h.get(k, 0) + v
    kept = {m.month: m.lag_hist for m in LagMonth.objects.filter(integration=integration)}
    return kept == sums


@time_machine.travel(utc(2026, 11, 20, 12), tick=False)
def test_a_run_reposted_into_another_month_leaves_the_old_month(daily, worker, as_user, support):
    client = as_user(support)
    # Oct 31 10:00Z is October in Chicago; a lag of 40 minutes misses the 30-minute threshold.
    assert worker.post("/api/v1/runs", doc("moved", "2026-10-31T10:00:00Z", 2400), format="json").status_code == 201
    assert freshness(client, "2026-10") == (0, 1)
    assert freshness(client, "2026-11") == (0, 0)
    moved = doc("moved", "2026-11-02T10:00:00Z", 600)
    assert worker.post("/api/v1/runs", moved, format="json").status_code == 200
    assert freshness(client, "2026-10") == (0, 0)
    assert freshness(client, "2026-11") == (1, 1)
    assert LagMonth.objects.get(integration=daily, month="2026-10-01").lag_hist == {}
    assert months_match_days(daily)


@time_machine.travel(utc(2026, 12, 5, 12), tick=False)
def test_a_late_backfill_into_a_closed_month_counts_in_that_month(november, daily, worker, as_user, support):
    client = as_user(support)
    before = freshness(client, "2026-11")
    late = [doc(f"late-{n}", f"2026-11-{n:02d}T18:00:00Z", 60 * n) for n in (11, 12, 29)]
    assert worker.post("/api/v1/runs/batch", {"runs": late}, format="json").status_code == 200
    # 11 and 12 minutes are within 30, 29 minutes too.
    assert freshness(client, "2026-11") == (before[0] + 3, before[1] + 3)
    assert months_match_days(daily)


def test_closed_months_keep_their_lag_months_after_the_purge(november, contoso, daily, billing, as_user, support):
    client = as_user(support)
    with time_machine.travel(utc(2026, 12, 10), tick=False):
        before = freshness(client, "2026-11")
    contoso.retention_days = 30
    contoso.save(update_fields=["retention_days"])
    with time_machine.travel(utc(2027, 2, 1), tick=False):
        Run.objects.filter(started_at__lt=utc(2027, 1, 2)).delete()
        # A new run in another month rewrites that month only.
        f.make_run_at(daily, utc(2027, 1, 20, 6), run_id="jan", lag_seconds=60)
        assert freshness(client, "2026-11") == before
    assert months_match_days(daily)
    assert months_match_days(billing)


def test_a_window_over_part_of_a_month_reads_day_rows_at_its_edges(november, daily, billing):
    from datetime import date

    whole, edges = lag_months.split(date(2026, 10, 15), date(2026, 12, 3))
    assert whole == [date(2026, 11, 1)]
    assert edges == [(date(2026, 10, 15), date(2026, 10, 31)), (date(2026, 12, 1), date(2026, 12, 3))]
    assert lag_months.split(date(2026, 11, 3), date(2026, 11, 30)) == ([], [(date(2026, 11, 3), date(2026, 11, 30))])
    by_days = {}
    for d in RunDay.objects.filter(day__gte=date(2026, 10, 31), day__lte=date(2026, 11, 30)):
        h = by_days.setdefault(d.integration_id, {})
        for k, v in d.lag_hist.items():
            h[int(k)] = h.get(int(k), 0) + v
    got = lag_months.hists_over(date(2026, 10, 31), date(2026, 11, 30), integration_ids=[daily.pk, billing.pk])
    assert got == by_days
    # Rewritten from the day rows, the month rows are the same.
    kept = sorted(LagMonth.objects.values_list("integration_id", "month", "lag_hist"))
    LagMonth.objects.all().delete()
    assert lag_months.rebuild() == len(kept)
    assert sorted(LagMonth.objects.values_list("integration_id", "month", "lag_hist")) == kept
