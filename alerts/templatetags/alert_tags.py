"""``{% integration_alerts integration %}``: the alerts card of the
integration page (heartbeat state, pause, recent transitions, firing alerts)."""

from django import template

from alerts.models import Flip, IntegrationWatch
from opsconsole.roles import Perm, can

register = template.Library()


@register.inclusion_tag("alerts/_integration_alerts.html", takes_context=True)
def integration_alerts(context, integration):
    user = context["request"].user
    watch = IntegrationWatch.objects.filter(integration=integration).select_related("paused_by").first()
    return {
        "integration": integration,
        "tenant": integration.tenant,
        "watch": watch,
        "flips": list(Flip.objects.filter(integration=integration).order_by("-at")[:10]),
        "firing": list(integration.alerts.firing().order_by("-opened_at")[:5]),
        "can_pause": can(user, Perm.ACT) and integration.has_schedule,
        "csrf_token": context.get("csrf_token"),
    }
