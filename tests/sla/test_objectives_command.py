"""``manage.py sla_objectives TENANT`` says which objective applies where."""

from io import StringIO

import pytest
import time_machine
from django.core.management import CommandError, call_command

from tests import factories as f
from tests.sla.conftest import utc


def run(slug):
    out = StringIO()
    call_command("sla_objectives", slug, stdout=out)
    return out.getvalue()


def section(text, title):
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.strip().startswith(title))
    body = []
    for line in lines[start + 1 :]:
        if not line.startswith("    "):
            break
        body.append(line.strip())
    return body


def test_it_prints_each_objective_and_where_it_came_from(contoso, daily, billing):
    f.make_objective(contoso, objective="run_success", target=97.5)
    f.make_objective(contoso, objective="acknowledge", priority="P2", target=90, within_business_minutes=60)
    text = run("contoso")
    wide = section(text, "tenant-wide")
    assert any(line.startswith("acknowledge P1 target 95%") and line.endswith("from plan") for line in wide)
    assert any(line.startswith("acknowledge P2 target 90%") and line.endswith("from tenant") for line in wide)
    sched = section(text, "integration time-expense-posting")
    assert any(line.startswith("run_success target 97.5%") and line.endswith("from tenant") for line in sched)
    assert any(line.startswith("timeliness") and line.endswith("from plan") for line in sched)
    assert not any(line.startswith("acknowledge") for line in sched)
    billing_lines = section(text, "integration billing-sync")
    assert any(
        line.startswith("freshness target 99% threshold 60 min") and line.endswith("from integration")
        for line in billing_lines
    )
    # No schedule, no timeliness.
    assert not any(line.startswith("timeliness") for line in billing_lines)


def test_an_unknown_tenant_is_an_error(db):
    with pytest.raises(CommandError):
        run("nope")


def test_sla_rebuild_counts_runs_written_outside_the_ingest_path(contoso, daily, as_user, support):
    for day in (2, 3, 4):
        f.make_run_at(daily, utc(2026, 11, day, 12), "failed" if day == 3 else "succeeded", rollup=False)
    url = "/api/v1/sla?tenant=contoso&period=2026-11"

    def run_row():
        with time_machine.travel(utc(2026, 12, 10), tick=False):
            rows = as_user(support).get(url).json()["objectives"]
        (row,) = [r for r in rows if r["objective"] == "run_success" and r["integration"]]
        return row["good"], row["total"]

    assert run_row() == (0, 0)
    call_command("sla_rebuild", "contoso", stdout=StringIO())
    assert run_row() == (2, 3)
    with pytest.raises(CommandError):
        call_command("sla_rebuild")
