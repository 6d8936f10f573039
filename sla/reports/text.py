"""What a report says in words: objective names, the executive summary, the
glossary and the comparison with the previous month. Pure: plain rows of
contract 4.4 in, strings and dicts out (no Django import)."""

from sla.verdict import verdict

LABELS = {
    "run_success": "Run success",
    "record_success": "Record success",
    "freshness": "Freshness",
    "timeliness": "Timeliness",
    "acknowledge": "Acknowledge",
    "resolve": "Resolve",
}


def objective_label(row):
    label = LABELS.get(row["objective"], row["objective"])
    return f"{label} {row['priority']}" if row.get("priority") else label


def pooled_first(rows):
    """The rows with the pooled and tenant-wide ones (integration null) first,
    each group in the engine's order."""
    return [r for r in rows if r["integration"] is None] + [r for r in rows if r["integration"] is not None]


def pct(value, places=2):
    """98.7282 -> "98.73 %"; None -> "no data"."""
    if value is None:
        return "no data"
    return f"{value:.{places}f}\u00a0%"


def target_text(target):
    return f"{target:g}\u00a0%"


def budget_text(row, value):
    """An error-budget amount: hours for timeliness (counted in seconds), else runs or records."""
    if row["objective"] == "timeliness":
        return f"{value / 3600:,.1f} h"
    return f"{value:,.2f}"


def summary(rows, open_exceptions, provisional):
    """One paragraph: how many objectives were met, run success against its
    target, and the exceptions still open at the period's end."""
    judged = [r for r in rows if r["met"] is not None and not (provisional and verdict(r).key == "early")]
    missed = [r for r in judged if r["met"] is False]
    if not rows:
        first = "No SLA objectives apply to this tenant"
    elif not judged and provisional:
        first = "Too early to judge any objective"
    elif not judged:
        first = "No objective had data in this period"
    elif not missed:
        first = f"All {len(judged)} objectives met"
    else:
        names = ", ".join(_row_name(r) for r in missed[:3]) + (" and others" if len(missed) > 3 else "")
        first = f"{len(judged) - len(missed)} of {len(judged)} objectives met; missed: {names}"
    if provisional:
        first += " so far"
    parts = [first]
    run = next((r for r in rows if r["objective"] == "run_success" and r["integration"] is None), None)
    if run is not None and run["attained"] is not None:
        parts.append(f"run success {pct(run['attained'])} against {target_text(run['target'])}")
    if open_exceptions == 0:
        parts.append("no exceptions open at the end of the period")
    else:
        noun = "exception" if open_exceptions == 1 else "exceptions"
        parts.append(f"{open_exceptions} {noun} still open at the end of the period")
    return "; ".join(parts) + "."


def _row_name(row):
    name = objective_label(row)
    return f"{name} ({row['integration']})" if row["integration"] else name


GLOSSARY = {
    "run_success": "Share of finished runs (succeeded, partial or failed) that succeeded completely.",
    "record_success": "Share of records that were posted successfully, out of those succeeded or failed, "
    "over the finished runs.",
    "freshness": "Share of finished runs that reported their lag whose lag, from a change in the source "
    "to its posting in the target, was at most {threshold} minutes.",
    "timeliness": "Share of the time, from the first run ever, during which each scheduled integration ran "
    "on time: it counts as late from its interval plus grace after a run until the next run.",
    "acknowledge": "Share of {priority} exceptions opened in the period that were acknowledged (or resolved "
    "or ignored) within {within} business minutes. Those still waiting before their deadline are left out.",
    "resolve": "Share of {priority} exceptions opened in the period that were resolved within {within} "
    "business minutes. Ignored exceptions are left out.",
}
MAINTENANCE_NOTE = "Planned maintenance windows are left out of every objective."


def glossary(rows):
    """[(name, definition)] for each objective identity the rows carry, in
    their order, with the tenant-level threshold and deadline filled in."""
    seen, out = set(), []
    for r in pooled_first(rows):
        identity = (r["objective"], r["priority"])
        if identity in seen:
            continue
        seen.add(identity)
        text = GLOSSARY.get(r["objective"], "")
        out.append(
            (
                objective_label(r),
                text.format(
                    threshold=r["threshold_minutes"] if r["threshold_minutes"] is not None else "the set",
                    priority=r["priority"] or "",
                    within=r["within_business_minutes"] if r["within_business_minutes"] is not None else "the set",
                ),
            )
        )
    return out


