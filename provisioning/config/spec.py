"""What a configuration file asks for, after validation: plain dataclasses the
writer (``apply.py``) compares with the database."""

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal


@dataclass
class ObjectiveSpec:
    objective: str
    priority: str | None
    target: Decimal
    threshold_minutes: int | None = None
    within_business_minutes: int | None = None

    @property
    def identity(self):
        return (self.objective, self.priority)

    @property
    def label(self):
        return self.objective + (f" {self.priority}" if self.priority else "")


@dataclass
class SystemSpec:
    slug: str
    kind: str
    product: str = ""
    api_version: str = ""


@dataclass
class IntegrationSpec:
    slug: str
    name: str
    pattern: str
    source: str
    target: str
    entities: list = field(default_factory=list)
    mode: str = "batch"
    every_minutes: int | None = None
    grace_minutes: int | None = None
    owner: str | None = None
    approval_required: bool = False
    replay_webhook_url: str = ""
    replay_webhook_secret: str = ""
    replay_webhook_lease_seconds: int = 3600
    sla: list = field(default_factory=list)
    template: str | None = None


@dataclass
class WindowSpec:
    start: datetime
    end: datetime
    integrations: list = field(default_factory=list)
    note: str = ""


@dataclass
class AlertSpec:
    channel: str
    url: str = ""
    secret: str = ""
    to: list = field(default_factory=list)
    events: list = field(default_factory=list)
    min_priority: str | None = None


@dataclass
class RoutingSpec:
    match: dict
    priority: str
    assign: str | None = None
    runbook: str = ""


@dataclass
class TenantSpec:
    slug: str
    name: str
    timezone: str = "UTC"
    currency: str = "USD"
    close_business_day: int | None = None
    business_hours: dict | None = None
    plan: str | None = None
    sla: list = field(default_factory=list)
    scrub_fields: list = field(default_factory=list)
    retention_days: int = 395
    report_recipients: list = field(default_factory=list)
    systems: list = field(default_factory=list)
    system_of_record: dict = field(default_factory=dict)
    integrations: list = field(default_factory=list)
    maintenance: list = field(default_factory=list)
    alerts: list = field(default_factory=list)
    routing: list = field(default_factory=list)


@dataclass
class TemplateSpec:
    """A reusable integration template (top-level ``templates``): the keys it
    gives (as written, already checked), its objectives and routing rules.
    ``valid`` is false when the template itself has problems: integrations
    naming it then take nothing from it (the problems are reported once, at
    the template's path)."""

    name: str
    keys: dict = field(default_factory=dict)
    sla: list = field(default_factory=list)
    routing: list = field(default_factory=list)
    valid: bool = True


@dataclass
class TemplateUse:
    """What one integration takes from its template, for ``--dry-run``."""

    tenant: str
    integration: str
    template: str
    taken: list = field(default_factory=list)  # keys taken as they are
    own: list = field(default_factory=list)  # keys the integration writes itself
    sla_taken: list = field(default_factory=list)  # objective labels from the template
    sla_own: list = field(default_factory=list)  # template objectives the integration overrides
    routing: int = 0  # template rules added for this integration

    def line(self):
        parts = list(self.taken)
        if self.sla_taken:
            parts.append(f"sla ({', '.join(self.sla_taken)})")
        if self.routing:
            parts.append(f"routing ({self.routing} rule{'s' if self.routing != 1 else ''})")
        text = f"{self.tenant}/{self.integration} takes from template {self.template}: {', '.join(parts) or 'nothing'}"
        own = list(self.own) + [f"sla {label}" for label in self.sla_own]
        if own:
            text += f"; keeps its own {', '.join(own)}"
        return text


@dataclass
class UserSpec:
    email: str
    name: str
    role: str
    tenants: list = field(default_factory=list)


@dataclass
class PartnerSpec:
    slug: str
    name: str
    product_name: str = ""
    primary_color: str = "#0B5FFF"
    accent_color: str = "#FFB000"
    logo: str = ""
    support_email: str = ""
    hostnames: list = field(default_factory=list)
    report_day: int = 1


@dataclass
class ConfigSpec:
    partner: PartnerSpec
    plans: dict = field(default_factory=dict)  # name -> [ObjectiveSpec]
    templates: dict = field(default_factory=dict)  # name -> TemplateSpec
    template_uses: list = field(default_factory=list)  # [TemplateUse], in file order
    users: list = field(default_factory=list)
    tenants: list = field(default_factory=list)
