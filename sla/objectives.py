"""Which objectives apply where (contract section 1, "An objective's identity").

The tenant's set is its plan's entries, replaced or added to by the tenant's
own entries with the same identity (objective, priority). Each integration
gets the tenant's set (acknowledge and resolve excepted: those are
tenant-wide), replaced or added to by its own entries. Timeliness applies
only to integrations with a schedule.
"""

from dataclasses import dataclass

from integrations.models import Integration
from sla.models import TENANT_WIDE_KINDS, Objective, ObjectiveKind

# Order of rows in answers and pages.
KIND_ORDER = [k.value for k in ObjectiveKind]
PRIORITY_ORDER = {None: 0, "P1": 1, "P2": 2, "P3": 3, "P4": 4}


@dataclass(frozen=True)
class Resolved:
    objective: str
    priority: str | None
    target: float
    threshold_minutes: int | None
    within_business_minutes: int | None
    source: str  # "plan", "tenant" or "integration"
    source_id: int

    @property
    def identity(self):
        return (self.objective, self.priority)

    @classmethod
    def of(cls, obj, source):
        return cls(
            objective=obj.objective,
            priority=obj.priority or None,
            target=float(obj.target),
            threshold_minutes=obj.threshold_minutes,
            within_business_minutes=obj.within_business_minutes,
            source=source,
            source_id=obj.pk,
        )


def _key(obj):
    return (obj.objective, obj.priority or None)


def sort_key(r):
    return (KIND_ORDER.index(r.objective) if r.objective in KIND_ORDER else 99, PRIORITY_ORDER.get(r.priority, 9))


@dataclass
class TenantObjectives:
    tenant_level: list  # Resolved, in order
    per_integration: dict  # Integration -> list of Resolved (no acknowledge/resolve)

    @property
    def tenant_wide(self):
        return [r for r in self.tenant_level if r.objective in TENANT_WIDE_KINDS]

    @property
    def poolable(self):
        return [r for r in self.tenant_level if r.objective not in TENANT_WIDE_KINDS]


def resolve_objectives(tenant, integrations=None, objectives=None):
    """The objectives in force for ``tenant`` and each of its integrations.
    ``objectives``: Objective rows read beforehand that include every one of
    its plan's, its own and its integrations' (``sla.batch`` reads them for
    many tenants at once); else they are read here."""
    if integrations is None:
        integrations = list(Integration.objects.filter(tenant=tenant).order_by("slug"))
    if objectives is None:
        plan_rows = Objective.objects.filter(plan_id=tenant.plan_id).order_by("pk") if tenant.plan_id else []
        tenant_rows = Objective.objects.filter(tenant=tenant).order_by("pk")
        integration_rows = Objective.objects.filter(integration__in=integrations).order_by("pk")
    else:
        ids = {i.pk for i in integrations}
        objectives = sorted(objectives, key=lambda o: o.pk)
        plan_rows = [o for o in objectives if tenant.plan_id and o.plan_id == tenant.plan_id]
        tenant_rows = [o for o in objectives if o.tenant_id == tenant.pk]
        integration_rows = [o for o in objectives if o.integration_id in ids]
    level = {}
    for obj in plan_rows:
        level[_key(obj)] = Resolved.of(obj, "plan")
    for obj in tenant_rows:
        level[_key(obj)] = Resolved.of(obj, "tenant")
    tenant_level = sorted(level.values(), key=sort_key)

    overrides = {}
    for obj in integration_rows:
        if obj.objective in TENANT_WIDE_KINDS:
            continue  # refused by apply_config; never applied per integration
        overrides.setdefault(obj.integration_id, {})[_key(obj)] = Resolved.of(obj, "integration")

    per_integration = {}
    for integ in integrations:
        mine = {r.identity: r for r in tenant_level if r.objective not in TENANT_WIDE_KINDS}
        mine.update(overrides.get(integ.pk, {}))
        if not integ.has_schedule:
            mine = {k: v for k, v in mine.items() if v.objective != ObjectiveKind.TIMELINESS}
        per_integration[integ] = sorted(mine.values(), key=sort_key)
    return TenantObjectives(tenant_level=tenant_level, per_integration=per_integration)