def comparison(rows, previous_rows):
    """Pooled and tenant-wide rows beside the same identity last month:
    [{"name", "target", "now", "before", "delta", "arrow", "better"}].
    ``arrow`` is ▲ (up), ▼ (down), ▶ (unchanged) or – (no figure to compare)."""
    before = {(r["objective"], r["priority"]): r for r in previous_rows if r["integration"] is None}
    out = []
    for r in rows:
        if r["integration"] is not None:
            continue
        prev = before.get((r["objective"], r["priority"]))
        now_v = r["attained"]
        before_v = prev["attained"] if prev else None
        if now_v is None or before_v is None:
            arrow, delta, better = "–", None, None
        else:
            delta = now_v - before_v
            if abs(delta) < 0.005:
                arrow, better = "▶", None
            else:
                arrow, better = ("▲", True) if delta > 0 else ("▼", False)
        out.append(
            {
                "name": objective_label(r),
                "target": r["target"],
                "now": now_v,
                "before": before_v,
                "delta": delta,
                "arrow": arrow,
                "better": better,
                "arrow_word": {"▲": "up", "▼": "down", "▶": "unchanged"}.get(arrow, "no comparison"),
            }
        )
    return out


def counts_text(row):
    """Good / total as a person reads them: timeliness in hours."""
    if row["objective"] == "timeliness":
        return f"{row['good'] / 3600:,.1f} h of {row['total'] / 3600:,.1f} h on time"
    return f"{row['good']:,.0f} / {row['total']:,.0f}"


def minutes_text(value):
    """Business minutes as "42 min" or "3 h 05 min"; None -> "–"."""
    if value is None:
        return "–"
    minutes = round(value)
    if minutes < 60:
        return f"{minutes} min"
    return f"{minutes // 60} h {minutes % 60:02d} min"


def scope_label(row):
    if row["integration"]:
        return row["integration"]
    if row["objective"] in ("acknowledge", "resolve"):
        return "Tenant-wide"
    return "All integrations"


def present(figures):
    """The figures with what a reader sees beside each number (labels,
    counts in words, budget), for the page, the PDF and the e-mail alike."""
    rows = []
    for r in figures["rows"]:
        budget = r["error_budget"]
        row = dict(
            r,
            label=objective_label(r),
            scope=scope_label(r),
            pooled=r["integration"] is None,
            target_text=target_text(r["target"]),
            attained_text=pct(r["attained"], 4) if r["attained"] is not None else "no data",
            counts=counts_text(r),
            allowed_text=budget_text(r, budget["allowed"]),
            spent_text=budget_text(r, budget["spent"]),
        )
        if figures.get("provisional") and verdict(r).key == "early":
            # The open month before an objective's allowed budget reaches one
            # event: no verdict and no budget figure yet (sla/verdict.py).
            row.update(status="early", status_text="Too early to judge", remaining_text="–", overspent=False)
        else:
            remaining = budget["remaining_pct"]
            row.update(
                status=("met" if r["met"] else "missed") if r["met"] is not None else "nodata",
                status_text={True: "Met", False: "Missed", None: "No data"}[r["met"]],
                remaining_text="–" if remaining is None else f"{remaining:.1f}\u00a0%",
                overspent=remaining is not None and remaining < 0,
            )
        rows.append(row)
    response = [
        dict(
            r,
            median_text=minutes_text(r["median"]),
            p95_text=minutes_text(r["p95"]),
            attained_text=pct(r["attained"]),
        )
        for r in figures["response"]
    ]
    comparison = [
        dict(
            c,
            now_text=pct(c["now"]),
            before_text=pct(c["before"]),
            delta_text="–" if c["delta"] is None else f"{c['delta']:+.2f} pts",
        )
        for c in figures["previous"]["comparison"]
    ]
    met = sum(1 for r in rows if r["met"] is True and r["status"] != "early")
    missed = sum(1 for r in rows if r["met"] is False and r["status"] != "early")
    totals = figures["totals"]
    classes = sorted(totals.get("by_error_class", {}).items(), key=lambda kv: (-kv[1], kv[0]))
    return dict(
        figures,
        rows=rows,
        response=response,
        comparison=comparison,
        met_count=met,
        missed_count=missed,
        failure_classes=classes,
        downtime_hours=figures["downtime"]["minutes"] / 60.0,
    )
