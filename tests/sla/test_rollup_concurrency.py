"""Two ingest transactions writing runs into the same bucket at once both end
up counted (the rollups are rebuilt under locks, from the raw runs)."""

import threading

import pytest
from django.conf import settings
from django.db import connection, transaction

from integrations.models import Run
from sla.models import RunDay, RunHour
from sla.rollups import runs_changed
from tests.sla.conftest import utc

_db = settings.DATABASES["default"]
pytestmark = [
    pytest.mark.postgres_only,
    pytest.mark.django_db(transaction=True),
    # SQLite's IMMEDIATE transactions serialise writers, so the interleaving
    # this test forces (every run written before any rebuild) cannot happen there.
    pytest.mark.skipif(
        _db["ENGINE"].endswith("sqlite3"),
        reason="SQLite serialises writers; the interleaving under test exists only on PostgreSQL",
    ),
]


def test_concurrent_ingests_into_one_bucket_count_every_run(daily):
    workers = 4
    barrier = threading.Barrier(workers)
    errors = []

    def ingest(n):
        try:
            with transaction.atomic():
                run = Run.objects.create(
                    tenant_id=daily.tenant_id,
                    integration=daily,
                    run_id=f"c-{n}",
                    status="succeeded",
                    started_at=utc(2026, 11, 20, 10, n),
                    finished_at=utc(2026, 11, 20, 10, n, 30),
                    succeeded=10,
                )
                # Every transaction has written its run before any rebuilds.
                barrier.wait(timeout=10)
                runs_changed(daily.tenant_id, [run.pk])
        except Exception as exc:  # noqa: BLE001 - reported by the assertion below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=ingest, args=(n,)) for n in range(workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not errors, errors
    hour = RunHour.objects.get(integration=daily)
    assert (hour.succeeded, hour.rec_succeeded) == (workers, 10 * workers)
    day = RunDay.objects.get(integration=daily)
    assert (day.succeeded, day.rec_succeeded) == (workers, 10 * workers)
