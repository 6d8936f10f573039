"""The push of queued replays to their integration's webhook (contract 3.6).

Signing and posting are ``opsconsole.lib.webhooks``; what an attempt's
outcome does to the replay is ``integrations.replays.record_delivery``.
One delivery id is kept across the retries of one dispatch."""

import json
import uuid
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from integrations import replays
from integrations.models import Delivery, Replay, ReplayStatus
from opsconsole.lib.webhooks import delivery_timeout, post_signed

INTERRUPTED = "no outcome: the queue worker stopped during this attempt"


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
        body = json.dumps(replays.replay_document(replay), separators=(",", ":")).encode("utf-8")
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
    return replays.record_delivery(row, outcome)


def due_replay_ids(now=None):
    """Queued replays of pushed integrations whose next try has come."""
    now = now or timezone.now()
    return list(
        Replay.objects.filter(status=ReplayStatus.QUEUED, next_delivery_at__lte=now)
        .exclude(integration__replay_webhook_url="")
        .order_by("next_delivery_at")
        .values_list("pk", flat=True)[:500]
    )
