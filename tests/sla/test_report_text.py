"""The words of a report (pure: no database)."""

from sla.reports import csvfile, text


def row(objective="run_success", integration=None, good=95, total=100, target=99.0, met=False, **kw):
    allowed = (100 - target) / 100 * total
    return {
        "objective": objective,
        "integration": integration,
        "priority": kw.get("priority"),
        "target": target,
        "threshold_minutes": kw.get("threshold_minutes"),
        "within_business_minutes": kw.get("within_business_minutes"),
        "good": good,
        "total": total,
        "attained": 100 * good / total if total else None,
        "met": met if total else None,
        "error_budget": {"allowed": allowed, "spent": total - good, "remaining_pct": None},
    }


def test_the_summary_counts_met_objectives_and_names_run_success_and_open_exceptions():
    rows = [row(good=996, total=1000, met=True), row("record_success", good=10, total=10, target=99.5, met=True)]
    assert text.summary(rows, 3, provisional=False) == (
        "All 2 objectives met; run success 99.60\u00a0% against 99\u00a0%; "
        "3 exceptions still open at the end of the period."
    )
    missed = [row(good=90, total=100), row("timeliness", good=0, total=0)]
    assert text.summary(missed, 0, provisional=True).startswith("0 of 1 objectives met; missed: Run success so far")


def test_the_comparison_shows_which_way_each_objective_moved():
    now = [row(good=99, total=100), row("record_success", good=90, total=100), row("freshness", good=5, total=10)]
    before = [row(good=98, total=100), row("record_success", good=95, total=100)]
    arrows = {c["name"]: (c["arrow"], c["better"]) for c in text.comparison(now, before)}
    assert arrows == {"Run success": ("▲", True), "Record success": ("▼", False), "Freshness": ("–", None)}


def test_timeliness_budgets_read_in_hours():
    r = row("timeliness", good=3600 * 700, total=3600 * 720)
    shown = text.present(
        {"rows": [r], "response": [], "previous": {"comparison": []}, "totals": {}, "downtime": {"minutes": 0}}
    )
    assert shown["rows"][0]["allowed_text"] == "7.2 h"
    assert shown["rows"][0]["spent_text"] == "20.0 h"


def test_csv_text_cells_that_a_spreadsheet_would_run_are_neutralised_and_numbers_are_not():
    assert csvfile.cell("=HYPERLINK(1)") == "'=HYPERLINK(1)"
    assert csvfile.cell("+1") == "'+1"
    assert csvfile.cell("@SUM(A1)") == "'@SUM(A1)"
    assert csvfile.cell("-x") == "'-x"
    assert csvfile.cell(-27.18) == "-27.18"
    assert csvfile.cell(None) == "" and csvfile.cell(True) == "true"
