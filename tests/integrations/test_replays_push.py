"""Pushed replays (contract 3.6): signed deliveries to a real local webhook,
retries after the backoff, failure and the replay.failed event."""

import json
import time
import uuid
from datetime import timedelta

import pytest
from django.urls import get_resolver
from django.utils import timezone
from django_q.models import Schedule

from integrations import events, tasks
from integrations.models import Delivery, Failure, Replay, ReplayStatus
from integrations.replays import push
from opsconsole.lib import webhooks
from opsconsole.models import AuditEntry
from tests import factories as f
from tests.integrations.webhook_receiver import Receiver

SECRET = "s3cret-\u00e9"


@pytest.fixture(autouse=True)
def fast_delivery(settings):
    settings.OPSCONSOLE_DELIVERY_BACKOFF = [1, 2]
    settings.OPSCONSOLE_DELIVERY_TIMEOUT = 0.5
    settings.OPSCONSOLE_ALLOW_PRIVATE_WEBHOOKS = True


def pushed_integration(contoso, url, **kw):
    return f.make_integration(
        contoso, "time-expense-posting", replay_webhook_url=url, replay_webhook_secret=SECRET, **kw
    )


def request_replay(user, exception, capture):
    with capture(execute=True):
        response = f.client_with(f.make_token(user)).post(
            f"/api/v1/exceptions/{exception.pk}/replay", {"reason": "fixed"}, format="json"
        )
    assert response.status_code == 201, response.content
    return Replay.objects.get(pk=response.json()["id"])


def test_a_queued_replay_is_posted_signed_and_dispatched_on_2xx(
    contoso, support, django_capture_on_commit_callbacks, as_user
):
    with Receiver(SECRET, [202]) as receiver:
        integration = pushed_integration(contoso, receiver.url, replay_webhook_lease_seconds=900)
        exception = f.make_exception_with_records(integration, ["TE-1", "TE-2"])
        before = int(time.time())
        replay = request_replay(support, exception, django_capture_on_commit_callbacks)
        after = int(time.time())

    assert len(receiver.requests) == 1
    sent = receiver.requests[0]
    assert sent["signature_ok"]
    headers = sent["headers"]
    assert headers["x-opsconsole-event"] == "replay.requested"
    assert headers["content-type"] == "application/json"
    assert before <= int(headers["x-opsconsole-timestamp"]) <= after
    doc = json.loads(sent["body"])
    assert doc["id"] == str(replay.pk) and doc["integration"] == "time-expense-posting"
    assert sorted(r["record_id"] for r in doc["records"]) == ["TE-1", "TE-2"]
    assert all(len(r["idempotency_key"]) == 32 for r in doc["records"])

    replay.refresh_from_db()
    assert replay.status == ReplayStatus.DISPATCHED
    assert str(replay.delivery_id) == headers["x-opsconsole-delivery"]
    assert replay.lease_expires_at == replay.dispatched_at + timedelta(seconds=900)
    row = Delivery.objects.get(replay=replay)
    assert row.succeeded and row.status_code == 202 and row.attempt == 1 and row.duration_ms is not None
    assert AuditEntry.objects.filter(action="replay.dispatch", actor="system").count() == 1
    # The worker reports through 3.4 as with pulled replays.
    worker = f.client_with(f.make_key(contoso, ["ingest"]))
    assert worker.post(f"/api/v1/replays/{replay.pk}/result", {"status": "succeeded"}, format="json").status_code == 200
    assert as_user(support).get(f"/api/v1/replays/{replay.pk}").json()["status"] == "succeeded"


