"""The writer of alert episodes, their messages and deliveries, and of
integration pauses (contract section 6). Views, tasks and the evaluation call
these; nothing else writes ``Alert``, ``Notice`` or ``AlertDelivery`` rows.

The integrations code raises events through ``integrations.events``, which
calls the ``raise_*`` functions here: they only enqueue a django-q2 task once
the caller's transaction commits, so ingest never waits for an alert."""

import logging

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from alerts.models import (
    PRIORITISED,
    Alert,
    AlertDelivery,
    AlertState,
    Event,
    IntegrationWatch,
    Notice,
    NoticeKind,
    Suppression,
)
from integrations.models import Priority
from opsconsole import audit
from sla.models import AlertChannel, MaintenanceWindow

logger = logging.getLogger(__name__)

PRIORITY_RANK = {p: i for i, p in enumerate(Priority.values)}  # P1 = 0 (most urgent)


class AlertError(Exception):
    """A request the alert rules do not allow (the pages answer 409)."""


# --- events from the integrations code (enqueue only) ----------------------------------------


def _enqueue(task, *args):
    """Run ``alerts.tasks.<task>(*args)`` on the queue after the current
    transaction commits (at once outside one)."""
    from django_q.tasks import async_task

    transaction.on_commit(lambda: async_task(f"alerts.tasks.{task}", *args))


def raise_exceptions(exception_ids):
    """Exceptions opened, regressed or reopened: one task for the lot (ingest
    calls this once per request, whatever the number of exceptions)."""
    ids = sorted({int(pk) for pk in exception_ids})
    if ids:
        _enqueue("exception_alerts", ids)


def raise_replay(event, replay_id):
    """A replay awaits approval, or failed for good."""
    _enqueue("replay_alert", str(event), str(replay_id))


# --- suppression ------------------------------------------------------------------------------


def suppression_for(integration, now=None):
    """Why ``integration`` raises nothing now: paused, or inside one of its
    tenant's maintenance windows (a window naming no integration covers all)."""
    return suppressions([integration], now)[integration.pk]


def suppressions(integrations, now=None):
    """``suppression_for`` of many integrations in two queries: {pk: reason}."""
    now = now or timezone.now()
    pks = [i.pk for i in integrations]
    paused = set(
        IntegrationWatch.objects.filter(integration_id__in=pks, paused_at__isnull=False).values_list(
            "integration_id", flat=True
        )
    )
    windows = MaintenanceWindow.objects.filter(
        tenant_id__in={i.tenant_id for i in integrations}, start__lte=now, end__gt=now
    ).prefetch_related("integrations")
    whole_tenants, named = set(), set()
    for window in windows:
        covered = [i.pk for i in window.integrations.all()]
        if covered:
            named.update(covered)
        else:
            whole_tenants.add(window.tenant_id)
    reasons = {}
    for i in integrations:
        if i.pk in paused:
            reasons[i.pk] = Suppression.PAUSED
        elif i.pk in named or i.tenant_id in whole_tenants:
            reasons[i.pk] = Suppression.MAINTENANCE
        else:
            reasons[i.pk] = Suppression.NONE
    return reasons


def pause(integration, user, paused=True, now=None):
    """Pause or resume ``integration``'s alerts (audited); returns whether anything changed."""
    now = now or timezone.now()
    with transaction.atomic():
        watch, _ = IntegrationWatch.objects.select_for_update().get_or_create(integration=integration)
        if bool(watch.paused_at) == paused:
            return False
        watch.paused_at = now if paused else None
        watch.paused_by = user if paused else None
        watch.save(update_fields=["paused_at", "paused_by"])
        verb = "Paused" if paused else "Resumed"
        audit.record(
            user,
            "integration.pause" if paused else "integration.resume",
            tenant=integration.tenant,
            obj=integration,
            summary=f"{verb} the alerts of {integration.name}",
        )
    return True


# --- episodes ---------------------------------------------------------------------------------


def open_alert(tenant, event, subject, key, summary, *, integration=None, now=None, **fields):
    """Raise one episode and send its first message.

    1. Nothing when the integration is paused or in maintenance.
    2. Nothing when this episode (``key``) was raised before or another
       episode of ``subject`` is firing (the constraints decide under races).
    3. Write the alert, its ``fired`` notice and one delivery per channel
       that takes the event; queue the deliveries after commit.

    Returns the new Alert, or None."""
    now = now or timezone.now()
    if integration is not None and suppression_for(integration, now):
        return None
    try:
        with transaction.atomic():
            if Alert.objects.filter(Q(key=key) | Q(subject=subject, state=AlertState.FIRING)).exists():
                return None
            alert = Alert.objects.create(
                tenant=tenant,
                integration=integration,
                event=event,
                subject=subject,
                key=key,
                opened_at=now,
                summary=summary[:2000],
                **fields,
            )
            _notify(alert, NoticeKind.FIRED, event, summary, now)
    except IntegrityError:
        return None  # raised at the same moment by another task
    return alert


