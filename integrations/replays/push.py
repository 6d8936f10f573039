"""Pushed replays (contract 3.6): each queued replay of an integration with a
``replay_webhook`` is POSTed, signed, to it; a 2xx dispatches it for the
webhook's lease, anything else is retried after the backoff, and after the
last try the replay fails (``events.replay_failed``). Signing and posting
are ``opsconsole.lib.webhooks``; one delivery id is kept across the retries
of one dispatch."""

import json
import uuid
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from integrations import events
from integrations.models import Delivery, FailureState, Replay, ReplayRecord, ReplayStatus
from integrations.replays.documents import replay_document
from integrations.replays.records import NOT_REMEDIATED, set_failure_state
from opsconsole import audit
from opsconsole.lib import webhooks
from opsconsole.lib.webhooks import delivery_timeout, post_signed

INTERRUPTED = "no outcome: the queue worker stopped during this attempt"


def prepare_push(replay, now):
    """For a webhook integration: a new delivery id, due now, and a task to
    deliver it once the transaction commits (the periodic sweep catches it
    otherwise)."""
    if not replay.integration.replay_webhook_url:
        return
    Replay.objects.filter(pk=replay.pk).update(
        delivery_id=uuid.uuid4(), delivery_attempts=0, next_delivery_at=now, updated_at=now
    )
    replay_id = str(replay.pk)
    transaction.on_commit(lambda: _enqueue_delivery(replay_id))


def _enqueue_delivery(replay_id):
    from django_q.tasks import async_task

    async_task("integrations.tasks.deliver_replay", replay_id, task_name=f"deliver-replay-{replay_id}"[:100])


def push_replay(replay_id, now=None):
    """Deliver one queued replay to its integration's webhook if it is due.

    1. Lock the replay; give up unless it is queued, pushed and due. Count the
       try and move ``next_delivery_at`` past the timeout, so that a worker
       killed during the POST leaves the replay due again soon after.
    2. POST the replay document, signed, outside any transaction.
    3. Record the Delivery; on 2xx the replay is dispatched for the webhook's
       lease; otherwise the next try is set after the backoff delay, or after
       the last one the replay fails and ``replay.failed`` is raised.

    Returns the Delivery, or None when nothing was due."""
    now = now or timezone.now()
    with transaction.atomic():
        replay = (
            Replay.objects.select_for_update(of=("self",))
            .select_related("integration", "tenant", "exception")
            .filter(pk=replay_id)
            .first()
        )
        if replay is None or replay.status != ReplayStatus.QUEUED:
            return None
        integration = replay.integration
        if not integration.replay_webhook_url or replay.next_delivery_at is None or replay.next_delivery_at > now:
            return None
        if replay.delivery_id is None:
            replay.delivery_id = uuid.uuid4()
        replay.delivery_attempts += 1
        replay.next_delivery_at = now + timedelta(seconds=delivery_timeout() + 1)
        replay.updated_at = now
        replay.save(update_fields=["delivery_id", "delivery_attempts", "next_delivery_at", "updated_at"])
        body = json.dumps(replay_document(replay), separators=(",", ":")).encode("utf-8")
        url = integration.replay_webhook_url
        # Written before the POST: a worker stopped during the attempt leaves it visible.
        row = Delivery.objects.create(
            replay=replay,
            delivery_id=replay.delivery_id,
            attempt=replay.delivery_attempts,
            at=now,
            url=url[:2000],
            error=INTERRUPTED,
        )

    outcome = post_signed(
        url, body, secret=integration.replay_webhook_secret, event="replay.requested", delivery_id=row.delivery_id
    )
    return record_delivery(row, outcome)


def due_replay_ids(now=None):
    """Queued replays of pushed integrations whose next try has come."""
    now = now or timezone.now()
    return list(
        Replay.objects.filter(status=ReplayStatus.QUEUED, next_delivery_at__lte=now)
        .exclude(integration__replay_webhook_url="")
        .order_by("next_delivery_at")
        .values_list("pk", flat=True)[:500]
    )