def test_a_500_is_retried_after_the_backoff_with_the_same_delivery_id(
    contoso, support, django_capture_on_commit_callbacks, time_machine
):
    time_machine.move_to(timezone.now())
    with Receiver(SECRET, [500, 200]) as receiver:
        integration = pushed_integration(contoso, receiver.url)
        exception = f.make_exception_with_records(integration, ["TE-1"])
        replay = request_replay(support, exception, django_capture_on_commit_callbacks)
        replay.refresh_from_db()
        assert replay.status == ReplayStatus.QUEUED
        assert replay.delivery_attempts == 1
        first_try_at = Delivery.objects.get(replay=replay).at
        assert timedelta(seconds=1) <= replay.next_delivery_at - first_try_at < timedelta(seconds=1.5)
        assert Schedule.objects.filter(
            name=f"replay-{replay.pk}-try-2", func="integrations.tasks.deliver_replay", next_run=replay.next_delivery_at
        ).exists()

        assert tasks.deliver_due_replays() == 0  # not due yet
        time_machine.shift(1.1)
        assert tasks.deliver_due_replays() == 1

    assert [r["headers"]["x-opsconsole-delivery"] for r in receiver.requests] == [str(replay.delivery_id)] * 2
    assert all(r["signature_ok"] for r in receiver.requests)
    replay.refresh_from_db()
    assert replay.status == ReplayStatus.DISPATCHED
    attempts = list(Delivery.objects.filter(replay=replay).values_list("attempt", "status_code", "succeeded"))
    assert attempts == [(1, 500, False), (2, 200, True)]
    assert "HTTP 500" in Delivery.objects.filter(replay=replay).first().error


def test_after_the_last_try_the_replay_fails_and_raises_replay_failed(
    contoso, support, django_capture_on_commit_callbacks, time_machine, monkeypatch
):
    heard = []
    real = events.replay_failed
    monkeypatch.setattr(events, "replay_failed", lambda replay, message: heard.append(replay) or real(replay, message))
    time_machine.move_to(timezone.now())
    with Receiver(SECRET, [503]) as receiver:
        integration = pushed_integration(contoso, receiver.url)
        exception = f.make_exception_with_records(integration, ["TE-1", "TE-2"])
        replay = request_replay(support, exception, django_capture_on_commit_callbacks)
        time_machine.shift(1.1)
        tasks.deliver_due_replays()
        time_machine.shift(1.1)
        assert tasks.deliver_due_replays() == 0  # the second delay is 2 s
        time_machine.shift(1)
        with django_capture_on_commit_callbacks(execute=True):
            assert tasks.deliver_due_replays() == 1
        time_machine.shift(60)
        assert tasks.deliver_due_replays() == 0

    assert len(receiver.requests) == 3  # the first try and the two retries of OPSCONSOLE_DELIVERY_BACKOFF
    replay.refresh_from_db()
    assert replay.status == ReplayStatus.FAILED and replay.finished_at is not None
    assert set(Failure.objects.filter(exception=exception).values_list("state", flat=True)) == {"replay_failed"}
    alert = AuditEntry.objects.get(action="alert.replay.failed")
    assert alert.actor == "system" and alert.data["replay"] == str(replay.pk)
    assert [r.pk for r in heard] == [replay.pk]
    assert alert.data["integration"] == "time-expense-posting"
    # A failed replay takes no result and can be requested again.
    worker = f.client_with(f.make_key(contoso, ["ingest"]))
    assert worker.post(f"/api/v1/replays/{replay.pk}/result", {"status": "succeeded"}, format="json").status_code == 409


def test_no_answer_within_the_timeout_is_retried(contoso, support, django_capture_on_commit_callbacks):
    # The receiver answers only after 5 s; the console gives up after its 0.5 s
    # timeout, so the request returns long before the answer would have come
    # (a margin wide enough for a loaded machine).
    with Receiver(SECRET, [("sleep", 5.0, 200)]) as receiver:
        integration = pushed_integration(contoso, receiver.url)
        exception = f.make_exception_with_records(integration, ["TE-1"])
        # The first request of a process imports every view; time the delivery, not that.
        get_resolver().url_patterns  # noqa: B018
        started = time.monotonic()
        replay = request_replay(support, exception, django_capture_on_commit_callbacks)
        elapsed = time.monotonic() - started
    assert elapsed < 4.0
    row = Delivery.objects.get(replay=replay)
    assert row.duration_ms < 4000
    assert row.status_code is None and not row.succeeded
    assert "no answer within 0.5 s" in row.error
    replay.refresh_from_db()
    assert replay.status == ReplayStatus.QUEUED and replay.next_delivery_at is not None


