"""Checking a configuration document (contract section 1) into a ConfigSpec.

Every problem found is collected with the path of the bad value (such as
``tenants[0].integrations[2].source``) and raised together as one
ConfigError, so an operator fixes a file in one pass. References are checked
against the file and, for what the file does not mention, against what the
partner already has (unless ``prune``, which would delete it).
"""

import math
import re
import zoneinfo
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from functools import cache

from integrations.models import Integration, Priority, System
from opsconsole.models import Hostname, Partner, Tenant, User
from opsconsole.roles import CUSTOMER_ROLES, Role
from provisioning.config.checker import Checker, Known, declared, join, kind_of
from provisioning.config.currencies import ISO_4217
from provisioning.config.errors import ConfigError, Problem
from provisioning.config.logo import read_logo
from provisioning.config.spec import (
    AlertSpec,
    ConfigSpec,
    IntegrationSpec,
    ObjectiveSpec,
    PartnerSpec,
    RoutingSpec,
    SystemSpec,
    TemplateSpec,
    TemplateUse,
    TenantSpec,
    UserSpec,
    WindowSpec,
)
from sla.models import TENANT_WIDE_KINDS, AlertChannel, ObjectiveKind, Plan

NAME_SLUG = re.compile(r"^[a-z0-9][a-z0-9_-]{0,62}$")  # plan names, entities, record kinds
COLOR = re.compile(r"^#[0-9A-Fa-f]{6}$")
CLOCK = re.compile(r"^(?:[01][0-9]|2[0-3]):[0-5][0-9]$")
ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
HOSTNAME = re.compile(
    r"^(?=.{1,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*$"
)
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
PRIORITIES = tuple(Priority.values)
ALERT_EVENTS = (
    "integration.late",
    "integration.down",
    "integration.recovered",
    "exception.opened",
    "exception.regressed",
    "sla.burn_rate",
    "sla.breached",
    "replay.pending_approval",
    "replay.failed",
)
ROUTING_MATCH_KEYS = ("integration", "entity", "error_class", "error_code", "min_amount")
# An amount (contract 3.1): from 0 to 999,999,999,999 with at most 4 decimals.
MAX_AMOUNT = Decimal("999999999999")
# What a template may give an integration (contract 1, 1.1 Templates) and
# what only the integration itself may say.
TEMPLATE_KEYS = ("pattern", "entities", "mode", "schedule", "approval_required", "replay_webhook", "sla", "routing")
TEMPLATE_FORBIDDEN = ("source", "target", "slug", "name", "owner")
CLOSE_DAYS = (1, 10)


@cache
def _zones():
    return frozenset(zoneinfo.available_timezones())


def validate(document, *, base_dir=None, prune=False):
    """Check ``document`` and return its ConfigSpec, or raise ConfigError."""
    c = Checker()
    top = c.mapping(document, "", ("partner", "templates", "plans", "users", "tenants"), required=("partner",))
    if top is None or top.get("partner") is None:
        raise ConfigError(c.problems or [Problem("partner", "is required")])

    partner_spec = _partner(c, top["partner"], base_dir)
    partner = Partner.objects.filter(slug=partner_spec.slug).first() if partner_spec.slug else None

    plans = _plans(c, top.get("plans"))
    existing_plans = set(Plan.objects.filter(partner=partner).values_list("name", flat=True)) if partner else set()
    known_plans = Known(plans, existing_plans, prune)

    tenant_docs = c.items(top.get("tenants"), "tenants")
    declared_tenants = {}
    for i, doc in enumerate(tenant_docs):
        slug = doc.get("slug") if isinstance(doc, dict) else None
        if isinstance(slug, str) and slug not in declared_tenants:
            declared_tenants[slug] = i
    existing_tenants = dict(Tenant.objects.filter(partner=partner).values_list("slug", "pk")) if partner else {}
    known_tenants = Known(declared_tenants, existing_tenants, prune)

    users = _users(c, top.get("users"), known_tenants)
    existing_users = set(User.objects.filter(partner=partner).values_list("email", flat=True)) if partner else set()
    declared_users = {e.lower() for e in declared(top.get("users"), "email")}
    known_users = Known(declared_users, existing_users, prune)
    templates = _templates(c, top.get("templates"), known_users)

    tenants = []
    uses = []
    seen = {}
    for i, doc in enumerate(tenant_docs):
        path = join("tenants", i)
        spec = _tenant(c, doc, path, known_plans, known_users, existing_tenants, prune, (templates, uses))
        if spec is None:
            continue
        if spec.slug in seen:
            c.problem(
                join(path, "slug"), f"duplicate tenant slug {spec.slug!r} (also {join('tenants', seen[spec.slug])})"
            )
            continue
        seen[spec.slug] = i
        tenants.append(spec)

    if partner_spec.slug:
        _installation_unique(c, partner, partner_spec, users, tenants)
    if c.problems:
        raise ConfigError(c.problems)
    return ConfigSpec(
        partner=partner_spec,
        plans=plans,
        templates=templates,
        template_uses=uses,
        users=users,
        tenants=tenants,
    )


