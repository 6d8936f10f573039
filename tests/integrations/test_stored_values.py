"""What a worker posts is stored as it was sent, through both write paths of
PostgreSQL's binary COPY (``integrations.ingest.writes``): straight into the
tables for a run the request inserts, and through the staging tables for a
re-post that rewrites it. Timestamps keep their microseconds and instant
whatever the offset, amounts every decimal, text and JSON every character."""

import copy
import datetime as dt
from decimal import Decimal

import pytest

from integrations.models import Failure, Run, RunLog
from tests.integrations.ingest_support import load_fixture

pytestmark = pytest.mark.django_db

UTC = dt.UTC


def document(message, amount, payload, started):
    doc = load_fixture("contract_example__partial")
    doc["started_at"] = started
    doc["finished_at"] = "2026-11-26T10:59:59.999999-00:30"
    doc["worker"] = {"name": "té-poster ☃", "tags": ["a", "b"], "nested": {"n": None, "f": 1.25}}
    doc["logs"] = [
        {
            "at": "2026-11-26T16:00:01.000123+05:30",
            "level": "warning",
            "message": "tab\there «quoted»",
            "context": {"k": [1, 2]},
        },
    ]
    [failure] = doc["failures"]
    failure.update(
        message=message,
        amount=amount,
        payload=payload,
        occurred_at="2026-11-26T10:01:10.654321Z",
        source_changed_at="2026-11-25T23:59:59.000001-10:00",
    )
    return doc


def stored():
    run = Run.objects.get()
    failure = Failure.objects.get()
    log = RunLog.objects.get()
    return run, failure, log


@pytest.mark.parametrize("path", ["inserted", "re-posted"])
def test_values_read_back_as_sent(post_run, path):
    first = document("first \\ message", 1, {"x": 1}, "2026-11-26T10:00:00Z")
    final = document(
        'Project «P-77» is closed: "quoted", back\\slash, new\nline, 日本, 😀',
        987654321.1234,
        {"employee": "É-17", "hours": 7.5, "big": 10**30, "list": [None, True, "s"], "empty": {}},
        "2026-11-26T10:00:00.5+01:00",
    )
    if path == "re-posted":
        assert post_run(copy.deepcopy(first)).status_code == 201
        response = post_run(copy.deepcopy(final))
        assert response.status_code == 200
    else:
        response = post_run(copy.deepcopy(final))
        assert response.status_code == 201

    run, failure, log = stored()
    assert run.started_at == dt.datetime(2026, 11, 26, 9, 0, 0, 500000, tzinfo=UTC)
    assert run.finished_at == dt.datetime(2026, 11, 26, 11, 29, 59, 999999, tzinfo=UTC)
    assert run.worker == final["worker"]
    assert run.processed == 120 and run.lag_seconds == 840
    assert failure.message == final["failures"][0]["message"]
    assert failure.amount == Decimal("987654321.1234")
    assert failure.payload == final["failures"][0]["payload"]
    assert failure.response == {"status": 400, "body": '{"code":"ERP-4001"}'}
    assert failure.occurred_at == dt.datetime(2026, 11, 26, 10, 1, 10, 654321, tzinfo=UTC)
    assert failure.source_changed_at == dt.datetime(2026, 11, 26, 9, 59, 59, 1, tzinfo=UTC)
    assert failure.state == "failed"
    assert log.at == dt.datetime(2026, 11, 26, 10, 30, 1, 123, tzinfo=UTC)
    assert log.message == "tab\there «quoted»"
    assert log.context == {"k": [1, 2]}
