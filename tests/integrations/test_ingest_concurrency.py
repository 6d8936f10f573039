"""Concurrent workers posting into the same exception get exact counts
(contract 3.1: "no count anywhere is increased twice"), with real
connections: one thread, one database connection, one request each."""

import threading

import pytest
from django.conf import settings
from django.db import connection

from integrations.models import ExceptionOpening, Failure, Run, SyncException
from opsconsole.models import AuditEntry
from tests import factories as f

WORKERS = 8

_db = settings.DATABASES["default"]
# The in-memory SQLite test database (shared cache) answers concurrent writers
# with "table is locked" instead of waiting; PostgreSQL and a SQLite file (the
# embedded default: WAL, IMMEDIATE transactions; set OPSCONSOLE_SQLITE_TEST_PATH
# to test on one) run these tests.
pytestmark = [
    pytest.mark.postgres_only,
    pytest.mark.skipif(
        _db["ENGINE"].endswith("sqlite3") and not _db.get("TEST", {}).get("NAME"),
        reason="concurrent writers need PostgreSQL or a SQLite file, not the in-memory test database",
    ),
]


def run_concurrently(ingest_key, docs, path="/api/v1/runs"):
    """POST each of ``docs`` from its own thread, all released at once;
    return the status codes."""
    barrier = threading.Barrier(len(docs))
    codes = [None] * len(docs)
    errors = []

    def post(index, doc):
        try:
            client = f.client_with(ingest_key)
            barrier.wait(timeout=10)
            response = client.post(path, doc, format="json")
            codes[index] = response.status_code
        except Exception as exc:  # noqa: BLE001 - reported by the assertion below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=post, args=(i, doc)) for i, doc in enumerate(docs)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors, errors
    return codes


def failing(run_id, records):
    return f.run_doc(
        run_id,
        status="partial",
        failures=[f.failure_doc(r, error_code="ERP-4001", error_class="validation") for r in records],
    )


@pytest.mark.django_db(transaction=True)
def test_eight_workers_posting_into_one_exception_at_once_get_exact_counts(ingest_key, integration, frozen_now):
    # Each worker's run fails 5 records; records overlap between workers.
    docs = [failing(f"run-{w}", [f"TE-{w + i}" for i in range(5)]) for w in range(WORKERS)]

    codes = run_concurrently(ingest_key, docs)

    assert codes == [201] * WORKERS
    exception = SyncException.objects.get()
    assert exception.occurrences == WORKERS * 5 == Failure.objects.count()
    assert exception.records == len({f"TE-{w + i}" for w in range(WORKERS) for i in range(5)})
    assert ExceptionOpening.objects.filter(exception=exception).count() == 1
    assert AuditEntry.objects.filter(action="exception.opened").count() == 1


@pytest.mark.django_db(transaction=True)
def test_eight_workers_reposting_the_same_run_at_once_count_it_once(ingest_key, integration, frozen_now):
    doc = failing("same-run", ["TE-1", "TE-2", "TE-3"])

    codes = run_concurrently(ingest_key, [doc] * WORKERS)

    assert sorted(codes) == [200] * (WORKERS - 1) + [201]
    assert Run.objects.count() == 1
    exception = SyncException.objects.get()
    assert (exception.occurrences, exception.records) == (3, 3)
    assert ExceptionOpening.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_concurrent_batches_over_many_exceptions_do_not_deadlock(ingest_key, integration, frozen_now):
    # Every batch touches the same 6 exceptions, in a different order.
    codes_used = [f"E{i}" for i in range(6)]
    batches = []
    for w in range(WORKERS):
        order = codes_used[w % 6 :] + codes_used[: w % 6]
        runs = [
            f.run_doc(
                f"b{w}-r{r}",
                status="partial",
                failures=[f.failure_doc(f"R{w}-{r}-{c}", error_code=c) for c in (order if r % 2 else order[::-1])],
            )
            for r in range(10)
        ]
        batches.append({"runs": runs})

    codes = run_concurrently(ingest_key, batches, path="/api/v1/runs/batch")

    assert codes == [200] * WORKERS
    assert SyncException.objects.count() == 6
    for exception in SyncException.objects.all():
        assert exception.occurrences == exception.records == WORKERS * 10
    assert ExceptionOpening.objects.count() == 6


@pytest.mark.django_db(transaction=True)
def test_eight_workers_posting_amounts_into_one_exception_at_once_keep_its_open_amount_exact(
    ingest_key, integration, frozen_now, support
):
    from decimal import Decimal

    from tests.integrations.test_open_amount import from_raw_failures

    # Overlapping records, each worker with its own amounts and times: which
    # failure is a record's latest depends on who posts what, not on who commits first.
    docs = []
    for w in range(WORKERS):
        failures = [
            f.failure_doc(
                f"TE-{w + i}",
                error_code="ERP-4001",
                amount=(w + 1) * 10 + i,
                occurred_at=f"2026-11-26T10:{(w * 7 + i * 13) % 60:02d}:00Z",
            )
            for i in range(5)
        ]
        if w % 3 == 2:
            failures.append(f.failure_doc(f"TE-{w}", error_code="ERP-4001"))  # last wins: no amount
        docs.append(f.run_doc(f"run-{w}", status="partial", failures=failures))

    codes = run_concurrently(ingest_key, docs)

    assert codes == [201] * WORKERS
    exception = SyncException.objects.get()
    assert (exception.open_amount, exception.close_deadline) == from_raw_failures(exception)
    assert exception.open_amount > Decimal(0)