def _installation_unique(c, partner, partner_spec, users, tenants):
    """Tenant slugs, user e-mails and host names are unique across every
    partner of the installation."""
    others = Tenant.objects.filter(slug__in=[t.slug for t in tenants])
    others = others.exclude(partner=partner) if partner else others
    taken = set(others.values_list("slug", flat=True))
    for i, t in enumerate(tenants):
        if t.slug in taken:
            c.problem(join(join("tenants", i), "slug"), f"tenant {t.slug!r} belongs to another partner")
    others = User.objects.filter(email__in=[u.email for u in users])
    others = others.exclude(partner=partner) if partner else others
    taken = set(others.values_list("email", flat=True))
    for i, u in enumerate(users):
        if u.email in taken:
            c.problem(join(join("users", i), "email"), f"{u.email!r} is already a user outside this partner")
    others = Hostname.objects.filter(name__in=partner_spec.hostnames)
    others = others.exclude(partner=partner) if partner else others
    taken = set(others.values_list("name", flat=True))
    for i, name in enumerate(partner_spec.hostnames):
        if name in taken:
            c.problem(f"partner.branding.hostnames[{i}]", f"{name!r} belongs to another partner")


def _report_day(c, doc, path):
    """``reports: {day: N}``: the day of the month (1 to 28) on which last
    month's reports are issued and mailed; absent: the 1st."""
    if doc is None:
        return 1
    doc = c.mapping(doc, path, ("day",))
    if doc is None:
        return 1
    return c.integer(doc.get("day"), join(path, "day"), minimum=1, maximum=28, default=1)


def _report_recipients(c, value, path):
    """The tenant's ``report_recipients``: valid e-mail addresses, each once."""
    out = []
    for i, item in enumerate(c.items(value, path)):
        email = c.email(item, join(path, i))
        if email and email not in out:
            out.append(email)
    return out


def _partner(c, doc, base_dir):
    path = "partner"
    doc = c.mapping(doc, path, ("slug", "name", "branding", "reports"), required=("slug", "name"))
    if doc is None:
        return PartnerSpec(slug="", name="")
    spec = PartnerSpec(
        slug=c.slug(doc.get("slug"), join(path, "slug")), name=c.string(doc.get("name"), join(path, "name"))
    )
    spec.report_day = _report_day(c, doc.get("reports"), join(path, "reports"))
    branding = doc.get("branding")
    if branding is None:
        return spec
    path = "partner.branding"
    keys = ("product_name", "primary_color", "accent_color", "logo", "support_email", "hostnames")
    branding = c.mapping(branding, path, keys)
    if branding is None:
        return spec
    spec.product_name = c.string(branding.get("product_name"), join(path, "product_name"))
    for key in ("primary_color", "accent_color"):
        color = c.string(branding.get(key), join(path, key), max_length=7, pattern=COLOR, hint="use #RRGGBB")
        if color:
            setattr(spec, key, color.upper())
    spec.logo = read_logo(c, branding.get("logo"), join(path, "logo"), base_dir)
    if branding.get("support_email") is not None:
        spec.support_email = c.email(branding.get("support_email"), join(path, "support_email")) or ""
    seen = set()
    for i, host in enumerate(c.items(branding.get("hostnames"), join(path, "hostnames"))):
        hpath = join(join(path, "hostnames"), i)
        name = c.string(host, hpath, max_length=253)
        if not name:
            continue
        name = name.rstrip(".").lower()
        if not HOSTNAME.match(name):
            c.problem(hpath, f"{host!r} is not a host name")
        elif name in seen:
            c.problem(hpath, f"duplicate host name {name!r}")
        else:
            seen.add(name)
            spec.hostnames.append(name)
    return spec


def _plans(c, doc):
    plans = {}
    if doc is None:
        return plans
    if not isinstance(doc, dict):
        c.problem("plans", f"must be a mapping of plan name to objectives, not {kind_of(doc)}")
        return plans
    for name, entries in doc.items():
        path = join("plans", str(name))
        if not isinstance(name, str) or not NAME_SLUG.match(name):
            c.problem(path, f"{name!r} is not a valid plan name (a-z, 0-9, '-', '_')")
            continue
        plans[name] = _objectives(c, entries, path, integration_level=False)
    return plans


