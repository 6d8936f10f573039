"""The counts of exceptions (contract 4.1): occurrences, records, first seen
and last seen, kept by ingest from what each request adds, moves or
rewrites, equal at every step of a history to a recomputation from the
failure rows."""

import datetime as dt
import random

import pytest

from integrations.models import Failure, SyncException
from integrations.retention import purge_tenant
from tests import factories as f

pytestmark = pytest.mark.django_db

BASE = dt.datetime(2026, 11, 20, 8, tzinfo=dt.UTC)


def stamp(at):
    return at.isoformat().replace("+00:00", "Z")


def from_raw_failures(exception, history):
    """(occurrences, records, first_seen, last_seen) from the failure rows
    alone; an exception left without failures keeps the span it had."""
    rows = list(Failure.objects.filter(exception=exception).values_list("entity", "record_id", "occurred_at"))
    if not rows:
        return 0, 0, *history[exception.pk]
    times = [at for _e, _r, at in rows]
    return len(rows), len({(e, r) for e, r, _at in rows}), min(times), max(times)


def assert_counts_match(history):
    for exception in SyncException.objects.all():
        stored = (exception.occurrences, exception.records, exception.first_seen, exception.last_seen)
        assert stored == from_raw_failures(exception, history), exception.pk
        history[exception.pk] = (exception.first_seen, exception.last_seen)


def failure(record_id, code, occurred):
    return f.failure_doc(record_id, error_code=code, occurred_at=stamp(occurred))


def run(run_id, started, failures):
    return f.run_doc(run_id, status="partial", started_at=stamp(started), finished_at=stamp(started), failures=failures)


def test_a_random_history_of_batches_keeps_the_counts_equal_to_the_recomputation(post_batch, contoso):
    """New runs, re-posts that move a failure to another exception or move
    its occurred_at earlier or later, the same record failing in several
    runs, and a retention purge halfway."""
    rnd = random.Random(5)  # noqa: S311 - test data
    records = [f"TE-{n}" for n in range(8)]
    history = {}
    run_ids = []
    for step in range(30):
        started = BASE + dt.timedelta(hours=step * 3)
        batch = []
        for _ in range(rnd.randint(1, 3)):
            if run_ids and rnd.random() < 0.4:
                run_id = rnd.choice(run_ids)  # a re-post, its failures rewritten
            else:
                run_id = f"run-{len(run_ids)}"
                run_ids.append(run_id)
            failures = [
                failure(
                    record,
                    rnd.choice(["ERP-4001", "ERP-4001", "ERP-4002", "ERP-4003"]),
                    started - dt.timedelta(hours=rnd.choice([0, 1, 30, 90])),
                )
                for record in rnd.sample(records, rnd.randint(1, 3))
            ]
            batch.append(run(run_id, started, failures))
        response = post_batch(batch)
        assert response.status_code == 200, response.content
        assert_counts_match(history)
        if step == 15:
            purge_tenant(contoso.pk, BASE + dt.timedelta(hours=30))
            assert_counts_match(history)
    assert SyncException.objects.filter(occurrences__gt=1).exists()


def test_a_repost_moving_the_only_failure_later_moves_first_seen(post_run):
    post_run(run("r1", BASE, [failure("TE-1", "ERP-4001", BASE)]))
    post_run(run("r2", BASE, [failure("TE-2", "ERP-4001", BASE + dt.timedelta(hours=2))]))
    post_run(run("r1", BASE, [failure("TE-1", "ERP-4001", BASE + dt.timedelta(hours=1))]))

    exception = SyncException.objects.get()
    assert exception.first_seen == BASE + dt.timedelta(hours=1)
    assert exception.last_seen == BASE + dt.timedelta(hours=2)
    assert (exception.occurrences, exception.records) == (2, 2)


def test_after_every_failure_was_purged_a_new_one_starts_the_span_again(post_run, contoso):
    post_run(run("old", BASE, [failure("TE-1", "ERP-4001", BASE)]))
    purge_tenant(contoso.pk, BASE + dt.timedelta(days=1))
    exception = SyncException.objects.get()
    assert (exception.occurrences, exception.first_seen) == (0, BASE)  # the span it had

    later = BASE + dt.timedelta(days=3)
    post_run(run("new", later, [failure("TE-2", "ERP-4001", later)]))

    exception.refresh_from_db()
    assert (exception.occurrences, exception.records, exception.first_seen, exception.last_seen) == (
        1,
        1,
        later,
        later,
    )