def record_delivery(row, outcome):
    """Store the outcome of one delivery attempt (``row``, a Delivery written
    before the POST) and move the replay on (see push_replay)."""
    now = timezone.now()
    url = row.url
    delivery_id, attempt = row.delivery_id, row.attempt
    with transaction.atomic():
        replay = (
            Replay.objects.select_for_update(of=("self",)).select_related("integration", "tenant").get(pk=row.replay_id)
        )
        row.status_code = outcome.status_code
        row.duration_ms = outcome.duration_ms
        row.error = outcome.error
        row.succeeded = outcome.ok
        row.save(update_fields=["status_code", "duration_ms", "error", "succeeded"])
        # The replay moved on meanwhile (cancelled, result posted, another
        # dispatch): the attempt is kept, the state is left alone.
        if replay.status != ReplayStatus.QUEUED or replay.delivery_id != delivery_id:
            return row
        if outcome.ok:
            lease = replay.integration.replay_webhook_lease_seconds or 3600
            replay.status = ReplayStatus.DISPATCHED
            replay.dispatched_at = now
            replay.lease_expires_at = now + timedelta(seconds=lease)
            replay.dispatched_to = url[:320]
            replay.next_delivery_at = None
            replay.updated_at = now
            replay.save(
                update_fields=[
                    "status",
                    "dispatched_at",
                    "lease_expires_at",
                    "dispatched_to",
                    "next_delivery_at",
                    "updated_at",
                ]
            )
            audit.record(
                audit.SYSTEM,
                "replay.dispatch",
                tenant=replay.tenant,
                obj=replay,
                summary=f"Delivered to the webhook (HTTP {outcome.status_code}); leased for {lease} s",
                data={"delivery": str(delivery_id), "try": attempt, "status_code": outcome.status_code},
            )
            return row
        delays = webhooks.backoff_delays()
        if replay.delivery_attempts <= len(delays):
            delay = delays[replay.delivery_attempts - 1]
            replay.next_delivery_at = now + timedelta(seconds=delay)
            replay.updated_at = now
            replay.save(update_fields=["next_delivery_at", "updated_at"])
            when, rid, n = replay.next_delivery_at, str(replay.pk), replay.delivery_attempts
            transaction.on_commit(lambda: _schedule_retry(rid, n, when))
            return row
        _fail(replay, now, f"Webhook delivery failed after {replay.delivery_attempts} tries: {outcome.error}")
    return row


def _schedule_retry(replay_id, tries, when):
    """A one-off django-q2 schedule for the next try; the periodic sweep
    (tasks.replay_housekeeping) delivers it too if this one is lost."""
    from django_q.models import Schedule

    name = f"replay-{replay_id}-try-{tries + 1}"
    Schedule.objects.get_or_create(
        name=name,
        defaults={
            "func": "integrations.tasks.deliver_replay",
            "args": repr((replay_id,)),
            "schedule_type": Schedule.ONCE,
            "repeats": -1,
            "next_run": when,
        },
    )


def _fail(replay, now, message):
    replay.status = ReplayStatus.FAILED
    replay.finished_at = now
    replay.next_delivery_at = None
    replay.lease_expires_at = None
    replay.updated_at = now
    replay.save(update_fields=["status", "finished_at", "next_delivery_at", "lease_expires_at", "updated_at"])
    keys = list(replay.records.values_list("entity", "record_id"))
    replay.records.update(state=ReplayRecord.State.FAILED, result_message=message[:2000])
    set_failure_state(replay.exception_id, keys, FailureState.REPLAY_FAILED, only_states=NOT_REMEDIATED)
    audit.record(audit.SYSTEM, "replay.fail", tenant=replay.tenant, obj=replay, summary=message[:1000])
    events.replay_failed(replay, message)
