"""Pure SLA math, hand-computed cases (no database)."""

from datetime import UTC, datetime, timedelta

import pytest

from sla import compute
from sla.compute import Opening, RunAgg, Skeleton

M = 60.0  # a minute in seconds
H = 3600.0


def test_merge_joins_overlapping_and_touching_windows():
    assert compute.merge([(10, 20), (0, 5), (15, 30), (30, 40), (50, 50)]) == [(0, 5), (10, 40)]


def test_subtract_cuts_overlapping_windows_once():
    # W = [0, 100); windows [10, 30) and [20, 40) overlap: 30 seconds cut, not 40.
    assert compute.subtract([(0, 100)], [(10, 30), (20, 40)]) == [(0, 10), (40, 100)]
    assert compute.length(compute.subtract([(0, 100)], [(10, 30), (20, 40)])) == 70


def test_freshness_threshold_is_inclusive_at_whole_minutes():
    agg = RunAgg()
    for lag in (0, 1800, 1801, 3600, None):
        agg.add_run("succeeded", 1, 0, 0, lag)
    # T = 30 minutes: 0 and exactly 1800 s are good; 1801 s is not.
    assert compute.freshness(agg, 30) == (2, 4)
    assert compute.freshness(agg, 60) == (4, 4)


def test_run_and_record_success_leave_running_runs_out():
    agg = RunAgg()
    agg.add_run("succeeded", 10, 0, 1, None)
    agg.add_run("partial", 7, 3, 0, None)
    agg.add_run("failed", 0, 5, 0, None)
    agg.add_run("running", 99, 99, 0, None)
    assert compute.run_success(agg) == (1, 3)
    assert compute.record_success(agg) == (17, 25)


def test_heartbeat_gaps_make_late_seconds():
    # every 15 + grace 10 = 25 minutes. Heartbeats at 0, 15 m, 60 m; W = [0, 100 m).
    eg = 25 * M
    sk = Skeleton.of([0, 15 * M, 60 * M], eg)
    # Late from 15 + 25 = 40 m until 60 m (20 m), and from 85 m to the end of W (15 m).
    good, total = compute.timeliness(sk, eg, 0, 0, 100 * M)
    assert total == 100 * M
    assert good == 65 * M


def test_gap_exactly_every_plus_grace_is_not_late():
    eg = 25 * M
    sk = Skeleton.of([0, 25 * M, 50 * M], eg)
    assert compute.timeliness(sk, eg, 0, 0, 75 * M) == (75 * M, 75 * M)


def test_first_heartbeat_inside_the_window_starts_the_total():
    eg = 25 * M
    sk = Skeleton.of([30 * M, 45 * M], eg)
    good, total = compute.timeliness(sk, eg, 30 * M, 0, 60 * M)
    assert total == 30 * M
    assert good == 30 * M


def test_no_heartbeat_in_or_before_the_window_is_no_data():
    assert compute.timeliness(Skeleton(), 25 * M, None, 0, H) == (0, 0)
    # The first heartbeat ever comes after W.
    assert compute.timeliness(Skeleton.of([2 * H], 25 * M), 25 * M, 2 * H, 0, H) == (0, 0)


def test_lateness_from_before_the_window_carries_into_it():
    eg = 25 * M
    # Last heartbeat at -1 h; next one at +30 m. Late from -35 m until +30 m.
    sk = Skeleton.of([-H, 30 * M], eg)
    good, total = compute.timeliness(sk, eg, -2 * H, 0, H)
    assert total == H
    # Late 0..30 m inside W, then from 55 m to 60 m.
    assert good == H - 30 * M - 5 * M


def test_replay_runs_are_not_heartbeats():
    # Callers leave replay runs out of the heartbeats (sla.rollups, sla.engine);
    # a run every 15 min with the 20-minute one a replay leaves a 30-minute gap.
    runs = [(0, "schedule"), (15 * M, "schedule"), (20 * M, "replay"), (45 * M, "schedule")]
    beats = [t for t, trigger in runs if trigger != "replay"]
    eg = 25 * M
    good, total = compute.timeliness(Skeleton.of(beats, eg), eg, 0, 0, 60 * M)
    # Late from 40 m to 45 m.
    assert (good, total) == (55 * M, 60 * M)


def test_maintenance_seconds_count_neither_good_nor_total_and_lateness_goes_on_after():
    eg = 25 * M
    # Heartbeat at 0, nothing else; W = [0, 120 m); windows [30, 60) and [50, 70) (overlap).
    sk = Skeleton.of([0], eg)
    excluded = compute.merge([(30 * M, 60 * M), (50 * M, 70 * M)])
    good, total = compute.timeliness(sk, eg, 0, 0, 120 * M, excluded)
    assert total == 80 * M  # 120 minus the 40 minutes of [30, 70)
    # Late from 25 m on: [25, 30) and [70, 120) count: 55 minutes.
    assert good == 80 * M - 55 * M


