"""The writers say what happened through ``integrations.events``, by name,
inside their transaction (contract section 6 events start here)."""

import datetime as dt

import pytest
from django.db import connection
from django.utils import timezone

from integrations import events
from integrations.models import ExceptionOpening, Run, SyncException
from tests import factories as f

pytestmark = pytest.mark.django_db

EVENTS = (
    "runs_stored",
    "exceptions_opened",
    "exceptions_regressed",
    "exceptions_reopened",
    "replay_pending_approval",
    "replay_failed",
)


@pytest.fixture
def heard(monkeypatch):
    """Every event call as (name, args, inside a transaction), each still
    passed on to the real function."""
    calls = []
    for name in EVENTS:
        real = getattr(events, name)

        def spy(*args, _name=name, _real=real):
            calls.append((_name, args, connection.in_atomic_block))
            return _real(*args)

        monkeypatch.setattr(events, name, spy)
    return calls


def fail(record_id):
    return f.failure_doc(record_id, error_code="ERP-4001", error_class="validation")


def test_ingest_says_runs_were_stored_and_an_exception_opened_inside_its_transaction(post_run, contoso, heard):
    assert post_run(f.run_doc("r1", failures=[fail("A")])).status_code == 201

    run, exception = Run.objects.get(), SyncException.objects.get()
    assert heard == [
        ("runs_stored", (contoso.pk, [run.pk]), True),
        ("exceptions_opened", (contoso.pk, [exception.pk]), True),
    ]


def test_a_repost_that_opens_nothing_says_only_that_runs_were_stored(post_run, contoso, heard):
    doc = f.run_doc("r1", failures=[fail("A")])
    post_run(doc)
    heard.clear()

    assert post_run(doc).status_code == 200

    assert [name for name, *_ in heard] == ["runs_stored"]


def test_ingest_says_a_resolved_exception_regressed(post_run, contoso, frozen_now, heard):
    post_run(f.run_doc("r1", failures=[fail("A")]))
    exception = SyncException.objects.get()
    now = timezone.now()
    SyncException.objects.filter(pk=exception.pk).update(status="resolved", resolved_at=now, acknowledged_at=now)
    ExceptionOpening.objects.filter(exception=exception).update(resolved_at=now)
    frozen_now.shift(dt.timedelta(minutes=30))
    heard.clear()

    post_run(f.run_doc("r2", failures=[fail("B")]))

    assert [(name, args[1]) for name, args, _ in heard if name != "runs_stored"] == [
        ("exceptions_regressed", [exception.pk])
    ]


def test_ingest_says_an_ignored_exception_past_its_until_reopened(post_run, frozen_now, heard):
    post_run(f.run_doc("r1", failures=[fail("A")]))
    SyncException.objects.update(status="ignored", ignored_until=timezone.now() + dt.timedelta(hours=1))
    ExceptionOpening.objects.update(ignored_at=timezone.now(), acknowledged_at=timezone.now())
    frozen_now.shift(dt.timedelta(hours=2))
    heard.clear()

    post_run(f.run_doc("r2", failures=[fail("B")]))

    assert [(name, args[1]) for name, args, _ in heard if name != "runs_stored"] == [
        ("exceptions_reopened", [SyncException.objects.get().pk])
    ]


def test_a_replay_awaiting_approval_is_said_once_with_its_record_count(contoso, support, as_user, heard):
    integration = f.make_integration(contoso, "invoice-sync", approval_required=True)
    exception = f.make_exception_with_records(integration, ["INV-1", "INV-2"])

    response = as_user(support).post(f"/api/v1/exceptions/{exception.pk}/replay", {}, format="json")

    assert response.status_code == 201
    ((name, (replay, records), atomic),) = heard
    assert (name, str(replay.pk), records, atomic) == ("replay_pending_approval", response.json()["id"], 2, True)
