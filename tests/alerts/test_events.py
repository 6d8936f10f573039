"""What the integrations code reports raises alerts (contract section 6):
exceptions opened or regressed at or above a channel's min_priority, replays
awaiting approval or failed; each once per episode, resolved when it clears."""

import json

import pytest

from alerts import tasks
from alerts.models import Alert, AlertDelivery, Notice
from integrations.models import RoutingRule, SyncException
from tests import factories as f
from tests.alerts.conftest import make_channel


def fail(record_id, code="ERP-4001"):
    return f.failure_doc(record_id, error_code=code, error_class="validation")


def events_heard(receiver):
    return [json.loads(r["body"])["event"] for r in receiver.requests]


def test_a_burst_of_1000_failures_into_one_exception_raises_one_alert(
    contoso, post_run, post_batch, receiver, run_tasks
):
    make_channel(contoso, url=receiver.url, events=["exception.opened"])
    failures = [fail(f"TE-{n}") for n in range(1000)]
    assert run_tasks(post_run, f.run_doc("burst-1", status="partial", failures=failures)).status_code == 201
    # The same run posted again, and a second run of the same failures.
    run_tasks(post_run, f.run_doc("burst-1", status="partial", failures=failures))
    run_tasks(post_batch, [f.run_doc("burst-2", status="partial", failures=failures)])

    exception = SyncException.objects.get()
    alert = Alert.objects.get()
    assert (alert.event, alert.exception_id, alert.state) == ("exception.opened", exception.pk, "firing")
    assert events_heard(receiver) == ["exception.opened"]
    assert AlertDelivery.objects.count() == 1
    body = json.loads(receiver.requests[0]["body"])
    assert body["data"]["exception"] == exception.pk and body["integration"] == "time-expense-posting"


@pytest.mark.parametrize(("priority", "heard"), [("P1", True), ("P2", True), ("P3", False)])
def test_exception_alerts_go_to_channels_at_or_above_their_min_priority(
    contoso, post_run, receiver, run_tasks, priority, heard
):
    RoutingRule.objects.create(tenant=contoso, position=1, match={"error_code": "ERP-4001"}, priority=priority)
    make_channel(contoso, url=receiver.url, events=["exception.opened"], min_priority="P2")
    run_tasks(post_run, f.run_doc("r1", status="partial", failures=[fail("TE-1")]))
    assert Alert.objects.get().priority == priority  # kept and listed either way
    assert events_heard(receiver) == (["exception.opened"] if heard else [])


def test_a_resolved_exception_that_fails_again_regresses_with_a_new_episode(
    contoso, post_run, support, as_user, receiver, run_tasks
):
    make_channel(contoso, url=receiver.url, events=["exception.opened", "exception.regressed"])
    run_tasks(post_run, f.run_doc("r1", status="partial", failures=[fail("TE-1")]))
    exception = SyncException.objects.get()
    response = as_user(support).post(f"/api/v1/exceptions/{exception.pk}/resolve", {"note": "fixed"}, format="json")
    assert response.status_code == 200
    run_tasks(tasks.evaluate)  # the sweep sees the exception resolved
    run_tasks(post_run, f.run_doc("r2", status="partial", failures=[fail("TE-2")]))

    first, second = Alert.objects.order_by("id")
    assert (first.event, first.state) == ("exception.opened", "resolved")
    assert (second.event, second.state) == ("exception.regressed", "firing")
    assert events_heard(receiver) == ["exception.opened", "exception.opened", "exception.regressed"]
    assert [json.loads(r["body"])["state"] for r in receiver.requests] == ["firing", "resolved", "firing"]


def test_a_replay_awaiting_approval_alerts_until_it_is_decided(contoso, support, manager, as_user, receiver, run_tasks):
    make_channel(contoso, url=receiver.url, events=["replay.pending_approval"])
    integration = f.make_integration(contoso, "billing-sync", approval_required=True)
    exception = f.make_exception_with_records(integration, ["TE-1", "TE-2"])
    response = run_tasks(
        as_user(support).post, f"/api/v1/exceptions/{exception.pk}/replay", {"reason": "fixed"}, format="json"
    )
    assert response.status_code == 201
    alert = Alert.objects.get()
    assert (alert.event, str(alert.replay_id), alert.state) == (
        "replay.pending_approval",
        response.json()["id"],
        "firing",
    )
    assert "awaits approval" in alert.summary

    replay_id = response.json()["id"]
    assert (
        as_user(manager).post(f"/api/v1/replays/{replay_id}/approve", {"note": "ok"}, format="json").status_code == 200
    )
    run_tasks(tasks.evaluate)
    alert.refresh_from_db()
    assert alert.state == "resolved"
    assert list(Notice.objects.filter(alert=alert).values_list("kind", flat=True)) == ["fired", "resolved"]
    assert events_heard(receiver) == ["replay.pending_approval", "replay.pending_approval"]


def test_a_replay_that_fails_for_good_raises_replay_failed(contoso, support, as_user, receiver, run_tasks, settings):
    settings.OPSCONSOLE_DELIVERY_BACKOFF = []  # the first failed push is the last
    make_channel(contoso, url=receiver.url, events=["replay.failed"])
    from tests.integrations.webhook_receiver import Receiver

    with Receiver("worker-secret", [503]) as worker:
        integration = f.make_integration(
            contoso, "pushed", replay_webhook_url=worker.url, replay_webhook_secret="worker-secret"
        )
        exception = f.make_exception_with_records(integration, ["TE-1"])
        response = run_tasks(
            as_user(support).post, f"/api/v1/exceptions/{exception.pk}/replay", {"reason": "again"}, format="json"
        )
        assert response.status_code == 201
    alert = Alert.objects.get()
    assert (alert.event, alert.integration_id, alert.exception_id) == ("replay.failed", integration.pk, exception.pk)
    assert events_heard(receiver) == ["replay.failed"]