def test_a_cancelled_replay_is_not_delivered_again(
    contoso, support, django_capture_on_commit_callbacks, time_machine, as_user
):
    time_machine.move_to(timezone.now())
    with Receiver(SECRET, [500]) as receiver:
        integration = pushed_integration(contoso, receiver.url)
        exception = f.make_exception_with_records(integration, ["TE-1"])
        replay = request_replay(support, exception, django_capture_on_commit_callbacks)
        assert as_user(support).post(f"/api/v1/replays/{replay.pk}/cancel").status_code == 200
        time_machine.shift(5)
        assert tasks.deliver_due_replays() == 0
        assert tasks.deliver_replay(str(replay.pk)) is None
    assert len(receiver.requests) == 1


def test_an_expired_webhook_lease_is_pushed_again_with_a_new_delivery(
    contoso, support, django_capture_on_commit_callbacks, time_machine
):
    time_machine.move_to(timezone.now())
    with Receiver(SECRET, [200]) as receiver:
        integration = pushed_integration(contoso, receiver.url, replay_webhook_lease_seconds=60)
        exception = f.make_exception_with_records(integration, ["TE-1"])
        replay = request_replay(support, exception, django_capture_on_commit_callbacks)
        first_delivery = Replay.objects.get(pk=replay.pk).delivery_id
        time_machine.shift(61)
        with django_capture_on_commit_callbacks(execute=True):
            tasks.replay_housekeeping()
    replay.refresh_from_db()
    assert replay.status == ReplayStatus.DISPATCHED and replay.attempt == 2
    assert replay.delivery_id != first_delivery
    bodies = [json.loads(r["body"]) for r in receiver.requests]
    assert [b["attempt"] for b in bodies] == [1, 2]
    assert bodies[0]["records"][0]["idempotency_key"] == bodies[1]["records"][0]["idempotency_key"]


def test_private_targets_are_refused_unless_allowed(contoso, support, django_capture_on_commit_callbacks, settings):
    settings.OPSCONSOLE_ALLOW_PRIVATE_WEBHOOKS = False
    with Receiver(SECRET, [200]) as receiver:
        integration = pushed_integration(contoso, receiver.url.replace("http://", "https://"))
        exception = f.make_exception_with_records(integration, ["TE-1"])
        replay = request_replay(support, exception, django_capture_on_commit_callbacks)
    assert receiver.requests == []
    row = Delivery.objects.get(replay=replay)
    assert row.error.startswith("refused:") and "loopback" in row.error


def test_the_signature_covers_timestamp_and_exact_body():
    body = b'{"a": 1}'
    expected = "sha256=" + __import__("hmac").new(b"k", b"1700000000." + body, "sha256").hexdigest()
    assert webhooks.sign("k", "1700000000", body) == expected
    assert webhooks.sign("k", "1700000000", b'{"a":1}') != expected


def test_the_backoff_is_read_at_call_time(settings):
    settings.OPSCONSOLE_DELIVERY_BACKOFF = "5, 7"
    assert webhooks.backoff_delays() == [5, 7]
    settings.OPSCONSOLE_DELIVERY_BACKOFF = [3]
    assert webhooks.backoff_delays() == [3]


def test_an_unknown_replay_is_not_delivered(db):
    assert push.push_replay(uuid.uuid4()) is None


def test_a_replay_needing_approval_is_pushed_only_once_approved(
    contoso, support, manager, django_capture_on_commit_callbacks, as_user
):
    with Receiver(SECRET, [200]) as receiver:
        integration = pushed_integration(contoso, receiver.url, approval_required=True)
        exception = f.make_exception_with_records(integration, ["TE-1"])
        replay = request_replay(support, exception, django_capture_on_commit_callbacks)
        assert receiver.requests == [] and tasks.deliver_due_replays() == 0
        with django_capture_on_commit_callbacks(execute=True):
            response = as_user(manager).post(f"/api/v1/replays/{replay.pk}/approve", {"note": "go"}, format="json")
        assert response.status_code == 200
    assert len(receiver.requests) == 1
    assert json.loads(receiver.requests[0]["body"])["approved_by"] == "max@northwind.example"
    replay.refresh_from_db()
    assert replay.status == ReplayStatus.DISPATCHED
