from sla.compute import figures
from sla.verdict import day_status, verdict


def row(good, total, target):
    return {"good": good, "total": total, "target": target, **figures(good, total, target)}


def test_an_objective_is_too_early_to_judge_until_its_budget_allows_one_event():
    # 99 % of 50 runs allows 0.5 failures: one failure would read as a miss.
    assert verdict(row(49, 50, 99.0)).label == "Too early to judge"
    assert verdict(row(100, 100, 99.0)).label == "Met"


def test_a_spent_budget_is_missed_and_a_nearly_spent_one_at_risk():
    assert verdict(row(97, 100, 98.0)).label == "Missed"
    # 2 allowed, 1.6 spent... in whole runs: 1 of 2 spent is 50 % left (met); 400 runs, 7 of 8 spent is at risk.
    assert verdict(row(99, 100, 98.0)).label == "Met"
    assert verdict(row(393, 400, 98.0)).label == "At risk"


def test_no_data_says_so():
    assert verdict(row(0, 0, 99.0)).label == "No data yet"


def test_a_hundred_percent_target_is_judged_at_once():
    assert verdict(row(10, 10, 100.0)).label == "Met"
    assert verdict(row(9, 10, 100.0)).label == "Missed"


def test_a_day_is_green_when_it_meets_the_target_and_red_when_nothing_succeeded():
    assert day_status(99, 100, 99.0).status == "ok"
    assert day_status(98, 100, 99.0).status == "degraded"
    assert day_status(0, 5, 99.0).status == "down"
    assert day_status(0, 0, 99.0).status == "none"
    assert day_status(4, 5, None).status == "degraded"


def test_timeliness_is_too_early_to_judge_until_its_budget_allows_an_hour_late():
    # Six hours into a month, two of them late: 99.5 % allows 108 seconds.
    six_hours = {**row(4 * 3600, 6 * 3600, 99.5), "objective": "timeliness"}
    assert verdict(six_hours).label == "Too early to judge"
    # 300 hours allow 1.5 hours late: two hours late is a miss.
    month = {**row(298 * 3600, 300 * 3600, 99.5), "objective": "timeliness"}
    assert verdict(month).label == "Missed"
