"""Error-budget alerts of one tenant (contract section 6), from the SLA
engine's own figures (never recomputed here).

- ``sla.burn_rate``: an SLA row burning at 14.4x over both the last hour and
  the last 5 minutes, or at 6x over both the last 6 hours and the last 30
  minutes (``sla.burn.burn_rates``). Resolved when neither pair fires.
- ``sla.breached``: a pooled or tenant-wide row (``"integration": null``) of
  the current month of the tenant's calendar whose error budget is spent
  (spent > allowed, so the objective is now missed), judged only once the
  month's allowed budget is at least one event: in the first hours of a
  month a single bad run is not a breach. Resolved when the row is within its
  budget again, or when the month is over."""

from django.utils import timezone

from alerts import services
from alerts.models import Alert, Event
from integrations.models import Integration
from opsconsole.models import Tenant
from sla.burn import burn_rates
from sla.engine import month_bounds, sla_rows

# Breach is judged once a month's allowed budget reaches this many events.
MIN_ALLOWED = 1.0


def evaluate_tenant(tenant_id, now=None):
    """Raise and resolve the tenant's burn-rate and breach episodes at ``now``."""
    tenant = Tenant.objects.filter(pk=tenant_id).select_related("partner").first()
    if tenant is None:
        return None
    now = now or timezone.now()
    return {"burn": _burns(tenant, now), "breached": _breaches(tenant, now)}


def _label(row):
    parts = [row["objective"]]
    if row.get("priority"):
        parts.append(row["priority"])
    parts.append(row["integration"] or "all integrations")
    return " ".join(parts)


def _burns(tenant, now):
    firing = {a.subject: a for a in Alert.objects.firing().filter(tenant=tenant, event=Event.SLA_BURN_RATE)}
    integrations = {i.slug: i for i in Integration.objects.filter(tenant=tenant)}
    raised = 0
    for burn in burn_rates(tenant, now):
        subject = f"burn:{tenant.pk}:{burn.objective}:{burn.integration or '*'}:{burn.priority or '-'}"
        alert = firing.pop(subject, None)
        row = {"objective": burn.objective, "integration": burn.integration, "priority": burn.priority}
        rates = {k: (round(v, 4) if v is not None else None) for k, v in burn.rates.items()}
        if burn.firing and alert is None:
            pair = "1h/5m at 14.4x" if burn.fast else "6h/30m at 6x"
            summary = (
                f"{tenant.name}: {_label(row)} is burning its error budget "
                f"({pair}; rates " + ", ".join(f"{k} {v}" for k, v in rates.items()) + ")."
            )
            data = {**row, "target": float(burn.target), "rates": rates, "fast": burn.fast, "slow": burn.slow}
            created = services.open_alert(
                tenant,
                Event.SLA_BURN_RATE,
                subject,
                f"{subject}:{now.strftime('%Y-%m-%dT%H:%M')}",
                summary,
                integration=integrations.get(burn.integration),
                data=data,
                now=now,
            )
            raised += created is not None
        elif alert is not None and not burn.firing:
            services.resolve(alert, alert.event, f"{tenant.name}: {_label(row)} no longer burns fast.", now)
    for alert in firing.values():  # the objective went away
        services.resolve(alert, alert.event, f"{tenant.name}: the objective is no longer configured.", now)
    return raised


def _breaches(tenant, now):
    local = now.astimezone(tenant.tzinfo)
    month = f"{local.year:04d}-{local.month:02d}"
    start, end = month_bounds(tenant, local.year, local.month)
    firing = {a.subject: a for a in Alert.objects.firing().filter(tenant=tenant, event=Event.SLA_BREACHED)}
    raised = 0
    for row in sla_rows(tenant, start, end, now=now):
        if row["integration"] is not None:
            continue
        subject = f"breach:{tenant.pk}:{row['objective']}:{row['priority'] or '-'}:{month}"
        alert = firing.pop(subject, None)
        budget = row["error_budget"]
        breached = budget["allowed"] >= MIN_ALLOWED and budget["spent"] > budget["allowed"]
        if breached and alert is None:
            summary = (
                f"{tenant.name}: {_label(row)} has spent its error budget for {month} "
                f"({budget['spent']:g} bad of {budget['allowed']:.2f} allowed; target {float(row['target']):g}%)."
            )
            data = {
                "objective": row["objective"],
                "priority": row["priority"],
                "period": month,
                "target": float(row["target"]),
                "good": row["good"],
                "total": row["total"],
                "attained": row["attained"],
                "error_budget": budget,
            }
            raised += (
                services.open_alert(tenant, Event.SLA_BREACHED, subject, subject, summary, data=data, now=now)
                is not None
            )
        elif alert is not None and not breached:
            services.resolve(alert, alert.event, f"{tenant.name}: {_label(row)} is within its budget again.", now)
    for alert in firing.values():  # last month's, or a removed objective
        services.resolve(alert, alert.event, f"{tenant.name}: {alert.data.get('period')} is over.", now)
    return raised