def _objectives(c, entries, path, *, integration_level):
    specs = []
    seen = {}
    for i, doc in enumerate(c.items(entries, path)):
        epath = join(path, i)
        spec = _objective(c, doc, epath, integration_level)
        if spec is None:
            continue
        if spec.identity in seen:
            label = spec.objective + (f" {spec.priority}" if spec.priority else "")
            c.problem(epath, f"duplicate objective {label} (also {seen[spec.identity]})")
            continue
        seen[spec.identity] = epath
        specs.append(spec)
    return specs


def _objective(c, doc, path, integration_level):
    keys = ("objective", "target", "priority", "threshold_minutes", "within_business_minutes")
    doc = c.mapping(doc, path, keys, required=("objective", "target"))
    if doc is None:
        return None
    before = len(c.problems)
    kind = c.choice(doc.get("objective"), join(path, "objective"), ObjectiveKind.values)
    target = _target(c, doc.get("target"), join(path, "target"))
    if kind in TENANT_WIDE_KINDS and integration_level:
        c.problem(
            join(path, "objective"),
            f"{kind} is tenant-wide: set it in the plan or the tenant's sla, not on an integration",
        )
    priority = threshold = within = None
    if kind in TENANT_WIDE_KINDS:
        priority = c.choice(doc.get("priority"), join(path, "priority"), PRIORITIES)
        if doc.get("priority") is None:
            c.problem(join(path, "priority"), f"is required for {kind}")
        within = c.integer(doc.get("within_business_minutes"), join(path, "within_business_minutes"), minimum=1)
        if doc.get("within_business_minutes") is None:
            c.problem(join(path, "within_business_minutes"), f"is required for {kind}")
    elif kind is not None:
        for key in ("priority", "within_business_minutes"):
            if doc.get(key) is not None:
                c.problem(join(path, key), "only acknowledge and resolve objectives take this")
    if kind == ObjectiveKind.FRESHNESS:
        threshold = c.integer(doc.get("threshold_minutes"), join(path, "threshold_minutes"), minimum=1)
        if doc.get("threshold_minutes") is None:
            c.problem(join(path, "threshold_minutes"), "is required for freshness")
    elif kind is not None and doc.get("threshold_minutes") is not None:
        c.problem(join(path, "threshold_minutes"), "only freshness objectives take this")
    if len(c.problems) > before or kind is None or target is None:
        return None
    return ObjectiveSpec(kind, priority, target, threshold, within)


def _target(c, value, path):
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        c.problem(path, f"must be a number from 0 to 100, not {kind_of(value)}")
        return None
    if isinstance(value, float) and not math.isfinite(value):
        c.problem(path, "must be a number from 0 to 100")
        return None
    try:
        target = Decimal(str(value))
    except InvalidOperation:
        c.problem(path, "must be a number from 0 to 100")
        return None
    if not Decimal(0) <= target <= Decimal(100):
        c.problem(path, "must be between 0 and 100")
        return None
    if target.as_tuple().exponent < -5:
        c.problem(path, "must have at most 5 decimal places")
        return None
    return target


def _users(c, docs, known_tenants):
    users = []
    seen = {}
    for i, doc in enumerate(c.items(docs, "users")):
        path = join("users", i)
        doc = c.mapping(doc, path, ("email", "name", "role", "tenants"), required=("email", "role"))
        if doc is None:
            continue
        before = len(c.problems)
        email = c.email(doc.get("email"), join(path, "email"))
        name = c.string(doc.get("name"), join(path, "name"))
        role = c.choice(doc.get("role"), join(path, "role"), Role.values)
        tenants = []
        tpath = join(path, "tenants")
        for j, slug in enumerate(c.items(doc.get("tenants"), tpath)):
            slug = c.slug(slug, join(tpath, j))
            if slug and known_tenants.check(c, join(tpath, j), slug, "tenant") and slug not in tenants:
                tenants.append(slug)
        if tenants and role is not None and role not in CUSTOMER_ROLES:
            c.problem(tpath, f"only customer roles are attached to tenants; a {role} sees every tenant of the partner")
        if email and email in seen:
            c.problem(join(path, "email"), f"duplicate user {email!r} (also {seen[email]})")
            continue
        if email:
            seen[email] = path
        if len(c.problems) == before and email:
            users.append(UserSpec(email=email, name=name, role=role, tenants=sorted(tenants)))
    return users


