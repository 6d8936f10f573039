"""GET /api/v1/sla built from runs and exception openings (contract 4.4)."""

from datetime import timedelta

import time_machine

from tests import factories as f
from tests.sla.conftest import november_runs, utc

NOV = "/api/v1/sla?tenant=contoso&period=2026-11"
NOV_SECONDS = 2_595_600  # 30 days and the hour DST gives back


def rows_by_key(body):
    return {(r["objective"], r["integration"], r["priority"]): r for r in body["objectives"]}


def get(client, url):
    response = client.get(url)
    assert response.status_code == 200, response.content
    return response.json()


@time_machine.travel(utc(2026, 12, 10), tick=False)
def test_a_closed_month_has_every_row_hand_computed(november, as_user, support):
    body = get(as_user(support), NOV)
    assert body["tenant"] == "contoso"
    assert body["period"] == {"start": "2026-11-01T00:00:00-05:00", "end": "2026-12-01T00:00:00-06:00"}
    rows = rows_by_key(body)
    assert set(rows) == {
        ("run_success", "time-expense-posting", None),
        ("run_success", "billing-sync", None),
        ("run_success", None, None),
        ("record_success", "time-expense-posting", None),
        ("record_success", "billing-sync", None),
        ("record_success", None, None),
        ("freshness", "time-expense-posting", None),
        ("freshness", "billing-sync", None),
        ("freshness", None, None),
        # billing-sync has no schedule: no timeliness row of its own.
        ("timeliness", "time-expense-posting", None),
        ("timeliness", None, None),
        ("acknowledge", None, "P1"),
        ("resolve", None, "P1"),
    }
    # 29 daily runs (none on Nov 10) and one replay run; Nov 5 partial, Nov 6 failed.
    run = rows[("run_success", "time-expense-posting", None)]
    assert (run["good"], run["total"]) == (28, 30)
    assert run["target"] == 99.0 and run["met"] is False
    assert abs(run["attained"] - 93.3333) < 1e-4
    assert abs(run["error_budget"]["allowed"] - 0.3) < 1e-9
    assert run["error_budget"]["spent"] == 2
    assert abs(run["error_budget"]["remaining_pct"] - (-566.6667)) < 1e-3
    assert (rows[("run_success", None, None)]["good"], rows[("run_success", None, None)]["total"]) == (30, 32)

    rec = rows[("record_success", "time-expense-posting", None)]
    assert (rec["good"], rec["total"]) == (2795, 2855)
    assert (rows[("record_success", None, None)]["good"], rows[("record_success", None, None)]["total"]) == (2815, 2875)

    # Freshness: billing-sync's own 60-minute threshold; the pooled row keeps
    # the plan's target and threshold but adds up each integration's figures.
    fresh = rows[("freshness", "time-expense-posting", None)]
    assert (fresh["good"], fresh["total"], fresh["threshold_minutes"]) == (27, 28, 30)
    own = rows[("freshness", "billing-sync", None)]
    assert (own["good"], own["total"], own["target"], own["threshold_minutes"]) == (2, 2, 99.0, 60)
    pooled = rows[("freshness", None, None)]
    assert (pooled["good"], pooled["total"], pooled["target"], pooled["threshold_minutes"]) == (29, 30, 95.0, 30)

    # Timeliness: late from Nov 10 07:00Z (Nov 9 06:00 + 25 h) to Nov 11 06:00Z.
    tl = rows[("timeliness", "time-expense-posting", None)]
    assert tl["total"] == NOV_SECONDS
    assert tl["good"] == NOV_SECONDS - 23 * 3600
    assert rows[("timeliness", None, None)]["good"] == tl["good"]

    ack = rows[("acknowledge", None, "P1")]
    assert (ack["good"], ack["total"], ack["within_business_minutes"]) == (2, 3, 30)
    res = rows[("resolve", None, "P1")]
    assert (res["good"], res["total"]) == (1, 2)


@time_machine.travel(utc(2026, 11, 15, 12), tick=False)
def test_the_window_ends_now_and_a_future_to_is_allowed(november, as_user, support):
    body = get(as_user(support), "/api/v1/sla?tenant=contoso&from=2026-11-01&to=2026-12-01")
    assert body["period"] == {"start": "2026-11-01T00:00:00-05:00", "end": "2026-12-01T00:00:00-06:00"}
    rows = rows_by_key(body)
    # Nov 1..15 daily runs minus Nov 10, plus the replay; billing-sync's runs start after now.
    run = rows[("run_success", "time-expense-posting", None)]
    assert (run["good"], run["total"]) == (13, 15)
    assert rows[("run_success", "billing-sync", None)]["total"] == 0
    assert rows[("run_success", "billing-sync", None)]["attained"] is None
    assert rows[("run_success", "billing-sync", None)]["met"] is None
    tl = rows[("timeliness", "time-expense-posting", None)]
    assert tl["total"] == 14 * 86400 + 7 * 3600
    assert tl["good"] == tl["total"] - 23 * 3600


