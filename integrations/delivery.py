"""Signed webhook POSTs (contract 3.6) and the push of queued replays.

A delivery is signed over the exact body bytes:
``X-Opsconsole-Signature: sha256=<hex HMAC-SHA256 of "<timestamp>.<body>">``.
One delivery id is kept across the retries of one dispatch."""

import hashlib
import hmac
import json
import socket
import time
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from opsconsole.lib import outbound_urls

# Bytes of an error answer kept in Delivery.error.
ERROR_LIMIT = 500
INTERRUPTED = "no outcome: the queue worker stopped during this attempt"


def sign(secret, timestamp, body):
    """``sha256=<hex>`` over ``b"<timestamp>." + body`` keyed by ``secret``."""
    message = f"{timestamp}.".encode() + body
    return "sha256=" + hmac.new(secret.encode("utf-8"), message, hashlib.sha256).hexdigest()


def backoff_delays():
    """Delays between tries, read at call time from OPSCONSOLE_DELIVERY_BACKOFF
    (a list of seconds, or a comma-separated string)."""
    value = getattr(settings, "OPSCONSOLE_DELIVERY_BACKOFF", [10, 60, 300, 1800, 7200])
    if isinstance(value, str):
        value = [part for part in value.split(",") if part.strip()]
    return [max(0, int(v)) for v in value]


def delivery_timeout():
    return float(getattr(settings, "OPSCONSOLE_DELIVERY_TIMEOUT", 10))


@dataclass
class Outcome:
    status_code: int | None
    duration_ms: int
    error: str = ""

    @property
    def ok(self):
        return self.status_code is not None and 200 <= self.status_code < 300


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    # A redirect is an answer other than 2xx: it is not followed.
    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None


_opener = urllib.request.build_opener(_NoRedirect)


def target_refusal(url):
    """Why ``url`` may not be posted to, or "" when it may: checked again at
    sending time, against the addresses the host resolves to now."""
    return outbound_urls.url_problem(url) or ""


def post_signed(url, body, *, secret, event, delivery_id, timeout=None):
    """POST ``body`` (bytes) with the signature headers; never raises for
    network trouble, returns an Outcome instead."""
    timeout = delivery_timeout() if timeout is None else timeout
    started = time.monotonic()
    refusal = target_refusal(url)
    if refusal:
        return Outcome(None, 0, f"refused: {refusal}")
    timestamp = str(int(time.time()))
    request = urllib.request.Request(  # noqa: S310 - the scheme is checked by target_refusal
        url,
        data=body,
        method="POST",
        headers={
            "Content-Type": "application/json",
            "User-Agent": "replay-delivery/1",
            "X-Opsconsole-Event": event,
            "X-Opsconsole-Delivery": str(delivery_id),
            "X-Opsconsole-Timestamp": timestamp,
            "X-Opsconsole-Signature": sign(secret or "", timestamp, body),
        },
    )
    try:
        with _opener.open(request, timeout=timeout) as response:
            response.read(65536)
            code = response.status
        error = ""
    except urllib.error.HTTPError as exc:
        code = exc.code
        try:
            error = exc.read(ERROR_LIMIT).decode("utf-8", "replace")
        except Exception:  # noqa: BLE001 - the status code is what matters
            error = ""
        error = f"HTTP {code}: {error}".strip()
    except TimeoutError:
        code, error = None, f"no answer within {timeout:g} s"
    except urllib.error.URLError as exc:
        reason = exc.reason
        if isinstance(reason, TimeoutError | socket.timeout):
            code, error = None, f"no answer within {timeout:g} s"
        else:
            code, error = None, f"connection failed: {reason}"
    except (OSError, ValueError) as exc:
        code, error = None, f"connection failed: {exc}"
    duration_ms = int((time.monotonic() - started) * 1000)
    return Outcome(code, duration_ms, error[:ERROR_LIMIT])


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
    from integrations import replays
    from integrations.models import Delivery, Replay, ReplayStatus

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
    from integrations.models import Replay, ReplayStatus

    now = now or timezone.now()
    return list(
        Replay.objects.filter(status=ReplayStatus.QUEUED, next_delivery_at__lte=now)
        .exclude(integration__replay_webhook_url="")
        .order_by("next_delivery_at")
        .values_list("pk", flat=True)[:500]
    )