def _tenant(c, doc, path, known_plans, known_users, existing_tenants, prune, template_state):
    """One tenant; ``template_state`` is (the file's templates by name, the
    list of TemplateUse to append this tenant's uses to)."""
    keys = (
        "slug", "name", "timezone", "currency", "close", "business_hours", "plan", "sla", "scrub_fields",
        "retention_days", "report_recipients", "systems", "system_of_record", "integrations", "maintenance",
        "alerts", "routing",
    )  # fmt: skip
    doc = c.mapping(doc, path, keys, required=("slug", "name"))
    if doc is None:
        return None
    spec = TenantSpec(
        slug=c.slug(doc.get("slug"), join(path, "slug")), name=c.string(doc.get("name"), join(path, "name"))
    )
    if doc.get("timezone") is not None:
        tz = c.string(doc.get("timezone"), join(path, "timezone"), max_length=64)
        if tz and tz not in _zones():
            c.problem(join(path, "timezone"), f"unknown time zone {tz!r} (use an IANA name such as America/Chicago)")
        elif tz:
            spec.timezone = tz
    spec.currency = _currency(c, doc.get("currency"), join(path, "currency"))
    spec.close_business_day = _close(c, doc.get("close"), join(path, "close"))
    spec.business_hours = _business_hours(c, doc.get("business_hours"), join(path, "business_hours"))
    if doc.get("plan") is not None:
        plan = c.string(doc.get("plan"), join(path, "plan"), max_length=63)
        if plan and known_plans.check(c, join(path, "plan"), plan, "plan"):
            spec.plan = plan
    spec.sla = _objectives(c, doc.get("sla"), join(path, "sla"), integration_level=False)
    fields = []
    for i, name in enumerate(c.items(doc.get("scrub_fields"), join(path, "scrub_fields"))):
        name = c.string(name, join(join(path, "scrub_fields"), i), max_length=200)
        if name and name.lower() not in {f.lower() for f in fields}:
            fields.append(name)
    spec.scrub_fields = fields
    spec.retention_days = c.integer(
        doc.get("retention_days"), join(path, "retention_days"), minimum=1, maximum=36500, default=395
    )
    spec.report_recipients = _report_recipients(c, doc.get("report_recipients"), join(path, "report_recipients"))

    tenant_pk = existing_tenants.get(spec.slug)
    existing_systems = existing_integrations = ()
    if tenant_pk is not None:
        existing_systems = System.objects.filter(tenant_id=tenant_pk).values_list("slug", flat=True)
        existing_integrations = Integration.objects.filter(tenant_id=tenant_pk).values_list("slug", flat=True)

    spec.systems = _systems(c, doc.get("systems"), join(path, "systems"))
    known_systems = Known(declared(doc.get("systems"), "slug"), existing_systems, prune)
    spec.system_of_record = _system_of_record(
        c, doc.get("system_of_record"), join(path, "system_of_record"), known_systems
    )
    templates, uses = template_state
    spec.integrations = _integrations(
        c, doc.get("integrations"), join(path, "integrations"), known_systems, known_users, templates
    )
    known_integrations = Known(declared(doc.get("integrations"), "slug"), existing_integrations, prune)
    spec.maintenance = _maintenance(c, doc.get("maintenance"), join(path, "maintenance"), known_integrations)
    spec.alerts = _alerts(c, doc.get("alerts"), join(path, "alerts"))
    spec.routing = _routing(c, doc.get("routing"), join(path, "routing"), known_integrations, known_users)
    spec.routing += _template_routing(spec, templates)
    uses.extend(_template_uses(spec, doc.get("integrations"), templates))
    return spec if spec.slug else None


def _currency(c, value, path):
    """The tenant's ``currency``: an ISO 4217 code, three upper-case letters
    (``currencies.ISO_4217``); absent: USD."""
    code = c.string(value, path, max_length=3, default="USD")
    if value is not None and code and code not in ISO_4217:
        hint = f" (did you mean {code.upper()!r}?)" if code.upper() in ISO_4217 else ""
        c.problem(path, f"{code!r} is not an ISO 4217 currency code{hint}")
        return "USD"
    return code or "USD"


def _close(c, doc, path):
    """``close: {business_day: N}``, N from 1 to 10; absent: no close (None)."""
    if doc is None:
        return None
    doc = c.mapping(doc, path, ("business_day",), required=("business_day",))
    if doc is None:
        return None
    low, high = CLOSE_DAYS
    return c.integer(doc.get("business_day"), join(path, "business_day"), minimum=low, maximum=high)


