"""How a customer reads an SLA row of contract 4.4 at a glance, and a day of
an integration's run success. Pure: takes the engine's rows and figures, no
Django import; used by the customer portal."""

from dataclasses import dataclass

# A met objective with less than this share of its error budget left is at risk.
AT_RISK_BELOW_PCT = 25.0
# What one bad "event" is, in the row's units: timeliness counts seconds, and
# one hour late is the smallest lateness the page reports (in hours); the
# other objectives count runs, records or openings, one each.
EVENT_SIZE = {"timeliness": 3600.0}


@dataclass(frozen=True)
class Verdict:
    key: str  # css class suffix: met, at-risk, missed, early, nodata
    label: str
    explanation: str


def verdict(row: dict) -> Verdict:
    """Met, at risk, missed, too early to judge (until the allowed error
    budget reaches one event: a run, a record, an opening, or an hour late
    for timeliness; a 100 % target has none and is judged at once) or no
    data, for one row of ``sla.engine.sla_rows``."""
    total = row["total"] or 0
    budget = row["error_budget"]
    if not total:
        return Verdict("nodata", "No data yet", "Nothing to measure in this period yet.")
    if row["target"] < 100 and budget["allowed"] < EVENT_SIZE.get(row.get("objective"), 1.0):
        return Verdict(
            "early",
            "Too early to judge",
            "Not enough activity yet this period for a single failure to be within the target.",
        )
    if not row["met"]:
        return Verdict("missed", "Missed", "Below its target: the error budget is spent.")
    remaining = budget["remaining_pct"]
    if remaining is not None and remaining < AT_RISK_BELOW_PCT:
        return Verdict("at-risk", "At risk", f"Met, with {remaining:.0f} % of the error budget left.")
    return Verdict("met", "Met", "On target.")


@dataclass(frozen=True)
class Day:
    status: str  # ok, degraded, down, none
    label: str


def day_status(good: int, total: int, target: float | None) -> Day:
    """One bar of the status strip: a day's finished runs, ``good`` of them
    succeeded, against the integration's run-success ``target`` (None: every
    run must succeed)."""
    if not total:
        return Day("none", "No runs")
    met = 100 * good >= target * total if target is not None else good == total
    if met:
        return Day("ok", "Operational")
    if good == 0:
        return Day("down", "Every run failed")
    return Day("degraded", "Below target")