def escalate(alert, event, summary, now=None, data=None):
    """The episode's second message (``integration.late`` became
    ``integration.down``); at most once per episode."""
    now = now or timezone.now()
    with transaction.atomic():
        updated = Alert.objects.filter(pk=alert.pk, state=AlertState.FIRING, escalated_at__isnull=True).update(
            event=event, escalated_at=now, summary=summary[:2000], data=alert.data if data is None else data
        )
        if not updated:
            return False
        alert.refresh_from_db()
        _notify(alert, NoticeKind.ESCALATED, event, summary, now)
    return True


def resolve(alert, event, summary, now=None):
    """The condition cleared: mark the episode resolved and send the
    resolution to the channels that heard of it (and those taking ``event``)."""
    now = now or timezone.now()
    with transaction.atomic():
        updated = Alert.objects.filter(pk=alert.pk, state=AlertState.FIRING).update(
            state=AlertState.RESOLVED, resolved_at=now
        )
        if not updated:
            return False
        alert.refresh_from_db()
        _notify(alert, NoticeKind.RESOLVED, event, summary, now)
    return True


def _notify(alert, kind, event, summary, now):
    notice = Notice.objects.create(alert=alert, kind=kind, event=event, at=now, summary=summary[:2000])
    channels = channels_for(alert, notice)
    rows = [AlertDelivery(notice=notice, channel=c, channel_kind=c.channel, next_attempt_at=now) for c in channels]
    AlertDelivery.objects.bulk_create(rows)
    ids = list(AlertDelivery.objects.filter(notice=notice).values_list("pk", flat=True))
    for pk in ids:
        _enqueue("deliver", pk)
    return notice


def channels_for(alert, notice):
    """The tenant's channels this message goes to: those taking its event
    (at or above their ``min_priority`` for exception events); a resolution
    also goes wherever an earlier message of the episode went."""
    channels = list(AlertChannel.objects.filter(tenant_id=alert.tenant_id).order_by("position"))
    chosen = [c for c in channels if takes(c, notice.event, alert.priority)]
    if notice.kind == NoticeKind.RESOLVED:
        heard = set(
            AlertDelivery.objects.filter(notice__alert=alert, channel__isnull=False).values_list("channel", flat=True)
        )
        chosen += [c for c in channels if c.pk in heard and c not in chosen]
    return chosen


def takes(channel, event, priority=None):
    if channel.events and event not in channel.events:
        return False
    if event in PRIORITISED and channel.min_priority and priority:
        return PRIORITY_RANK.get(priority, 99) <= PRIORITY_RANK.get(channel.min_priority, 99)
    return True


def send_test(channel, user, now=None):
    """A test message to one channel (staff, audited): a resolved alert of
    event ``alert.test`` whose single delivery goes to ``channel`` alone."""
    now = now or timezone.now()
    tenant = channel.tenant
    summary = f"Test alert for {tenant.name}: this channel receives the alerts of section 6."
    with transaction.atomic():
        alert = Alert.objects.create(
            tenant=tenant,
            event=Event.TEST,
            subject=f"test:{channel.pk}:{now.timestamp()}",
            key=f"test:{channel.pk}:{now.timestamp()}",
            state=AlertState.RESOLVED,
            opened_at=now,
            resolved_at=now,
            summary=summary,
            data={"channel": channel.channel, "position": channel.position},
        )
        notice = Notice.objects.create(alert=alert, kind=NoticeKind.FIRED, event=Event.TEST, at=now, summary=summary)
        delivery = AlertDelivery.objects.create(
            notice=notice, channel=channel, channel_kind=channel.channel, next_attempt_at=now
        )
        audit.record(
            user,
            "alert.test",
            tenant=tenant,
            obj=channel,
            summary=f"Sent a test alert to the {channel.channel} channel #{channel.position}",
            data={"delivery": str(delivery.delivery_id)},
        )
        _enqueue("deliver", delivery.pk)
    return delivery
