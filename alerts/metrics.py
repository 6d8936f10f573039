"""Prometheus lines of the alerts for ``GET /metrics`` (contract 7), read from
the database so every web process reports the same totals."""

from django.db.models import Count

from alerts.models import AlertDelivery, ChannelState, DeliveryAttempt, DeliveryState, Event, Notice, NoticeKind
from sla.models import AlertChannel

LISTED = [e for e in Event.values if e != Event.TEST]


def _family(name, kind, help_text, label, counts, keys):
    lines = [f"# HELP {name} {help_text}", f"# TYPE {name} {kind}"]
    lines += [f'{name}{{{label}="{key}"}} {counts.get(key, 0)}' for key in keys]
    return lines


def lines():
    fired = dict(
        Notice.objects.filter(kind=NoticeKind.FIRED)
        .exclude(event=Event.TEST)
        .values_list("event")
        .annotate(n=Count("id"))
        .values_list("event", "n")
    )
    failed = dict(
        AlertDelivery.objects.filter(state=DeliveryState.FAILED)
        .values_list("channel_kind")
        .annotate(n=Count("id"))
        .values_list("channel_kind", "n")
    )
    failed_tries = dict(
        DeliveryAttempt.objects.filter(succeeded=False)
        .values_list("delivery__channel_kind")
        .annotate(n=Count("id"))
        .values_list("delivery__channel_kind", "n")
    )
    kinds = AlertChannel.Kind.values
    out = _family(
        "opsconsole_alerts_fired_total", "counter", "Alert episodes raised, by event.", "event", fired, LISTED
    )
    out += _family(
        "opsconsole_alert_deliveries_failed_total",
        "counter",
        "Alert deliveries given up after their last retry, by channel.",
        "channel",
        failed,
        kinds,
    )
    out += _family(
        "opsconsole_alert_delivery_attempts_failed_total",
        "counter",
        "Failed alert delivery attempts (each retry counts), by channel.",
        "channel",
        failed_tries,
        kinds,
    )
    out += [
        "# HELP opsconsole_alert_channels_failing Alert channels marked failing.",
        "# TYPE opsconsole_alert_channels_failing gauge",
        f"opsconsole_alert_channels_failing {ChannelState.objects.filter(failing=True).count()}",
    ]
    return out