def _business_hours(c, doc, path):
    if doc is None:
        return None
    doc = c.mapping(doc, path, ("days", "start", "end", "holidays"), required=("start", "end"))
    if doc is None:
        return None
    before = len(c.problems)
    days = set()
    day_docs = doc.get("days", list(DAYS[:5]))
    dpath = join(path, "days")
    for i, day in enumerate(c.items(day_docs, dpath)):
        day = c.choice(day.lower() if isinstance(day, str) else day, join(dpath, i), DAYS)
        if day:
            days.add(day)
    if isinstance(day_docs, list) and not day_docs:
        c.problem(dpath, "must name at least one day (leave business_hours out for 24x7)")
    start = c.string(doc.get("start"), join(path, "start"), max_length=5, pattern=CLOCK, hint="use HH:MM")
    end_text = doc.get("end")
    if end_text == "24:00":
        end = "24:00"
    else:
        end = c.string(end_text, join(path, "end"), max_length=5, pattern=CLOCK, hint="use HH:MM (or 24:00)")
    if start and end and start >= end:
        c.problem(join(path, "end"), f"must be after start ({start})")
    holidays = set()
    hpath = join(path, "holidays")
    for i, day in enumerate(c.items(doc.get("holidays"), hpath)):
        if isinstance(day, date) and not isinstance(day, datetime):
            holidays.add(day.isoformat())
            continue
        text = c.string(day, join(hpath, i), max_length=10)
        try:
            if not ISO_DATE.match(text):
                raise ValueError
            holidays.add(date.fromisoformat(text).isoformat())
        except ValueError:
            if text:
                c.problem(join(hpath, i), f"{text!r} is not a date (use YYYY-MM-DD)")
    if len(c.problems) > before:
        return None
    return {"days": [d for d in DAYS if d in days], "start": start, "end": end, "holidays": sorted(holidays)}


def _systems(c, docs, path):
    specs = []
    seen = {}
    for i, doc in enumerate(c.items(docs, path)):
        spath = join(path, i)
        doc = c.mapping(doc, spath, ("slug", "kind", "product", "api_version"), required=("slug", "kind"))
        if doc is None:
            continue
        before = len(c.problems)
        slug = c.slug(doc.get("slug"), join(spath, "slug"))
        kind = c.choice(doc.get("kind"), join(spath, "kind"), System.Kind.values)
        product = c.string(doc.get("product"), join(spath, "product"))
        api_version = c.string(doc.get("api_version"), join(spath, "api_version"), max_length=64)
        if slug in seen:
            c.problem(join(spath, "slug"), f"duplicate system slug {slug!r} (also {seen[slug]})")
            continue
        if len(c.problems) == before:
            seen[slug] = spath
            specs.append(SystemSpec(slug, kind, product, api_version))
    return specs


def _system_of_record(c, doc, path, known_systems):
    result = {}
    if doc is None:
        return result
    if not isinstance(doc, dict):
        c.problem(path, f"must be a mapping of record kind to system slug, not {kind_of(doc)}")
        return result
    for kind, system in doc.items():
        kpath = join(path, str(kind))
        if not isinstance(kind, str) or not NAME_SLUG.match(kind):
            c.problem(kpath, f"{kind!r} is not a valid record kind (a-z, 0-9, '-', '_')")
            continue
        system = c.slug(system, kpath, "system slug")
        if system and known_systems.check(c, kpath, system, "system"):
            result[kind] = system
    return result