def test_skeletons_of_days_join_into_the_skeleton_of_the_whole():
    eg = 25 * M
    beats = [0, 10 * M, 50 * M, 60 * M, 100 * M, 110 * M, 200 * M]
    whole = Skeleton.of(beats, eg)
    parts = Skeleton.of(beats[:2], eg).join(Skeleton.of(beats[2:5], eg), eg).join(Skeleton.of(beats[5:], eg), eg)
    assert parts == whole
    assert whole.gaps == [(10 * M, 50 * M), (60 * M, 100 * M), (110 * M, 200 * M)]


def at(hour, minute=0, day=2):
    return datetime(2026, 11, day, hour, minute, tzinfo=UTC)


def plus(minutes):
    return lambda t: t + timedelta(minutes=minutes)


def test_acknowledge_counts_good_bad_and_leaves_waiting_openings_out():
    w = (at(0), at(0, day=3))
    openings = [
        Opening(at(1), acknowledged_at=at(1, 20)),  # good
        Opening(at(2), acknowledged_at=at(3)),  # late: bad
        Opening(at(3), resolved_at=at(3, 10)),  # resolving acknowledges: good
        Opening(at(4), ignored_at=at(4, 30)),  # ignoring acknowledges: good (on the deadline)
        Opening(at(5)),  # waiting, deadline 05:30 passed at now=06:00: bad
        Opening(at(5, 45)),  # waiting, deadline 06:15 not passed: left out
        Opening(at(0, day=1), acknowledged_at=at(0, 1, day=1)),  # before W
    ]
    now = at(6)
    assert compute.response_objective("acknowledge", openings, plus(30), *w, now) == (3, 5)


def test_resolve_leaves_ignored_openings_out():
    w = (at(0), at(0, day=3))
    openings = [
        Opening(at(1), acknowledged_at=at(1, 5), resolved_at=at(2)),  # good within 480 min
        Opening(at(1), ignored_at=at(1, 30)),  # ignored: left out
        Opening(at(2), resolved_at=at(11)),  # 9 h: bad
    ]
    assert compute.response_objective("resolve", openings, plus(480), *w, at(23)) == (1, 2)


def test_reopened_exception_counts_each_opening():
    # Resolved quickly, failed again (a reopening) and left waiting past its deadline.
    w = (at(0), at(0, day=3))
    first = Opening(at(1), acknowledged_at=at(1, 10), resolved_at=at(1, 20))
    again = Opening(at(8))
    assert compute.response_objective("acknowledge", [first, again], plus(30), *w, at(12)) == (1, 2)
    assert compute.response_objective("resolve", [first, again], plus(60), *w, at(12)) == (1, 2)


def test_figures_follow_the_contract_example():
    f = compute.figures(2950, 2988, 99.0)
    assert f["attained"] == pytest.approx(98.7282, abs=1e-4)
    assert f["met"] is False
    assert f["error_budget"]["allowed"] == pytest.approx(29.88)
    assert f["error_budget"]["spent"] == 38
    assert f["error_budget"]["remaining_pct"] == pytest.approx(-27.1754, abs=1e-4)


def test_figures_without_data_are_null():
    f = compute.figures(0, 0, 99.0)
    assert f["attained"] is None and f["met"] is None
    assert f["error_budget"] == {"allowed": 0.0, "spent": 0, "remaining_pct": None}
    # A 100% target has no budget.
    assert compute.figures(5, 5, 100.0)["error_budget"]["remaining_pct"] is None


def test_met_is_exact_at_the_target():
    assert compute.figures(99, 100, 99.0)["met"] is True
    assert compute.figures(989, 1000, 99.0)["met"] is False


def test_burn_rate():
    # 2 bad of 100 with a 99% target burns at 2x.
    assert compute.burn_rate(98, 100, 99.0) == pytest.approx(2.0)
    assert compute.burn_rate(0, 0, 99.0) is None


def test_percentile():
    assert compute.percentile([], 50) is None
    assert compute.percentile([4, 1, 3, 2], 50) == 2.5
    assert compute.percentile(list(range(101)), 95) == 95


def test_compacted_days_give_the_same_timeliness_as_every_heartbeat():
    eg = 25 * M
    day = 24 * H
    beats = [0, 10 * M, 2 * H, 5 * H, 23.9 * H, 24.5 * H, 30 * H, 47 * H, 50 * H, 52 * H]
    windows = compute.merge([(1 * H, 3 * H), (29 * H, 31 * H)])
    whole = compute.timeliness(Skeleton.of(beats, eg), eg, 0, 0, 3 * day, windows)
    days = [Skeleton.of([b for b in beats if k * day <= b < (k + 1) * day], eg).compact(eg, windows) for k in range(3)]
    joined = days[0].join(days[1], eg).join(days[2], eg)
    # Only the gaps across midnights are left to measure.
    assert joined.gaps == [(23.9 * H, 24.5 * H), (47 * H, 50 * H)]
    assert compute.timeliness(joined, eg, 0, 0, 3 * day, windows) == pytest.approx(whole)
