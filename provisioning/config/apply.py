"""Writing a validated configuration (contract section 1).

Every object the file names is compared with the database field by field and
written only when something differs, so applying the same file twice writes
nothing and records nothing. The whole apply is one transaction; with
``prune``, what this partner has and the file does not mention is deleted.
"""

from collections import defaultdict
from datetime import UTC
from decimal import Decimal

from django.core.cache import cache
from django.db import transaction
from django.db.models import ProtectedError

from integrations.models import Integration, RoutingRule, System
from integrations.sync_exceptions.deadlines import refresh_due_of_tenants
from opsconsole import audit
from opsconsole.models import Hostname, Partner, Tenant, User
from provisioning.config.errors import ConfigError, Problem
from provisioning.config.validate import validate
from sla.models import AlertChannel, MaintenanceWindow, Objective, Plan

# The order kinds are reported in: parents before children.
KINDS = ("partner", "plan", "objective", "user", "tenant", "system", "integration", "maintenance", "alert", "routing")
SUMMARY_NAMES = 5


class Changes:
    """What an apply created, updated (with the fields) and deleted, per kind."""

    def __init__(self):
        self.created = defaultdict(list)
        self.updated = defaultdict(dict)
        self.deleted = defaultdict(list)
        # {kind: {name: {field: {"old": value, "new": value}}}}, for the
        # governance change log (readable values; secrets never written).
        self.values = defaultdict(dict)
        # [TemplateUse]: what each integration took from its template
        # (contract 1.1), shown by ``apply_config --dry-run``.
        self.template_uses = []
        # Pks of tenants whose book close, time zone or business hours changed.
        self.close_moved = []

    def create(self, kind, name):
        self.created[kind].append(name)

    def update(self, kind, name, fields):
        """Record changed ``fields`` of one object: a list of names, or a
        mapping {name: (old, new)} as ``_sync`` returns it."""
        if fields:
            known = self.updated[kind].setdefault(name, [])
            known.extend(f for f in fields if f not in known)
            if isinstance(fields, dict):
                values = self.values[kind].setdefault(name, {})
                for field, (old, new) in fields.items():
                    values.setdefault(field, {"old": _readable(field, old)})["new"] = _readable(field, new)

    def delete(self, kind, name):
        self.deleted[kind].append(name)

    def __bool__(self):
        return any(self.created.values()) or any(self.updated.values()) or any(self.deleted.values())

    def counts(self):
        return {
            verb: {kind: len(group[kind]) for kind in KINDS if group.get(kind)}
            for verb, group in (("created", self.created), ("updated", self.updated), ("deleted", self.deleted))
        }

    def as_data(self):
        return {
            "created": {k: list(self.created[k]) for k in KINDS if self.created.get(k)},
            "updated": {k: dict(self.updated[k]) for k in KINDS if self.updated.get(k)},
            "deleted": {k: list(self.deleted[k]) for k in KINDS if self.deleted.get(k)},
            "values": {k: dict(self.values[k]) for k in KINDS if self.values.get(k)},
            "counts": self.counts(),
        }

    def lines(self):
        """One line per verb that did something, such as
        ``updated 1 tenant (contoso: retention_days, timezone)``."""
        out = []
        for verb, group in (("created", self.created), ("updated", self.updated), ("deleted", self.deleted)):
            parts = []
            for kind in KINDS:
                items = group.get(kind)
                if not items:
                    continue
                if verb == "updated":
                    names = [f"{name}: {', '.join(fields)}" for name, fields in items.items()]
                else:
                    names = list(items)
                shown = "; ".join(names[:SUMMARY_NAMES])
                if len(names) > SUMMARY_NAMES:
                    shown += f"; and {len(names) - SUMMARY_NAMES} more"
                label = _label(kind, len(names))
                parts.append(f"{len(names)} {label} ({shown})")
            if parts:
                out.append(f"{verb} {', '.join(parts)}")
        return out

    def summary(self):
        return "; ".join(self.lines()) if self else "no changes"


def _label(kind, count):
    noun = {"maintenance": "maintenance window", "routing": "routing rule", "alert": "alert channel"}.get(kind, kind)
    return noun if count == 1 else noun + "s"


