"""``python manage.py sla_objectives TENANT``: which objective applies where,
and whether it comes from the plan, the tenant or the integration."""

from django.core.management.base import BaseCommand, CommandError

from opsconsole.models import Tenant
from sla.objectives import resolve_objectives


def describe(r):
    parts = [r.objective]
    if r.priority:
        parts.append(r.priority)
    parts.append(f"target {r.target:g}%")
    if r.threshold_minutes is not None:
        parts.append(f"threshold {r.threshold_minutes} min")
    if r.within_business_minutes is not None:
        parts.append(f"within {r.within_business_minutes} business min")
    return " ".join(parts)


class Command(BaseCommand):
    help = "Print the SLA objectives in force for each integration of a tenant and where each comes from."

    def add_arguments(self, parser):
        parser.add_argument("tenant", help="tenant slug")

    def handle(self, *args, **options):
        tenant = Tenant.objects.filter(slug=options["tenant"]).select_related("plan").first()
        if tenant is None:
            raise CommandError(f"unknown tenant '{options['tenant']}'")
        resolved = resolve_objectives(tenant)
        plan = tenant.plan.name if tenant.plan else "none"
        out = [f"tenant {tenant.slug} (plan: {plan}, time zone: {tenant.timezone})"]
        out.append("  tenant-wide:")
        wide = resolved.tenant_wide
        out += [f"    {describe(r):<60} from {r.source}" for r in wide] or ["    (none)"]
        out.append("  pooled (integration: null):")
        out += [f"    {describe(r):<60} from {r.source}" for r in resolved.poolable] or ["    (none)"]
        for integ, rows in resolved.per_integration.items():
            schedule = (
                f"every {integ.every_minutes} min, grace {integ.grace_minutes or 0} min"
                if integ.has_schedule
                else "no schedule: no timeliness"
            )
            out.append(f"  integration {integ.slug} ({schedule}):")
            out += [f"    {describe(r):<60} from {r.source}" for r in rows] or ["    (none)"]
        self.stdout.write("\n".join(out))
