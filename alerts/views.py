"""Alert pages (HTML): alerts across the partner (``/alerts/``), per tenant
with its channels (``/t/<tenant>/alerts/``), one alert with its timeline and
deliveries (``/alerts/<id>/``); staff send a test alert to a channel and
pause an integration's alerts (both audited)."""

from urllib.parse import urlsplit

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from alerts import services
from alerts.access import alerts_for, get_alert_for_user, get_channel_for_user
from alerts.models import AlertDelivery, AlertState, ChannelState, Event, Flip
from integrations.access import get_integration_for_user, require_act
from opsconsole.access import get_tenant_for_user, tenants_for
from opsconsole.roles import Perm, can
from sla.models import AlertChannel

PER_PAGE = 50
EVENTS = [e for e in Event.values if e != Event.TEST]


def _filtered(request, alerts):
    state = request.GET.get("state")
    event = request.GET.get("event")
    if state in AlertState.values:
        alerts = alerts.filter(state=state)
    if event in EVENTS:
        alerts = alerts.filter(event=event)
    return alerts, {"state": state if state in AlertState.values else "", "event": event if event in EVENTS else ""}


def _list_context(request, alerts):
    alerts, chosen = _filtered(request, alerts)
    alerts = alerts.select_related("tenant", "integration").order_by("-opened_at", "-id")
    page = Paginator(alerts, PER_PAGE).get_page(request.GET.get("page"))
    return {"page": page, "chosen": chosen, "events": EVENTS, "states": AlertState.values}


@login_required
def partner_alerts(request):
    context = _list_context(request, alerts_for(request.user))
    context["firing"] = alerts_for(request.user).firing().count()
    context["failing_channels"] = _channel_rows(
        AlertChannel.objects.filter(tenant__in=tenants_for(request.user), state__failing=True)
    )
    return render(request, "alerts/partner.html", context)


@login_required
def tenant_alerts(request, tenant):
    tenant = get_tenant_for_user(request.user, tenant)
    context = _list_context(request, alerts_for(request.user).filter(tenant=tenant))
    context["tenant"] = tenant
    context["channels"] = _channel_rows(AlertChannel.objects.filter(tenant=tenant))
    context["can_test"] = can(request.user, Perm.ACT)
    return render(request, "alerts/tenant.html", context)


def _channel_rows(channels):
    """Channels with their state and a target fit to show: an address's host
    only (incoming-webhook URLs carry their secret in the path)."""
    channels = list(channels.select_related("tenant").order_by("tenant__name", "position"))
    states = {s.channel_id: s for s in ChannelState.objects.filter(channel__in=channels)}
    rows = []
    for c in channels:
        target = ", ".join(c.to or []) if c.channel == AlertChannel.Kind.EMAIL else (urlsplit(c.url).hostname or "")
        rows.append({"channel": c, "state": states.get(c.pk), "target": target})
    return rows


@login_required
def alert_page(request, pk):
    alert = get_alert_for_user(request.user, pk)
    notices = list(alert.notices.all())
    deliveries = list(
        AlertDelivery.objects.filter(notice__alert=alert)
        .select_related("notice", "channel")
        .prefetch_related("tries")
        .order_by("notice__at", "channel_kind", "id")
    )
    flips = []
    if alert.integration_id and alert.event in (Event.INTEGRATION_LATE, Event.INTEGRATION_DOWN):
        until = alert.resolved_at
        flips = Flip.objects.filter(integration_id=alert.integration_id, at__gte=alert.opened_at)
        flips = list((flips.filter(at__lte=until) if until else flips).order_by("at")[:50])
    timeline = [{"at": n.at, "kind": n.kind, "event": n.event, "text": n.summary} for n in notices]
    for f in flips:
        note = f"suppressed: {f.get_suppressed_display()}" if f.suppressed else ""
        timeline.append({"at": f.at, "kind": "flip", "event": f"{f.old} → {f.new}", "text": note})
    timeline.sort(key=lambda row: row["at"])
    context = {"alert": alert, "tenant": alert.tenant, "timeline": timeline, "deliveries": deliveries}
    return render(request, "alerts/alert.html", context)


@login_required
@require_POST
def send_test(request, pk):
    channel = get_channel_for_user(request.user, pk)
    require_act(request.user)
    delivery = services.send_test(channel, request.user)
    delivery.refresh_from_db()
    messages.success(
        request, f"Test alert sent to the {channel.channel} channel #{channel.position}: {delivery.state}."
    )
    return redirect("alerts-tenant", channel.tenant.slug)


@login_required
@require_POST
def pause_integration(request, tenant, integration):
    integration = get_integration_for_user(request.user, tenant, integration)
    require_act(request.user)
    paused = request.POST.get("paused") == "1"
    if services.pause(integration, request.user, paused=paused):
        verb = "paused" if paused else "resumed"
        messages.success(request, f"Alerts of {integration.name} {verb}.")
    return redirect("integrations-integration", integration.tenant.slug, integration.slug)
