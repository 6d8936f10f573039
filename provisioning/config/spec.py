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
    users: list = field(default_factory=list)
    tenants: list = field(default_factory=list)
