"""Sending one alert delivery to its channel, with retries (contract section 6).

Webhook, Slack and Teams channels get a signed JSON POST (contract 3.6: the
same headers as pushed replays, ``X-Opsconsole-Event`` naming the event, one
``X-Opsconsole-Delivery`` id across retries); e-mail channels get a branded
message. A failed try is retried after the delays of
``OPSCONSOLE_DELIVERY_BACKOFF`` by the minute sweep; after the last one the
delivery is failed. Receivers de-duplicate by delivery id: a worker killed
during a send leaves the try due again (at least once)."""

import json
import time
from dataclasses import dataclass
from datetime import timedelta

from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from alerts import messages
from alerts.models import AlertDelivery, ChannelState, DeliveryAttempt, DeliveryState
from opsconsole.lib.webhooks import ERROR_LIMIT, backoff_delays, delivery_timeout, post_signed
from sla.models import AlertChannel

INTERRUPTED = "no outcome: the queue worker stopped during this attempt"
# Consecutive failed tries after which a channel is shown as failing (a
# refusal of its address marks it at once).
FAILING_AFTER = 3
# How long an e-mail try may take before the sweep may try again.
EMAIL_SECONDS = 60


@dataclass
class Outcome:
    ok: bool
    status_code: int | None
    duration_ms: int
    error: str = ""


def send(delivery_pk, now=None):
    """Try one pending delivery if it is due.

    1. Lock it; give up unless pending and due. Count the try, write it (as
       interrupted until told otherwise) and move the next try past the
       send's timeout, so a worker killed mid-send leaves it due again.
    2. Send outside any transaction.
    3. Record the outcome: delivered, or the next try after the backoff, or
       failed after the last; keep the channel's state.

    Returns the DeliveryAttempt, or None when nothing was due."""
    now = now or timezone.now()
    with transaction.atomic():
        delivery = (
            AlertDelivery.objects.select_for_update(of=("self",))
            .select_related("notice__alert__tenant__partner", "notice__alert__integration", "channel")
            .filter(pk=delivery_pk)
            .first()
        )
        if delivery is None or delivery.state != DeliveryState.PENDING:
            return None
        if delivery.next_attempt_at is None or delivery.next_attempt_at > now:
            return None
        delivery.attempts += 1
        wait = EMAIL_SECONDS if delivery.channel_kind == AlertChannel.Kind.EMAIL else delivery_timeout() + 1
        delivery.next_attempt_at = now + timedelta(seconds=wait)
        delivery.save(update_fields=["attempts", "next_attempt_at"])
        attempt = DeliveryAttempt.objects.create(
            delivery=delivery, attempt=delivery.attempts, at=now, error=INTERRUPTED
        )
    outcome = _send(delivery)
    _record(delivery, attempt, outcome)
    return attempt


def _send(delivery):
    channel = delivery.channel
    if channel is None:
        return Outcome(False, None, 0, "the channel was removed from the configuration")
    notice = delivery.notice
    if channel.channel == AlertChannel.Kind.EMAIL:
        return _send_email(channel, notice)
    build = {
        AlertChannel.Kind.WEBHOOK: messages.document,
        AlertChannel.Kind.SLACK: messages.slack,
        AlertChannel.Kind.TEAMS: messages.teams,
    }[channel.channel]
    body = json.dumps(build(notice), separators=(",", ":")).encode("utf-8")
    result = post_signed(channel.url, body, secret=channel.secret, event=notice.event, delivery_id=delivery.delivery_id)
    return Outcome(result.ok, result.status_code, result.duration_ms, result.error)


def _send_email(channel, notice):
    started = time.monotonic()
    subject, text, html = messages.email(notice)
    message = EmailMultiAlternatives(
        subject, text, messages.from_address(notice.alert.tenant.partner), list(channel.to or [])
    )
    message.attach_alternative(html, "text/html")
    try:
        message.send(fail_silently=False)
        error, ok = "", True
    except Exception as exc:  # noqa: BLE001 - any mail failure is this try's error
        error, ok = f"sending failed: {type(exc).__name__}: {exc}", False
    return Outcome(ok, None, int((time.monotonic() - started) * 1000), error[:ERROR_LIMIT])


def _record(delivery, attempt, outcome):
    now = timezone.now()
    attempt.status_code = outcome.status_code
    attempt.duration_ms = outcome.duration_ms
    attempt.error = outcome.error
    attempt.succeeded = outcome.ok
    with transaction.atomic():
        attempt.save(update_fields=["status_code", "duration_ms", "error", "succeeded"])
        fields = {"finished_at": now, "next_attempt_at": None}
        if outcome.ok:
            fields["state"] = DeliveryState.DELIVERED
        else:
            delays = backoff_delays()
            if delivery.attempts <= len(delays):
                fields = {"next_attempt_at": now + timedelta(seconds=delays[delivery.attempts - 1])}
            else:
                fields["state"] = DeliveryState.FAILED
        # Only the try that holds the delivery moves it on.
        AlertDelivery.objects.filter(pk=delivery.pk, state=DeliveryState.PENDING, attempts=attempt.attempt).update(
            **fields
        )
        if delivery.channel_id:
            exhausted = fields.get("state") == DeliveryState.FAILED
            _channel_outcome(delivery.channel_id, outcome, now, exhausted)


def _channel_outcome(channel_id, outcome, now, exhausted=False):
    state, _ = ChannelState.objects.get_or_create(channel_id=channel_id)
    if outcome.ok:
        ChannelState.objects.filter(pk=state.pk).update(failing=False, consecutive_failures=0, last_success_at=now)
        return
    ChannelState.objects.filter(pk=state.pk).update(
        consecutive_failures=F("consecutive_failures") + 1, last_error=outcome.error, last_failure_at=now
    )
    state.refresh_from_db(fields=["consecutive_failures"])
    # A refused address, a run of failures or a delivery out of retries.
    if exhausted or outcome.error.startswith("refused:") or state.consecutive_failures >= FAILING_AFTER:
        ChannelState.objects.filter(pk=state.pk).update(failing=True)


def due_ids(now=None, limit=500):
    """Pending deliveries whose next try has come, oldest first."""
    now = now or timezone.now()
    return list(
        AlertDelivery.objects.filter(state=DeliveryState.PENDING, next_attempt_at__lte=now)
        .order_by("next_attempt_at")
        .values_list("pk", flat=True)[:limit]
    )