def apply_document(document, *, base_dir=None, prune=False, dry_run=False, actor=None, source=""):
    """Validate ``document`` and write it in one transaction; return Changes.

    1. Validate everything (raises ConfigError listing every problem).
    2. Write the partner, plans, users, tenants and what each tenant holds,
       comparing before each write.
    3. With ``prune``, delete what the partner has and the file does not name.
    4. If anything changed, append one ``config.apply`` audit entry.
    With ``dry_run`` the transaction is rolled back and Changes says what
    would have happened.
    """
    with transaction.atomic():
        spec = validate(document, base_dir=base_dir, prune=prune)
        writer = _Writer(spec, prune)
        writer.run()
        changes = writer.changes
        changes.template_uses = list(spec.template_uses)
        if not dry_run and _moves_clocks(changes):
            # New objectives, plans or business hours move the SLA deadlines
            # of the partner's open exceptions (the inbox order).
            refresh_due_of_tenants(Tenant.objects.filter(partner=writer.partner).values_list("pk", flat=True))
        if not dry_run:
            # Tenants whose open exceptions' close deadlines move: the one
            # place to recompute them after a configuration change.
            changes.close_moved = _close_moved(changes, writer.partner)
        if changes and not dry_run:
            data = {"source": source, "prune": prune, **changes.as_data()}
            audit.record(
                actor,
                "config.apply",
                partner=writer.partner,
                obj=writer.partner,
                summary=f"Applied {source or 'configuration'}: {changes.summary()}",
                data=data,
            )
        if dry_run:
            transaction.set_rollback(True)
    return changes


# Tenant fields the SLA clock of an exception depends on.
CLOCK_FIELDS = {"timezone", "business_hours", "plan"}
# Tenant fields an exception's close deadline (contract 4.1, 1.1) depends on.
CLOSE_FIELDS = {"close_business_day", "timezone", "business_hours"}


def _close_moved(changes, partner):
    """The one place where a configuration change reaches the close
    deadlines of open exceptions: the pks of the partner's tenants whose
    book close, time zone or business hours changed (their exceptions'
    ``close_deadline`` is to be recomputed by the exceptions writer)."""
    slugs = [slug for slug, fields in changes.updated.get("tenant", {}).items() if CLOSE_FIELDS & set(fields)]
    if not slugs:
        return []
    return list(Tenant.objects.filter(partner=partner, slug__in=slugs).values_list("pk", flat=True))


def _moves_clocks(changes):
    """Whether ``changes`` may move acknowledge or resolve deadlines: plans or
    objectives changed, or a tenant's time zone, business hours or plan."""
    for group in (changes.created, changes.updated, changes.deleted):
        if group.get("plan") or group.get("objective"):
            return True
    return any(CLOCK_FIELDS & set(fields) for fields in changes.updated.get("tenant", {}).values())


def _sync(obj, desired):
    """Set the fields of ``obj`` that differ from ``desired``; save only those.
    Returns {field name: (old, new)} of the changed fields, a foreign key
    by its name without ``_id`` and as the object it points to."""
    changed = [name for name, value in desired.items() if getattr(obj, name) != value]
    out = {}
    for name in changed:
        field = name.removesuffix("_id")
        old = getattr(obj, field)
        setattr(obj, name, desired[name])
        out[field] = (old, getattr(obj, field))
    if changed:
        obj.save(update_fields=changed)
    return out


# Fields whose values never reach the audit log, only the fact of a change.
SECRET_FIELDS = {"secret", "replay_webhook_secret"}
# Longest text value kept in the audit log (a logo is a data: URI of up to 256 KiB).
VALUE_CHARS = 300


def _readable(field, value):
    """A value as the change log shows it: JSON, bounded, secrets hidden."""
    if field in SECRET_FIELDS:
        return "[secret]" if value else ""
    if value is None or isinstance(value, bool | int | float):
        return value
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, list | tuple):
        return [_readable(field, v) for v in value]
    if isinstance(value, dict):
        return {str(k): _readable(field, v) for k, v in value.items()}
    text = str(value)
    if text.startswith("data:"):
        return f"{text.split(';', 1)[0].split(',', 1)[0][:60]} ({len(text):,} characters)"
    return text if len(text) <= VALUE_CHARS else text[:VALUE_CHARS] + f"… [{len(text) - VALUE_CHARS} more]"