@time_machine.travel(utc(2026, 11, 11, 12), tick=False)
def test_waiting_openings_whose_deadline_has_not_passed_are_left_out(daily, as_user, support):
    f.make_opening(daily, utc(2026, 11, 11, 11, 50))  # ack deadline 12:20: left out
    f.make_opening(daily, utc(2026, 11, 11, 11))  # ack deadline 11:30 passed: bad
    rows = rows_by_key(get(as_user(support), NOV))
    assert (rows[("acknowledge", None, "P1")]["good"], rows[("acknowledge", None, "P1")]["total"]) == (0, 1)
    # Resolve deadlines (480 min) have not passed for either.
    assert rows[("resolve", None, "P1")]["total"] == 0


@time_machine.travel(utc(2026, 12, 10), tick=False)
def test_maintenance_windows_added_later_are_cut_out(november, contoso, daily, as_user, support):
    before = rows_by_key(get(as_user(support), NOV))
    # Two overlapping windows for all integrations over Nov 20 00:00-12:00Z:
    # the Nov 20 06:00Z run is left out and is no heartbeat.
    f.make_window(contoso, utc(2026, 11, 20, 0), utc(2026, 11, 20, 8))
    f.make_window(contoso, utc(2026, 11, 20, 4), utc(2026, 11, 20, 12))
    rows = rows_by_key(get(as_user(support), NOV))
    run = rows[("run_success", "time-expense-posting", None)]
    assert (run["good"], run["total"]) == (27, 29)
    tl = rows[("timeliness", "time-expense-posting", None)]
    assert tl["total"] == NOV_SECONDS - 12 * 3600
    # Late from Nov 20 07:00Z (Nov 19 06:00 + 25 h) to Nov 21 06:00Z, less the
    # 5 hours inside the windows; plus the Nov 10 gap.
    assert tl["good"] == tl["total"] - 23 * 3600 - 18 * 3600
    assert before[("timeliness", "time-expense-posting", None)]["total"] == NOV_SECONDS


@time_machine.travel(utc(2026, 12, 10), tick=False)
def test_a_window_for_one_integration_leaves_the_others_alone(november, contoso, billing, as_user, support):
    f.make_window(contoso, utc(2026, 11, 15, 13), utc(2026, 11, 15, 15), integrations=[billing])
    rows = rows_by_key(get(as_user(support), NOV))
    assert rows[("run_success", "billing-sync", None)]["total"] == 0
    assert rows[("run_success", "time-expense-posting", None)]["total"] == 30


@time_machine.travel(utc(2026, 12, 10), tick=False)
def test_reposting_the_same_runs_changes_no_number(november, daily, as_user, support):
    first = get(as_user(support), NOV)
    november_runs(daily)  # the same run ids and values again
    assert get(as_user(support), NOV) == first


@time_machine.travel(utc(2026, 12, 10), tick=False)
def test_a_late_backfill_changes_the_right_numbers(november, daily, as_user, support):
    first = rows_by_key(get(as_user(support), NOV))
    f.make_run_at(daily, utc(2026, 11, 10, 6), "failed", run_id="d-1110", failed=4)
    rows = rows_by_key(get(as_user(support), NOV))
    run = rows[("run_success", "time-expense-posting", None)]
    assert (run["good"], run["total"]) == (28, 31)
    rec = rows[("record_success", "time-expense-posting", None)]
    assert (rec["good"], rec["total"]) == (2795, 2859)
    # The gap is gone: on time all month.
    tl = rows[("timeliness", "time-expense-posting", None)]
    assert tl["good"] == tl["total"] == NOV_SECONDS
    # Freshness did not change: the backfilled run reported no lag.
    assert rows[("freshness", None, None)] == first[("freshness", None, None)]
    # A re-post that moves the run's status updates in place.
    f.make_run_at(daily, utc(2026, 11, 10, 6), "succeeded", run_id="d-1110", succeeded=4)
    run = rows_by_key(get(as_user(support), NOV))[("run_success", "time-expense-posting", None)]
    assert (run["good"], run["total"]) == (29, 31)


