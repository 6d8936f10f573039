"""Idempotent re-posts and the constant cost of a request (contract 3.1, 3.2)."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from integrations.ingest.service import ingest_runs
from integrations.models import ExceptionOpening, Failure, FailureState, Run, RunLog, SyncException
from tests import factories as f
from tests.integrations.ingest_support import table_counts

pytestmark = pytest.mark.django_db


def busy_run(run_id, tag, failures=3, logs=5):
    return f.run_doc(
        run_id,
        status="partial",
        records={"succeeded": 10, "failed": failures},
        worker={"name": "w", "password": "x"},
        logs=[
            {"at": f"2026-11-26T10:00:0{i}Z", "level": "info", "message": f"{run_id} step {i}", "context": {"i": i}}
            for i in range(logs)
        ],
        failures=[
            f.failure_doc(f"{run_id}-{i}", error_code=f"{tag}-{i % 2}", payload={"i": i}) for i in range(failures)
        ],
        recovered=[{"entity": "time_entry", "record_id": f"old-{run_id}"}],
    )


def test_reposting_a_batch_changes_nothing_but_the_runs_fields(post_batch):
    runs = [busy_run(f"r{i}", "E") for i in range(20)]
    assert post_batch(runs).json()["accepted"] == 20
    before = table_counts()
    counts = list(SyncException.objects.order_by("pk").values_list("occurrences", "records"))

    response = post_batch(runs)

    assert {r["result"] for r in response.json()["results"]} == {"updated"}
    assert table_counts() == before
    assert list(SyncException.objects.order_by("pk").values_list("occurrences", "records")) == counts
    assert Run.objects.get(run_id="r0").worker == {"name": "w", "password": "[redacted]"}


def test_a_repost_updates_the_run_in_place_and_keeps_failures_not_repeated(post_run):
    post_run(busy_run("r1", "E"))
    changed = busy_run("r1", "E", failures=1, logs=0)
    changed["failures"][0]["message"] = "Updated message 9"
    changed["records"] = {"succeeded": 12, "failed": 1}
    changed["status"] = "failed"

    response = post_run(changed)

    assert response.status_code == 200
    assert response.json()["records"]["succeeded"] == 12
    run = Run.objects.get()
    assert (run.status, run.succeeded) == ("failed", 12)
    assert Failure.objects.count() == 3
    assert Failure.objects.get(record_id="r1-0").message == "Updated message 9"
    assert RunLog.objects.count() == 5
    assert sum(SyncException.objects.values_list("occurrences", flat=True)) == 3


def test_a_repost_keeps_the_state_of_a_remediated_failure(post_run):
    doc = busy_run("r1", "E")
    post_run(doc)
    Failure.objects.filter(record_id="r1-0").update(state=FailureState.REPLAYED)

    post_run(doc)

    assert Failure.objects.get(record_id="r1-0").state == FailureState.REPLAYED


def test_ingest_runs_is_usable_without_http(contoso, integration, frozen_now):
    results = ingest_runs(contoso, [busy_run("seed-1", "S"), {"run_id": "x"}])

    assert [r["result"] for r in results] == ["created", "rejected"]
    assert results[0]["id"] == Run.objects.get().pk
    assert "integration" in results[1]["errors"]
    assert ExceptionOpening.objects.count() == 2


def _queries(tenant, docs):
    with CaptureQueriesContext(connection) as captured:
        results = ingest_runs(tenant, docs)
    assert all(r["result"] in ("created", "updated") for r in results)
    return len(captured.captured_queries)


def test_the_number_of_queries_does_not_grow_with_runs_failures_or_logs(
    contoso, integration, frozen_now, django_assert_max_num_queries
):
    # Earlier failures for the recoveries to find: recovering them resolves
    # one exception in each request.
    ingest_runs(
        contoso,
        [
            f.run_doc(
                "old",
                status="failed",
                failures=[f.failure_doc(f"old-r{i}", error_code="OLD1" if i == 0 else "OLD2") for i in range(51)],
            )
        ],
    )
    one = [busy_run("r0", "A", failures=1, logs=1)]
    many = [busy_run(f"r{i}", "B") for i in range(1, 51)]

    created_one = _queries(contoso, one)
    with django_assert_max_num_queries(created_one):
        ingest_runs(contoso, many)
    # Re-posts take the path that reads existing failures: still constant.
    updated_one = _queries(contoso, one)
    with django_assert_max_num_queries(updated_one):
        ingest_runs(contoso, many)
    # 25 for the ingest itself and 2 more on PostgreSQL (foreign keys checked
    # as the bulk writes end, then deferred again), plus at most 7 for the SLA
    # rollups kept in the same transaction (sla.rollups.runs_changed), plus 3
    # for the money of exceptions a recovery or a re-post changed (read and
    # lock, the records' latest failures, one update: sync_exceptions.money).
    assert max(created_one, updated_one) <= 25 + 2 + 7 + 3
    assert Failure.objects.count() == 51 + 1 + 150
    assert set(SyncException.objects.filter(error_code__startswith="OLD").values_list("status", flat=True)) == {
        "resolved"
    }