def _integrations(c, docs, path, known_systems, known_users, templates):
    keys = (
        "slug", "name", "template", "pattern", "source", "target", "entities", "mode", "schedule", "owner",
        "approval_required", "replay_webhook", "sla",
    )  # fmt: skip
    specs = []
    seen = {}
    for i, doc in enumerate(c.items(docs, path)):
        ipath = join(path, i)
        doc = c.mapping(doc, ipath, keys, required=("slug", "name", "source", "target"))
        if doc is None:
            continue
        before = len(c.problems)
        template = _template_of(c, doc, ipath, templates)
        own_sla = _objectives(c, doc.get("sla"), join(ipath, "sla"), integration_level=True)
        if template is not None and template.valid:
            # Keys the integration does not write come from the template
            # (already checked at the template's path).
            doc = {**{k: v for k, v in template.keys.items() if k not in doc}, **doc}
        spec = IntegrationSpec(
            slug=c.slug(doc.get("slug"), join(ipath, "slug")),
            name=c.string(doc.get("name"), join(ipath, "name")),
            source=c.slug(doc.get("source"), join(ipath, "source"), "system slug"),
            target=c.slug(doc.get("target"), join(ipath, "target"), "system slug"),
            pattern="other",
        )
        spec.template = template.name if template is not None else None
        for key in ("source", "target"):
            if getattr(spec, key):
                known_systems.check(c, join(ipath, key), getattr(spec, key), "system")
        _flow_fields(c, doc, ipath, spec)
        if doc.get("owner") is not None:
            owner = c.email(doc.get("owner"), join(ipath, "owner"))
            if owner and known_users.check(c, join(ipath, "owner"), owner, "user"):
                spec.owner = owner
        spec.sla = _merge_sla(template.sla if template is not None and template.valid else [], own_sla)
        if spec.slug in seen:
            c.problem(join(ipath, "slug"), f"duplicate integration slug {spec.slug!r} (also {seen[spec.slug]})")
            continue
        if len(c.problems) == before and spec.slug:
            seen[spec.slug] = ipath
            specs.append(spec)
    return specs


def _merge_sla(template_sla, own):
    """The template's objectives merged with the integration's own by
    identity (objective, priority), its own winning."""
    mine = {o.identity for o in own}
    return [o for o in template_sla if o.identity not in mine] + list(own)


def _template_of(c, doc, ipath, templates):
    """The TemplateSpec an integration names (None when it names none or an unknown one)."""
    name = doc.get("template")
    if name is None:
        return None
    tpath = join(ipath, "template")
    name = c.string(name, tpath, max_length=63)
    if not name:
        return None
    if name not in templates:
        known = f" (templates in this file: {', '.join(sorted(templates))})" if templates else " (the file has none)"
        c.problem(tpath, f"unknown template {name!r}{known}")
        return None
    return templates[name]


def _flow_fields(c, doc, ipath, spec):
    """The keys an integration shares with templates, read from ``doc`` onto ``spec``:
    pattern, mode, approval_required, entities, schedule, replay_webhook."""
    spec.pattern = c.choice(doc.get("pattern"), join(ipath, "pattern"), Integration.Pattern.values, default="other")
    spec.mode = c.choice(doc.get("mode"), join(ipath, "mode"), Integration.Mode.values, default="batch")
    spec.approval_required = c.boolean(doc.get("approval_required"), join(ipath, "approval_required"))
    entities = []
    epath = join(ipath, "entities")
    for j, entity in enumerate(c.items(doc.get("entities"), epath)):
        entity = c.string(entity, join(epath, j), pattern=NAME_SLUG, hint="a record kind uses a-z, 0-9, '-', '_'")
        if entity and entity not in entities:
            entities.append(entity)
    spec.entities = entities
    schedule = doc.get("schedule")
    if schedule is not None:
        spath = join(ipath, "schedule")
        schedule = c.mapping(schedule, spath, ("every_minutes", "grace_minutes"), required=("every_minutes",))
        if schedule is not None:
            spec.every_minutes = c.integer(
                schedule.get("every_minutes"), join(spath, "every_minutes"), minimum=1, maximum=525_600
            )
            spec.grace_minutes = c.integer(
                schedule.get("grace_minutes"), join(spath, "grace_minutes"), minimum=0, maximum=525_600, default=0
            )
    hook = doc.get("replay_webhook")
    if hook is not None:
        hpath = join(ipath, "replay_webhook")
        hook = c.mapping(hook, hpath, ("url", "secret", "lease_seconds"), required=("url", "secret"))
        if hook is not None:
            spec.replay_webhook_url = c.url(hook.get("url"), join(hpath, "url"))
            spec.replay_webhook_secret = c.string(hook.get("secret"), join(hpath, "secret"), max_length=500)
            spec.replay_webhook_lease_seconds = c.integer(
                hook.get("lease_seconds"), join(hpath, "lease_seconds"), minimum=1, maximum=86_400, default=3600
            )


