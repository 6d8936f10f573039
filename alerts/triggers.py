"""Episodes raised by what the integrations code reports (through
``integrations.events``): exceptions opened or regressed, replays awaiting
approval or failed; and the minute sweep that resolves them once their
condition cleared (the exception resolved or ignored, the replay decided)."""

from django.db.models import Q

from alerts import services
from alerts.models import Alert, Event
from integrations.models import OPEN_STATUSES, ExceptionOpening, Replay, ReplayStatus, SyncException


def exception_alert(exception_id):
    """Raise ``exception.opened`` or ``exception.regressed`` for the latest
    opening of an open exception (once per opening, however often it is
    called); an earlier episode of the same exception still firing is resolved
    first (its opening ended)."""
    exception = SyncException.objects.select_related("tenant", "integration").filter(pk=exception_id).first()
    if exception is None or exception.status not in OPEN_STATUSES:
        return None
    opening = ExceptionOpening.objects.filter(exception=exception).order_by("-opened_at", "-id").first()
    if opening is None:
        return None
    subject, key = f"exception:{exception.pk}", f"exception:{exception.pk}:opening:{opening.pk}"
    for earlier in Alert.objects.firing().filter(subject=subject).exclude(key=key):
        services.resolve(earlier, earlier.event, f"Exception #{exception.pk} was resolved before it reopened.")
    event = Event.EXCEPTION_REGRESSED if opening.regressed else Event.EXCEPTION_OPENED
    verb = "regressed" if opening.regressed else "opened"
    integration = exception.integration
    summary = (
        f"{opening.priority} exception #{exception.pk} {verb} in {integration.name} "
        f"({exception.tenant.name}): {exception.title[:300]}"
    )
    data = {
        "exception": exception.pk,
        "priority": opening.priority,
        "title": exception.title[:500],
        "entity": exception.entity,
        "error_code": exception.error_code,
        "error_class": exception.error_class,
        "regressed": opening.regressed,
    }
    return services.open_alert(
        exception.tenant,
        event,
        subject,
        key,
        summary,
        integration=integration,
        exception=exception,
        priority=opening.priority,
        data=data,
        now=opening.opened_at,
    )


def replay_alert(event, replay_id):
    """Raise ``replay.pending_approval`` or ``replay.failed`` for one replay, once."""
    replay = Replay.objects.select_related("tenant", "integration", "requested_by").filter(pk=replay_id).first()
    if replay is None or event not in (Event.REPLAY_PENDING_APPROVAL, Event.REPLAY_FAILED):
        return None
    count = replay.records.count()
    where = f"{replay.integration.name} ({replay.tenant.name})"
    if event == Event.REPLAY_PENDING_APPROVAL:
        who = replay.requested_by.email if replay.requested_by_id else "staff"
        summary = f"A replay of {count} record(s) of exception #{replay.exception_id} in {where} awaits approval"
        summary += f" (requested by {who})."
    else:
        summary = f"A replay of {count} record(s) of exception #{replay.exception_id} in {where} failed."
    subject = f"replay:{replay.pk}:{event}"
    return services.open_alert(
        replay.tenant,
        event,
        subject,
        subject,
        summary,
        integration=replay.integration,
        exception_id=replay.exception_id,
        replay=replay,
        data={"replay": str(replay.pk), "exception": replay.exception_id, "records": count, "status": replay.status},
    )


def settle(now=None):
    """Resolve firing exception and replay episodes whose condition cleared;
    returns how many."""
    resolved = 0
    exceptions = Alert.objects.firing().filter(event__in=[Event.EXCEPTION_OPENED, Event.EXCEPTION_REGRESSED])
    for alert in exceptions.filter(Q(exception__isnull=True) | ~Q(exception__status__in=OPEN_STATUSES)):
        status = alert.exception.status if alert.exception_id else "deleted"
        resolved += services.resolve(alert, alert.event, f"Exception #{alert.data.get('exception')} is {status}.", now)
    pending = Alert.objects.firing().filter(event=Event.REPLAY_PENDING_APPROVAL)
    for alert in pending.filter(Q(replay__isnull=True) | ~Q(replay__status=ReplayStatus.PENDING_APPROVAL)):
        status = alert.replay.status if alert.replay_id else "deleted"
        resolved += services.resolve(alert, alert.event, f"The replay is no longer awaiting approval ({status}).", now)
    failed = Alert.objects.firing().filter(event=Event.REPLAY_FAILED)
    for alert in failed.filter(Q(exception__isnull=True) | ~Q(exception__status__in=OPEN_STATUSES)):
        summary = f"Exception #{alert.data.get('exception')} of the failed replay is no longer open."
        resolved += services.resolve(alert, alert.event, summary, now)
    return resolved
