"""Access functions for alerts and alert channels (contract section 2 and
4.7): staff of the partner see every tenant's, customers and read keys their
own tenants'; anything outside reach is a 404."""

from django.http import Http404

from alerts.models import Alert
from opsconsole.access import tenants_for
from sla.models import AlertChannel


def alerts_for(user):
    return Alert.objects.listed().filter(tenant__in=tenants_for(user))


def get_alert_for_user(user, pk):
    try:
        pk = int(pk)
    except (TypeError, ValueError):
        raise Http404("No such alert.") from None
    alert = (
        alerts_for(user)
        .select_related("tenant", "tenant__partner", "integration", "exception", "replay")
        .filter(pk=pk)
        .first()
        if 0 < pk < 2**63
        else None
    )
    if alert is None:
        raise Http404("No such alert.")
    return alert


def channels_for(user):
    return AlertChannel.objects.filter(tenant__in=tenants_for(user))


def get_channel_for_user(user, pk):
    try:
        pk = int(pk)
    except (TypeError, ValueError):
        raise Http404("No such channel.") from None
    channel = channels_for(user).select_related("tenant").filter(pk=pk).first() if 0 < pk < 2**63 else None
    if channel is None:
        raise Http404("No such channel.")
    return channel