def _maintenance(c, docs, path, known_integrations):
    specs = []
    seen = {}
    for i, doc in enumerate(c.items(docs, path)):
        mpath = join(path, i)
        doc = c.mapping(doc, mpath, ("start", "end", "integrations", "note"), required=("start", "end"))
        if doc is None:
            continue
        before = len(c.problems)
        start = c.timestamp(doc.get("start"), join(mpath, "start"))
        end = c.timestamp(doc.get("end"), join(mpath, "end"))
        if start and end and end <= start:
            c.problem(join(mpath, "end"), "must be after start")
        names = []
        ipath = join(mpath, "integrations")
        for j, slug in enumerate(c.items(doc.get("integrations"), ipath)):
            slug = c.slug(slug, join(ipath, j), "integration slug")
            if slug and known_integrations.check(c, join(ipath, j), slug, "integration") and slug not in names:
                names.append(slug)
        note = c.string(doc.get("note"), join(mpath, "note"), max_length=2000, multiline=True)
        if len(c.problems) > before:
            continue
        key = (start, end)
        if key in seen:
            c.problem(mpath, f"duplicate maintenance window (same start and end as {seen[key]})")
            continue
        seen[key] = mpath
        specs.append(WindowSpec(start=start, end=end, integrations=sorted(names), note=note))
    return specs


def _alerts(c, docs, path):
    specs = []
    for i, doc in enumerate(c.items(docs, path)):
        apath = join(path, i)
        doc = c.mapping(doc, apath, ("channel", "url", "secret", "to", "events", "min_priority"), required=("channel",))
        if doc is None:
            continue
        before = len(c.problems)
        channel = c.choice(doc.get("channel"), join(apath, "channel"), AlertChannel.Kind.values)
        spec = AlertSpec(channel=channel)
        if channel == AlertChannel.Kind.EMAIL:
            if doc.get("url") is not None:
                c.problem(join(apath, "url"), "an email channel sends to 'to', not to a URL")
            tpath = join(apath, "to")
            recipients = c.items(doc.get("to"), tpath)
            if not recipients:
                c.problem(tpath, "must list at least one e-mail address")
            for j, address in enumerate(recipients):
                address = c.email(address, join(tpath, j))
                if address and address not in spec.to:
                    spec.to.append(address)
        elif channel is not None:
            if doc.get("url") is None:
                c.problem(join(apath, "url"), f"is required for a {channel} channel")
            else:
                spec.url = c.url(doc.get("url"), join(apath, "url"))
            if doc.get("to") is not None:
                c.problem(join(apath, "to"), f"a {channel} channel sends to its url, not to addresses")
        if doc.get("secret") is not None:
            if channel != AlertChannel.Kind.WEBHOOK:
                c.problem(join(apath, "secret"), "only webhook channels are signed with a secret")
            else:
                spec.secret = c.string(doc.get("secret"), join(apath, "secret"), max_length=500)
        epath = join(apath, "events")
        events = c.items(doc.get("events"), epath) if doc.get("events") is not None else list(ALERT_EVENTS)
        if doc.get("events") is not None and not events:
            c.problem(epath, "must name at least one event (leave it out for every event)")
        for j, event in enumerate(events):
            event = c.choice(event, join(epath, j), ALERT_EVENTS)
            if event and event not in spec.events:
                spec.events.append(event)
        spec.min_priority = c.choice(doc.get("min_priority"), join(apath, "min_priority"), PRIORITIES)
        if len(c.problems) == before:
            specs.append(spec)
    return specs


def _routing(c, docs, path, known_integrations, known_users):
    """Routing rules of a tenant, or of a template when ``known_integrations``
    is None (a template's rules may not name an integration: each is set to
    the integration that uses the template)."""
    specs = []
    for i, doc in enumerate(c.items(docs, path)):
        rpath = join(path, i)
        doc = c.mapping(doc, rpath, ("match", "priority", "assign", "runbook"), required=("match",))
        if doc is None:
            continue
        before = len(c.problems)
        mpath = join(rpath, "match")
        match = c.mapping(doc["match"], mpath, ROUTING_MATCH_KEYS) if doc.get("match") is not None else None
        match = match or {}
        clean = {}
        for key in ROUTING_MATCH_KEYS:
            if key not in match:
                continue
            if key == "min_amount":
                amount = _min_amount(c, match[key], join(mpath, key))
                if amount is not None:
                    clean[key] = amount
                continue
            value = c.string(match[key], join(mpath, key))
            if key == "integration" and value:
                if known_integrations is None:
                    c.problem(
                        join(mpath, key), "a template's rules apply to each integration that uses it: leave this out"
                    )
                else:
                    known_integrations.check(c, join(mpath, key), value, "integration")
            if value:
                clean[key] = value
        priority = c.choice(doc.get("priority"), join(rpath, "priority"), PRIORITIES, default=Priority.P3.value)
        assign = None
        if doc.get("assign") is not None:
            assign = c.email(doc.get("assign"), join(rpath, "assign"))
            if assign and not known_users.check(c, join(rpath, "assign"), assign, "user"):
                assign = None
        runbook = c.string(doc.get("runbook"), join(rpath, "runbook"), max_length=10_000, multiline=True)
        if len(c.problems) == before:
            specs.append(RoutingSpec(match=clean, priority=priority, assign=assign, runbook=runbook))
    return specs