@time_machine.travel(utc(2026, 12, 10), tick=False)
def test_two_tenants_in_different_time_zones_have_their_own_months(daily, fabrikam, gold, as_user, support):
    fabrikam.plan = gold
    fabrikam.save(update_fields=["plan"])
    berlin = f.make_integration(fabrikam, "payroll-sync")
    instant = utc(2026, 10, 31, 23, 30)  # Nov 1 00:30 in Berlin, Oct 31 18:30 in Chicago
    f.make_run_at(berlin, instant)
    f.make_run_at(daily, instant)
    client = as_user(support)
    fab = get(client, "/api/v1/sla?tenant=fabrikam&period=2026-11")
    assert fab["period"] == {"start": "2026-11-01T00:00:00+01:00", "end": "2026-12-01T00:00:00+01:00"}
    assert rows_by_key(fab)[("run_success", "payroll-sync", None)]["total"] == 1
    con = rows_by_key(get(client, NOV))
    assert con[("run_success", "time-expense-posting", None)]["total"] == 0
    oct_ = rows_by_key(get(client, "/api/v1/sla?tenant=contoso&period=2026-10"))
    assert oct_[("run_success", "time-expense-posting", None)]["total"] == 1


@time_machine.travel(utc(2026, 12, 10), tick=False)
def test_tenant_objectives_replace_the_plans_and_integration_only_ones_get_no_pooled_row(
    contoso, daily, billing, as_user, support
):
    f.make_objective(contoso, objective="run_success", target=97.5)
    f.make_objective(billing, objective="run_success", target=90.0)
    f.make_objective(billing, objective="freshness", priority=None, target=80.0, threshold_minutes=5)
    body = get(as_user(support), NOV)
    rows = rows_by_key(body)
    assert rows[("run_success", None, None)]["target"] == 97.5
    assert rows[("run_success", "time-expense-posting", None)]["target"] == 97.5
    assert rows[("run_success", "billing-sync", None)]["target"] == 90.0
    assert len([r for r in body["objectives"] if r["objective"] == "run_success"]) == 3


@time_machine.travel(utc(2026, 11, 20, 12, 30), tick=False)
def test_today_so_far_counts_whole_hours_and_the_current_one(contoso, daily, as_user, support):
    # Today (Nov 20 local) began at 06:00Z; runs at 07:00, 09:00, 11:00 and 12:10Z.
    for hour, minute in ((7, 0), (9, 0), (11, 0), (12, 10)):
        f.make_run_at(daily, utc(2026, 11, 20, hour, minute), "failed" if hour == 9 else "succeeded")
    f.make_run_at(daily, utc(2026, 11, 20, 12, 40))  # after now: not yet in W
    url = "/api/v1/sla?tenant=contoso&from=2026-11-20&to=2026-11-21"
    rows = rows_by_key(get(as_user(support), url))
    run = rows[("run_success", "time-expense-posting", None)]
    assert (run["good"], run["total"]) == (3, 4)
    # A window added afterwards over the 09:00Z run leaves it out.
    f.make_window(contoso, utc(2026, 11, 20, 8, 30), utc(2026, 11, 20, 9, 30))
    rows = rows_by_key(get(as_user(support), url))
    run = rows[("run_success", "time-expense-posting", None)]
    assert (run["good"], run["total"]) == (3, 3)
    tl = rows[("timeliness", "time-expense-posting", None)]
    # From the first heartbeat ever (07:00Z) to now, less the hour of the window;
    # every + grace is 25 hours: never late.
    assert tl["total"] == 5.5 * 3600 - 3600
    assert tl["good"] == tl["total"]


@time_machine.travel(utc(2027, 4, 10), tick=False)
def test_a_month_that_springs_forward_is_an_hour_short(daily, as_user, support):
    day = utc(2027, 2, 27, 12)
    while day < utc(2027, 4, 1, 12):
        f.make_run_at(daily, day, run_id=f"m-{day:%m%d}")
        day += timedelta(days=1)
    body = get(as_user(support), "/api/v1/sla?tenant=contoso&period=2027-03")
    assert body["period"] == {"start": "2027-03-01T00:00:00-06:00", "end": "2027-04-01T00:00:00-05:00"}
    tl = rows_by_key(body)[("timeliness", "time-expense-posting", None)]
    assert tl["good"] == tl["total"] == 31 * 86400 - 3600
    assert rows_by_key(body)[("run_success", "time-expense-posting", None)]["total"] == 31


@time_machine.travel(utc(2026, 12, 10), tick=False)
def test_a_repost_that_moves_a_run_to_another_day_leaves_the_old_day(daily, as_user, support):
    from sla.rollups import runs_changed

    run = f.make_run_at(daily, utc(2026, 10, 31, 12), run_id="moving")  # October in Chicago
    old = run.started_at
    run.started_at = utc(2026, 11, 2, 12)
    run.save(update_fields=["started_at"])
    runs_changed(daily.tenant_id, [run.pk], previous=[(daily.pk, old)])
    client = as_user(support)
    octo = rows_by_key(get(client, "/api/v1/sla?tenant=contoso&period=2026-10"))
    nov = rows_by_key(get(client, NOV))
    assert octo[("run_success", "time-expense-posting", None)]["total"] == 0
    assert nov[("run_success", "time-expense-posting", None)]["total"] == 1
