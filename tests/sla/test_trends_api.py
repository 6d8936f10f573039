"""GET /api/v1/trends (contract 4.5), in contoso's calendar (America/Chicago)."""

import time_machine

from integrations.models import Failure
from tests import factories as f
from tests.sla.conftest import utc


def fail(run, opening, record_id, error_class, occurred_at):
    return Failure.objects.create(
        run=run,
        tenant=run.tenant,
        integration=run.integration,
        exception=opening.exception,
        entity="time_entry",
        record_id=record_id,
        error_class=error_class,
        message="boom",
        occurred_at=occurred_at,
    )


@time_machine.travel(utc(2026, 11, 12, 18), tick=False)
def test_daily_buckets_count_runs_records_failures_and_exceptions(daily, as_user, support):
    # Nov 9 (Monday) local: 06:00Z is Nov 9 00:00 CST.
    r1 = f.make_run_at(daily, utc(2026, 11, 9, 6), "partial", succeeded=8, failed=2, skipped=1)
    f.make_run_at(daily, utc(2026, 11, 9, 12), "succeeded", succeeded=5)
    f.make_run_at(daily, utc(2026, 11, 10, 5, 59), "failed", failed=3)  # Nov 9 23:59 local
    f.make_run_at(daily, utc(2026, 11, 10, 7), "running")
    o1 = f.make_opening(
        daily, utc(2026, 11, 9, 7), acknowledged_at=utc(2026, 11, 9, 7, 10), resolved_at=utc(2026, 11, 10, 8)
    )
    o2 = f.make_opening(daily, utc(2026, 11, 9, 8), acknowledged_at=utc(2026, 11, 9, 8, 30))
    fail(r1, o1, "TE-1", "validation", utc(2026, 11, 9, 6, 1))
    fail(r1, o1, "TE-2", "validation", utc(2026, 11, 9, 6, 2))
    fail(r1, o2, "TE-3", "auth", utc(2026, 11, 9, 6, 3))

    response = as_user(support).get("/api/v1/trends?tenant=contoso&from=2026-11-09&to=2026-11-20&bucket=day")
    assert response.status_code == 200
    body = response.json()
    assert body["bucket"] == "day"
    # Buckets beginning after now (Nov 12 12:00 local) are left out.
    assert [b["start"] for b in body["buckets"]] == [
        "2026-11-09T00:00:00-06:00",
        "2026-11-10T00:00:00-06:00",
        "2026-11-11T00:00:00-06:00",
        "2026-11-12T00:00:00-06:00",
    ]
    mon, tue = body["buckets"][0], body["buckets"][1]
    assert mon["runs"] == {"running": 0, "succeeded": 1, "partial": 1, "failed": 1}
    assert mon["records"] == {"succeeded": 13, "failed": 5, "skipped": 1}
    assert mon["failures"] == {"total": 3, "by_error_class": {"validation": 2, "auth": 1}}
    assert mon["exceptions"] == {"opened": 2, "resolved": 0, "open_at_end": 2}
    assert mon["acknowledge_minutes"] == {"median": 20.0, "p95": 29.0}
    assert mon["resolve_minutes"] == {"median": 1500.0, "p95": 1500.0}
    assert tue["runs"]["running"] == 1
    assert tue["exceptions"] == {"opened": 0, "resolved": 1, "open_at_end": 1}
    assert tue["acknowledge_minutes"] == {"median": None, "p95": None}


@time_machine.travel(utc(2026, 11, 30, 18), tick=False)
def test_weekly_buckets_start_on_monday(daily, as_user, support):
    f.make_run_at(daily, utc(2026, 11, 7, 12))  # Saturday
    f.make_run_at(daily, utc(2026, 11, 9, 12))  # Monday
    f.make_run_at(daily, utc(2026, 11, 15, 12))  # Sunday
    body = as_user(support).get("/api/v1/trends?tenant=contoso&from=2026-11-05&to=2026-11-17&bucket=week").json()
    spans = [(b["start"][:10], b["end"][:10], b["runs"]["succeeded"]) for b in body["buckets"]]
    assert spans == [("2026-11-05", "2026-11-09", 1), ("2026-11-09", "2026-11-16", 2), ("2026-11-16", "2026-11-17", 0)]