def _min_amount(c, value, path):
    """``match.min_amount``: a number from 0 to 999,999,999,999 with at most
    4 decimal places (the bounds of a failure's amount, contract 3.1). Kept
    in the rule's JSON as a number: an integer when whole, else a float whose
    shortest form is the number written (``Decimal(str(x))`` reads it back exactly)."""
    bound = "a number from 0 to 999,999,999,999 with at most 4 decimal places"
    if isinstance(value, bool) or not isinstance(value, int | float):
        c.problem(path, f"must be {bound}, not {kind_of(value)}")
        return None
    if isinstance(value, float) and not math.isfinite(value):
        c.problem(path, f"must be {bound}")
        return None
    amount = Decimal(str(value))
    if not Decimal(0) <= amount <= MAX_AMOUNT:
        c.problem(path, f"must be {bound}, not {value}")
        return None
    if amount.as_tuple().exponent < -4:
        c.problem(path, f"must have at most 4 decimal places, not {value}")
        return None
    return int(amount) if amount == amount.to_integral_value() else float(amount)


# -- templates (contract 1, 1.1) -------------------------------------------------


def _templates(c, doc, known_users):
    """The file's ``templates``: name -> TemplateSpec, each checked at its
    own path (``templates.NAME.KEY``)."""
    templates = {}
    if doc is None:
        return templates
    if not isinstance(doc, dict):
        c.problem("templates", f"must be a mapping of template name to integration keys, not {kind_of(doc)}")
        return templates
    for name, tdoc in doc.items():
        path = join("templates", str(name))
        if not isinstance(name, str) or not NAME_SLUG.match(name):
            c.problem(path, f"{name!r} is not a valid template name (a-z, 0-9, '-', '_')")
            continue
        before = len(c.problems)
        if isinstance(tdoc, dict):
            for key in TEMPLATE_FORBIDDEN:
                if key in tdoc:
                    c.problem(join(path, key), f"a template may not name {key}: each integration writes its own")
            tdoc = {k: v for k, v in tdoc.items() if k not in TEMPLATE_FORBIDDEN}
        tdoc = c.mapping(tdoc, path, TEMPLATE_KEYS)
        if tdoc is None:
            templates[name] = TemplateSpec(name, valid=False)
            continue
        _flow_fields(c, tdoc, path, IntegrationSpec(slug="", name="", pattern="other", source="", target=""))
        spec = TemplateSpec(
            name,
            keys={k: tdoc[k] for k in TEMPLATE_KEYS if k in tdoc and k not in ("sla", "routing")},
            sla=_objectives(c, tdoc.get("sla"), join(path, "sla"), integration_level=True),
            routing=_routing(c, tdoc.get("routing"), join(path, "routing"), None, known_users),
        )
        spec.valid = len(c.problems) == before
        templates[name] = spec
    return templates


def _template_routing(tenant, templates):
    """The rules of the templates the tenant's integrations use, in the
    order of the integrations, each limited to its integration: they come
    after the tenant's own rules."""
    rules = []
    for integration in tenant.integrations:
        template = templates.get(integration.template) if integration.template else None
        if template is None or not template.valid:
            continue
        for rule in template.routing:
            match = {"integration": integration.slug, **rule.match}
            rules.append(RoutingSpec(match=match, priority=rule.priority, assign=rule.assign, runbook=rule.runbook))
    return rules


def _template_uses(tenant, docs, templates):
    """What each of the tenant's integrations takes from its template (for ``--dry-run``)."""
    written = {d.get("slug"): d for d in docs or () if isinstance(d, dict)}
    uses = []
    for integration in tenant.integrations:
        template = templates.get(integration.template) if integration.template else None
        if template is None or not template.valid:
            continue
        doc = written.get(integration.slug, {})
        own_sla = {(e.get("objective"), e.get("priority")) for e in doc.get("sla") or () if isinstance(e, dict)}
        uses.append(
            TemplateUse(
                tenant=tenant.slug,
                integration=integration.slug,
                template=template.name,
                taken=[k for k in template.keys if k not in doc],
                own=[k for k in template.keys if k in doc],
                sla_taken=[o.label for o in template.sla if o.identity not in own_sla],
                sla_own=[o.label for o in template.sla if o.identity in own_sla],
                routing=len(template.routing),
            )
        )
    return uses
