"""Runs reported through the worker API reach the SLA and the trends: the
rollups are kept inside the ingest transaction (``sla.rollups.runs_changed``)."""

import time_machine

from tests.sla.conftest import utc


def doc(run_id, status, started, finished, succeeded=3, failed=2):
    return {
        "integration": "time-expense-posting",
        "run_id": run_id,
        "status": status,
        "started_at": started,
        "finished_at": finished,
        "records": {"succeeded": succeeded, "failed": failed},
        "lag_seconds": 60,
    }


def pooled(client, objective):
    rows = client.get("/api/v1/sla?tenant=contoso&period=2026-11").json()["objectives"]
    (row,) = [r for r in rows if r["objective"] == objective and r["integration"] is None]
    return row["good"], row["total"]


@time_machine.travel(utc(2026, 11, 20, 12), tick=False)
def test_posted_runs_reach_the_sla_once_however_often_they_are_posted(daily, worker, as_user, support):
    first = doc("r1", "failed", "2026-11-20T10:00:00Z", "2026-11-20T10:01:00Z")
    assert worker.post("/api/v1/runs", first, format="json").status_code == 201
    assert worker.post("/api/v1/runs", first, format="json").status_code == 200
    batch = {"runs": [doc("r2", "succeeded", "2026-11-20T11:00:00Z", "2026-11-20T11:01:00Z", failed=0), first]}
    assert worker.post("/api/v1/runs/batch", batch, format="json").status_code == 200
    client = as_user(support)
    assert pooled(client, "run_success") == (1, 2)
    assert pooled(client, "record_success") == (6, 8)
    trends = client.get("/api/v1/trends?tenant=contoso&from=2026-11-20&to=2026-11-21").json()
    assert trends["buckets"][0]["runs"] == {"running": 0, "succeeded": 1, "partial": 0, "failed": 1}
    # A run reported as running, then finished, counts once, as finished.
    running = doc("r3", "running", "2026-11-20T11:30:00Z", None)
    del running["finished_at"]
    assert worker.post("/api/v1/runs", running, format="json").status_code == 201
    assert pooled(client, "run_success") == (1, 2)
    done = doc("r3", "succeeded", "2026-11-20T11:30:00Z", "2026-11-20T11:31:00Z", failed=0)
    assert worker.post("/api/v1/runs", done, format="json").status_code == 200
    assert pooled(client, "run_success") == (2, 3)


@time_machine.travel(utc(2026, 11, 20, 12), tick=False)
def test_a_run_reposted_with_another_start_leaves_its_old_hour_and_day(daily, worker, as_user, support):
    from sla.models import RunDay, RunHour

    early = doc("moved", "failed", "2026-11-18T10:00:00Z", "2026-11-18T10:01:00Z")
    assert worker.post("/api/v1/runs", early, format="json").status_code == 201
    late = doc("moved", "succeeded", "2026-11-19T15:00:00Z", "2026-11-19T15:01:00Z", failed=0)
    assert worker.post("/api/v1/runs", late, format="json").status_code == 200
    assert pooled(as_user(support), "run_success") == (1, 1)
    counted = [(h.failed, h.succeeded) for h in RunHour.objects.filter(integration=daily) if h.failed or h.succeeded]
    assert counted == [(0, 1)]
    assert sum(d.failed for d in RunDay.objects.filter(integration=daily)) == 0


@time_machine.travel(utc(2026, 11, 20, 12), tick=False)
def test_one_batch_of_new_moved_and_unchanged_runs_keeps_every_hour_exact(daily, worker, as_user, support):
    from sla.models import RunHour

    first = [
        doc("kept", "failed", "2026-11-18T10:00:00Z", "2026-11-18T10:01:00Z"),
        doc("moved", "failed", "2026-11-18T11:00:00Z", "2026-11-18T11:01:00Z"),
    ]
    assert worker.post("/api/v1/runs/batch", {"runs": first}, format="json").status_code == 200
    second = [
        doc("new", "succeeded", "2026-11-19T09:00:00Z", "2026-11-19T09:01:00Z", failed=0),
        first[0],
        doc("moved", "succeeded", "2026-11-19T15:00:00Z", "2026-11-19T15:01:00Z", failed=0),
    ]

    response = worker.post("/api/v1/runs/batch", {"runs": second}, format="json")

    assert [r["result"] for r in response.json()["results"]] == ["created", "updated", "updated"]
    hours = {
        (h.start.day, h.start.hour): (h.failed, h.succeeded)
        for h in RunHour.objects.filter(integration=daily)
        if h.failed or h.succeeded
    }
    assert hours == {(18, 10): (1, 0), (19, 9): (0, 1), (19, 15): (0, 1)}
    assert pooled(as_user(support), "run_success") == (2, 3)
