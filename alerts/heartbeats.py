"""The minute evaluation of scheduled integrations (contract 4.2 and 6).

Each scheduled integration is ``up``, ``late`` (every + grace after its last
heartbeat) or ``down`` (every + twice its grace), the health every page and
the API show (``integrations.overview.health_of``). A change is kept as a
Flip. ``integration.late`` opens an episode, ``integration.down`` is its
second message (or its first, when the evaluation first sees it down), the
next heartbeat resolves it with ``integration.recovered``. A paused
integration, or one inside a maintenance window, raises nothing; its flips are
kept and say why."""

from datetime import UTC

from django.db.models import Max
from django.utils import timezone

from alerts import services
from alerts.models import Alert, Event, Flip, HeartbeatStatus, IntegrationWatch
from integrations.models import Integration, Run, Trigger
from integrations.overview import health_of
from opsconsole.lib.localtime import local_text

RAISING = {HeartbeatStatus.LATE: Event.INTEGRATION_LATE, HeartbeatStatus.DOWN: Event.INTEGRATION_DOWN}


def subject_of(integration_id):
    return f"integration:{integration_id}"


def evaluate(now=None):
    """Evaluate every scheduled integration at ``now``; returns how many changed.

    1. Read the last heartbeat of each (replay runs are not heartbeats).
    2. For each, its health now; a change is a Flip and a write of its watch.
    3. Raise, escalate or resolve its episode.
    4. Stamp every unchanged watch as checked in one UPDATE (a steady minute
       costs a handful of statements, whatever the number of integrations)."""
    now = now or timezone.now()
    integrations = list(Integration.objects.filter(every_minutes__isnull=False).select_related("tenant"))
    ids = [i.pk for i in integrations]
    heartbeats = dict(
        Run.objects.filter(integration_id__in=ids)
        .exclude(trigger=Trigger.REPLAY)
        .values("integration_id")
        .annotate(last=Max("started_at"))
        .values_list("integration_id", "last")
    )
    watches = {w.integration_id: w for w in IntegrationWatch.objects.filter(integration_id__in=ids)}
    firing = {
        a.integration_id: a
        for a in Alert.objects.firing().filter(event__in=[Event.INTEGRATION_LATE, Event.INTEGRATION_DOWN])
    }
    suppressed = services.suppressions(integrations, now)
    flipped, unchanged = 0, []
    for integration in integrations:
        watch = watches.get(integration.pk) or IntegrationWatch(integration=integration)
        last = heartbeats.get(integration.pk)
        alert = firing.pop(integration.pk, None)
        if _evaluate_one(integration, watch, last, alert, suppressed[integration.pk], now):
            flipped += 1
        else:
            unchanged.append(watch.pk)
    IntegrationWatch.objects.filter(pk__in=unchanged).update(checked_at=now)
    for alert in firing.values():  # the integration lost its schedule
        services.resolve(alert, Event.INTEGRATION_RECOVERED, f"{alert.integration.name} no longer has a schedule.")
    return flipped


def _evaluate_one(integration, watch, last, alert, suppressed, now):
    """Returns whether the status changed (then the watch is written here)."""
    status = health_of(integration, last, now)
    changed = status != watch.status or watch.pk is None
    if status != watch.status:
        Flip.objects.create(integration=integration, at=now, old=watch.status, new=status, suppressed=suppressed)
        watch.status, watch.since = status, now
    if changed:
        fields = {"status": watch.status, "since": watch.since, "checked_at": now}
        # A pause may have made the row since it was read: never overwrite its pause.
        IntegrationWatch.objects.update_or_create(integration=integration, defaults=fields)
    _episode(integration, status, last, alert, suppressed, now)
    return changed


def _episode(integration, status, last, alert, suppressed, now):
    """Raise, escalate or resolve the integration's episode for ``status``."""
    if status in RAISING:
        event = RAISING[status]
        summary = _summary(integration, status, last)
        if alert is None and not suppressed:
            services.open_alert(
                integration.tenant,
                event,
                subject_of(integration.pk),
                f"{subject_of(integration.pk)}:{last.timestamp()}",
                summary,
                integration=integration,
                data=_data(integration, status, last),
                now=now,
            )
        elif alert is not None and not suppressed and status == HeartbeatStatus.DOWN:
            if alert.event == Event.INTEGRATION_LATE and alert.escalated_at is None:
                services.escalate(alert, event, summary, now, data=_data(integration, status, last))
    elif status == HeartbeatStatus.UP and alert is not None:
        tz = integration.tenant.tzinfo
        summary = f"{integration.name} ({integration.tenant.name}) recovered: a run started at {_local(last, tz)}."
        services.resolve(alert, Event.INTEGRATION_RECOVERED, summary, now)


def _local(moment, tz):
    return local_text(moment, tz)


def _summary(integration, status, last):
    tz = integration.tenant.tzinfo
    expected = f"every {integration.every_minutes} min, grace {integration.grace_minutes or 0} min"
    return f"{integration.name} ({integration.tenant.name}) is {status}: no run since {_local(last, tz)} ({expected})."


def _data(integration, status, last):
    return {
        "status": status,
        "last_heartbeat": last.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "every_minutes": integration.every_minutes,
        "grace_minutes": integration.grace_minutes or 0,
    }