class _Writer:
    def __init__(self, spec, prune):
        self.spec = spec
        self.prune = prune
        self.changes = Changes()
        self.partner = None
        self.plans = {}
        self.users = {}

    def run(self):
        self.write_partner()
        self.write_plans()
        self.write_users()
        tenants = [(t, self.write_tenant(t)) for t in self.spec.tenants]
        self.write_user_tenants()
        for index, (spec, tenant) in enumerate(tenants):
            self.write_tenant_contents(index, spec, tenant)
        if self.prune:
            self.prune_partner()

    # -- partner, plans, users -------------------------------------------------

    def write_partner(self):
        s = self.spec.partner
        desired = {
            "name": s.name,
            "product_name": s.product_name,
            "primary_color": s.primary_color,
            "accent_color": s.accent_color,
            "logo": s.logo,
            "support_email": s.support_email,
            "report_day": s.report_day,
        }
        partner = Partner.objects.select_for_update().filter(slug=s.slug).first()
        created = partner is None
        if created:
            partner = Partner.objects.create(slug=s.slug, **desired)
            self.changes.create("partner", s.slug)
            fields = {}
        else:
            fields = _sync(partner, desired)
        self.partner = partner
        current = set(Hostname.objects.filter(partner=partner).values_list("name", flat=True))
        wanted = set(s.hostnames)
        if current != wanted and not created:
            fields["hostnames"] = (sorted(current), sorted(wanted))
        if current != wanted:
            Hostname.objects.filter(partner=partner, name__in=current - wanted).delete()
            Hostname.objects.bulk_create([Hostname(partner=partner, name=n) for n in sorted(wanted - current)])
            # BrandingMiddleware caches host -> partner for a minute.
            stale = [f"branding-host:{n}" for n in current ^ wanted]
            transaction.on_commit(lambda: cache.delete_many(stale))
        if not created:
            self.changes.update("partner", s.slug, fields)

    def write_plans(self):
        existing = {p.name: p for p in Plan.objects.filter(partner=self.partner)}
        for name, objectives in self.spec.plans.items():
            plan = existing.get(name)
            if plan is None:
                plan = Plan.objects.create(partner=self.partner, name=name)
                self.changes.create("plan", name)
            self.plans[name] = plan
            self.write_objectives(Objective.objects.filter(plan=plan), {"plan": plan}, objectives, name)
        for name, plan in existing.items():
            self.plans.setdefault(name, plan)

    def write_objectives(self, queryset, owner, specs, label):
        current = {(o.objective, o.priority): o for o in queryset}
        for s in specs:
            name = f"{label}:{s.objective}" + (f"/{s.priority}" if s.priority else "")
            desired = {
                "target": s.target,
                "threshold_minutes": s.threshold_minutes,
                "within_business_minutes": s.within_business_minutes,
            }
            objective = current.pop(s.identity, None)
            if objective is None:
                Objective.objects.create(objective=s.objective, priority=s.priority, **owner, **desired)
                self.changes.create("objective", name)
            else:
                self.changes.update("objective", name, _sync(objective, desired))
        if self.prune:
            for (kind, priority), objective in current.items():
                objective.delete()
                self.changes.delete("objective", f"{label}:{kind}" + (f"/{priority}" if priority else ""))

    def write_users(self):
        existing = {u.email: u for u in User.objects.filter(email__in=[u.email for u in self.spec.users])}
        for s in self.spec.users:
            user = existing.get(s.email)
            if user is None:
                user = User(email=s.email, name=s.name, role=s.role, partner=self.partner)
                # Config never sets passwords: people sign in once one is set for them.
                user.set_unusable_password()
                user.save()
                self.changes.create("user", s.email)
            else:
                self.changes.update("user", s.email, _sync(user, {"name": s.name, "role": s.role}))
            self.users[s.email] = user
        for user in User.objects.filter(partner=self.partner).exclude(email__in=self.users):
            self.users[user.email] = user

    def write_user_tenants(self):
        slugs = dict(Tenant.objects.filter(partner=self.partner).values_list("slug", "pk"))
        created = set(self.changes.created.get("user", ()))
        for s in self.spec.users:
            user = self.users[s.email]
            wanted = {slugs[slug] for slug in s.tenants}
            current = dict(user.tenants.values_list("pk", "slug"))
            if wanted != set(current):
                user.tenants.set(wanted)
                if s.email not in created:
                    self.changes.update("user", s.email, {"tenants": (sorted(current.values()), sorted(s.tenants))})

    # -- tenants ---------------------------------------------------------------

    def write_tenant(self, s):
        plan = self.plans.get(s.plan) if s.plan else None
        desired = {
            "name": s.name,
            "timezone": s.timezone,
            "currency": s.currency,
            "close_business_day": s.close_business_day,
            "business_hours": s.business_hours,
            "plan_id": plan.pk if plan else None,
            "scrub_fields": s.scrub_fields,
            "retention_days": s.retention_days,
            "report_recipients": s.report_recipients,
            "system_of_record": s.system_of_record,
        }
        tenant = Tenant.objects.filter(slug=s.slug, partner=self.partner).first()
        if tenant is None:
            tenant = Tenant.objects.create(partner=self.partner, slug=s.slug, **desired)
            self.changes.create("tenant", s.slug)
        else:
            self.changes.update("tenant", s.slug, _sync(tenant, desired))
        return tenant

    def write_tenant_contents(self, index, s, tenant):
        systems = self.write_systems(s, tenant)
        integrations = self.write_integrations(s, tenant, systems)
        self.write_objectives(Objective.objects.filter(tenant=tenant), {"tenant": tenant}, s.sla, s.slug)
        for i in s.integrations:
            integration = integrations[i.slug]
            self.write_objectives(
                Objective.objects.filter(integration=integration),
                {"integration": integration},
                i.sla,
                f"{s.slug}/{i.slug}",
            )
        self.write_maintenance(s, tenant, integrations)
        self.write_alerts(s, tenant)
        self.write_routing(s, tenant)
        if self.prune:
            self.prune_tenant(index, s, tenant)

    def write_systems(self, s, tenant):
        existing = {x.slug: x for x in System.objects.filter(tenant=tenant)}
        for spec in s.systems:
            desired = {"kind": spec.kind, "product": spec.product, "api_version": spec.api_version}
            system = existing.get(spec.slug)
            if system is None:
                existing[spec.slug] = System.objects.create(tenant=tenant, slug=spec.slug, **desired)
                self.changes.create("system", f"{s.slug}/{spec.slug}")
            else:
                self.changes.update("system", f"{s.slug}/{spec.slug}", _sync(system, desired))
        return existing

    def write_integrations(self, s, tenant, systems):
        existing = {x.slug: x for x in Integration.objects.filter(tenant=tenant)}
        for spec in s.integrations:
            owner = self.users.get(spec.owner) if spec.owner else None
            desired = {
                "name": spec.name,
                "pattern": spec.pattern,
                "source_id": systems[spec.source].pk,
                "target_id": systems[spec.target].pk,
                "entities": spec.entities,
                "mode": spec.mode,
                "every_minutes": spec.every_minutes,
                "grace_minutes": spec.grace_minutes,
                "owner_id": owner.pk if owner else None,
                "approval_required": spec.approval_required,
                "replay_webhook_url": spec.replay_webhook_url,
                "replay_webhook_secret": spec.replay_webhook_secret,
                "replay_webhook_lease_seconds": spec.replay_webhook_lease_seconds,
            }
            integration = existing.get(spec.slug)
            name = f"{s.slug}/{spec.slug}"
            if integration is None:
                existing[spec.slug] = Integration.objects.create(tenant=tenant, slug=spec.slug, **desired)
                self.changes.create("integration", name)
            else:
                self.changes.update("integration", name, _sync(integration, desired))
        return existing

    def write_maintenance(self, s, tenant, integrations):
        existing = {}
        for window in MaintenanceWindow.objects.filter(tenant=tenant).prefetch_related("integrations"):
            existing.setdefault((window.start, window.end), window)
        for spec in s.maintenance:
            name = f"{s.slug} {_stamp(spec.start)}"
            wanted = {integrations[slug].pk for slug in spec.integrations}
            window = existing.pop((spec.start, spec.end), None)
            if window is None:
                window = MaintenanceWindow.objects.create(tenant=tenant, start=spec.start, end=spec.end, note=spec.note)
                window.integrations.set(wanted)
                self.changes.create("maintenance", name)
                continue
            fields = _sync(window, {"note": spec.note})
            current = {i.pk: i.slug for i in window.integrations.all()}
            if set(current) != wanted:
                window.integrations.set(wanted)
                fields["integrations"] = (sorted(current.values()), sorted(spec.integrations))
            self.changes.update("maintenance", name, fields)
        if self.prune:
            for window in existing.values():
                window.delete()
                self.changes.delete("maintenance", f"{s.slug} {_stamp(window.start)}")

    def write_alerts(self, s, tenant):
        existing = {a.position: a for a in AlertChannel.objects.filter(tenant=tenant)}
        for position, spec in enumerate(s.alerts, start=1):
            desired = {
                "channel": spec.channel,
                "url": spec.url,
                "secret": spec.secret,
                "to": spec.to,
                "events": spec.events,
                "min_priority": spec.min_priority,
            }
            alert = existing.pop(position, None)
            name = f"{s.slug}#{position} {spec.channel}"
            if alert is None:
                AlertChannel.objects.create(tenant=tenant, position=position, **desired)
                self.changes.create("alert", name)
            else:
                self.changes.update("alert", name, _sync(alert, desired))
        if self.prune:
            for position, alert in sorted(existing.items()):
                alert.delete()
                self.changes.delete("alert", f"{s.slug}#{position} {alert.channel}")

    def write_routing(self, s, tenant):
        existing = {r.position: r for r in RoutingRule.objects.filter(tenant=tenant)}
        for position, spec in enumerate(s.routing, start=1):
            assignee = self.users.get(spec.assign) if spec.assign else None
            desired = {
                "match": spec.match,
                "priority": spec.priority,
                "assign_id": assignee.pk if assignee else None,
                "runbook": spec.runbook,
            }
            rule = existing.pop(position, None)
            name = f"{s.slug}#{position}"
            if rule is None:
                RoutingRule.objects.create(tenant=tenant, position=position, **desired)
                self.changes.create("routing", name)
            else:
                self.changes.update("routing", name, _sync(rule, desired))
        if self.prune:
            for position, rule in sorted(existing.items()):
                rule.delete()
                self.changes.delete("routing", f"{s.slug}#{position}")

    # -- pruning ---------------------------------------------------------------

    def prune_tenant(self, index, s, tenant):
        """Delete the integrations, then the systems, this tenant has and the
        file does not name (integrations hold their systems: PROTECT)."""
        keep = {i.slug for i in s.integrations}
        for integration in Integration.objects.filter(tenant=tenant).exclude(slug__in=keep).order_by("slug"):
            integration.delete()
            self.changes.delete("integration", f"{s.slug}/{integration.slug}")
        keep = {x.slug for x in s.systems}
        for system in System.objects.filter(tenant=tenant).exclude(slug__in=keep).order_by("slug"):
            try:
                with transaction.atomic():
                    system.delete()
            except ProtectedError:
                raise ConfigError(
                    [Problem(f"tenants[{index}].systems", f"system {system.slug!r} is still used by an integration")]
                ) from None
            self.changes.delete("system", f"{s.slug}/{system.slug}")

    def prune_partner(self):
        keep = {t.slug for t in self.spec.tenants}
        for tenant in Tenant.objects.filter(partner=self.partner).exclude(slug__in=keep).order_by("slug"):
            # Integrations first: they PROTECT their systems.
            Integration.objects.filter(tenant=tenant).delete()
            tenant.delete()
            self.changes.delete("tenant", tenant.slug)
        keep = {u.email for u in self.spec.users}
        for user in User.objects.filter(partner=self.partner).exclude(email__in=keep).order_by("email"):
            user.delete()
            self.changes.delete("user", user.email)
        for plan in Plan.objects.filter(partner=self.partner).exclude(name__in=self.spec.plans).order_by("name"):
            plan.delete()
            self.changes.delete("plan", plan.name)


def _stamp(moment):
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%MZ")
