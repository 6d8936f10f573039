"""The demo partner's configuration, as apply_config would read it from a file."""

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

PARTNER = "northwind"
TENANTS = ("contoso", "fabrikam", "tailspin")

# Every demo user signs in with this password (printed by seed_demo and scripts/demo).
PASSWORD = "demo"  # noqa: S105 - a published demo login
# (email, name, role, tenants)
USERS = [
    ("admin@northwind.example", "Priya Shah", "partner_admin", []),
    ("max@northwind.example", "Max Berg", "manager", []),
    ("ana@northwind.example", "Ana Ruiz", "support", []),
    ("tom@northwind.example", "Tom Okafor", "support", []),
    ("cfo@contoso.example", "Lee Park", "customer_approver", ["contoso"]),
    ("viewer@contoso.example", "Dana Cole", "customer_viewer", ["contoso"]),
]
STAFF = ("ana@northwind.example", "tom@northwind.example")


def _local(tz, day, hour, minute=0):
    """An ISO timestamp with offset for ``hour:minute`` local time on ``day``."""
    return datetime.combine(day, time(hour, minute), tzinfo=ZoneInfo(tz)).isoformat()


def demo_config(now=None):
    """The configuration document. Maintenance windows are placed relative to
    ``now`` so the history always has one behind it and one ahead."""
    now = now or datetime.now(UTC)
    today = now.date()
    next_saturday = today + timedelta(days=(5 - today.weekday()) % 7 or 7)
    # A run with any failed record counts against run_success (contract
    # 4.4), so the plans' run-success targets leave room for a few a month.
    gold = [
        {"objective": "run_success", "target": 97.0},
        {"objective": "record_success", "target": 99.5},
        {"objective": "freshness", "target": 95.0, "threshold_minutes": 30},
        {"objective": "timeliness", "target": 99.5},
        {"objective": "acknowledge", "priority": "P1", "target": 95.0, "within_business_minutes": 30},
        {"objective": "acknowledge", "priority": "P2", "target": 90.0, "within_business_minutes": 120},
        {"objective": "resolve", "priority": "P1", "target": 90.0, "within_business_minutes": 480},
        {"objective": "resolve", "priority": "P2", "target": 85.0, "within_business_minutes": 1440},
    ]
    silver = [
        {"objective": "run_success", "target": 95.0},
        {"objective": "record_success", "target": 99.0},
        {"objective": "freshness", "target": 90.0, "threshold_minutes": 60},
        {"objective": "timeliness", "target": 98.0},
        {"objective": "acknowledge", "priority": "P1", "target": 90.0, "within_business_minutes": 60},
        {"objective": "resolve", "priority": "P1", "target": 85.0, "within_business_minutes": 960},
    ]
    return {
        "partner": {
            "slug": PARTNER,
            "name": "Northwind Partners",
            "branding": {
                "product_name": "Northwind Managed Integrations",
                "primary_color": "#0B5FFF",
                "accent_color": "#FFB000",
                "logo": "logos/northwind.svg",
                "support_email": "support@northwind.example",
                "hostnames": ["ops.northwind.example"],
            },
        },
        "plans": {"gold": gold, "silver": silver},
        "users": [
            {"email": email, "name": name, "role": role, **({"tenants": tenants} if tenants else {})}
            for email, name, role, tenants in USERS
        ],
        "tenants": [_contoso(today, next_saturday), _fabrikam(), _tailspin(today)],
    }


def _contoso(today, next_saturday):
    tz = "America/Chicago"
    past = today - timedelta(days=10)
    return {
        "slug": "contoso",
        "name": "Contoso Consulting",
        "timezone": tz,
        "currency": "USD",
        "close": {"business_day": 3},
        "business_hours": {
            "days": ["mon", "tue", "wed", "thu", "fri"],
            "start": "08:00",
            "end": "18:00",
            "holidays": ["2026-11-26", "2026-12-25", "2027-01-01"],
        },
        "plan": "gold",
        "scrub_fields": ["ssn", "iban"],
        "retention_days": 395,
        "systems": [
            {"slug": "salesforce", "kind": "crm", "product": "Salesforce Sales Cloud"},
            {"slug": "kantata", "kind": "psa", "product": "Kantata"},
            {"slug": "netsuite", "kind": "erp", "product": "NetSuite", "api_version": "2024.2"},
        ],
        "system_of_record": {
            "opportunity": "salesforce",
            "project": "kantata",
            "time_entry": "kantata",
            "expense": "kantata",
            "invoice": "netsuite",
            "revenue_schedule": "netsuite",
        },
        "integrations": [
            {
                "slug": "opportunity-to-project",
                "name": "Won opportunities to Kantata projects",
                "pattern": "opportunity_to_project",
                "source": "salesforce",
                "target": "kantata",
                "entities": ["opportunity", "project"],
                "mode": "event",
                "schedule": {"every_minutes": 30, "grace_minutes": 15},
                "owner": "tom@northwind.example",
            },
            {
                "slug": "time-expense-posting",
                "name": "Time and expense to NetSuite",
                "pattern": "time_expense_posting",
                "source": "kantata",
                "target": "netsuite",
                "entities": ["time_entry", "expense"],
                "mode": "batch",
                "schedule": {"every_minutes": 15, "grace_minutes": 10},
                "owner": "ana@northwind.example",
                "approval_required": True,
                "sla": [{"objective": "freshness", "target": 99.0, "threshold_minutes": 60}],
            },
            {
                "slug": "billing-milestone-sync",
                "name": "Billing milestones to NetSuite invoices",
                "pattern": "billing_milestone_sync",
                "source": "kantata",
                "target": "netsuite",
                "entities": ["milestone", "invoice"],
                "schedule": {"every_minutes": 60, "grace_minutes": 30},
                "owner": "ana@northwind.example",
            },
        ],
        "maintenance": [
            {
                "start": _local(tz, past, 22),
                "end": _local(tz, past + timedelta(days=1), 2),
                "integrations": ["time-expense-posting", "billing-milestone-sync"],
                "note": "NetSuite release upgrade",
            },
            {
                "start": _local(tz, next_saturday, 21),
                "end": _local(tz, next_saturday, 23, 30),
                "note": "Quarterly patching of the sync workers",
            },
        ],
        "alerts": [
            {
                "channel": "webhook",
                "url": "https://hooks.northwind.example/ops",
                "secret": "whsec-northwind-ops-7d41",
                "events": ["integration.down", "exception.opened", "sla.burn_rate", "replay.failed"],
                "min_priority": "P2",
            },
            {"channel": "email", "to": ["oncall@northwind.example"], "events": ["integration.down", "sla.breached"]},
        ],
        "routing": [
            {
                "match": {"error_class": "auth"},
                "priority": "P1",
                "assign": "tom@northwind.example",
                "runbook": "Renew the integration user's OAuth token in the vault, then replay.",
            },
            {
                "match": {"integration": "time-expense-posting", "error_class": "validation"},
                "priority": "P2",
                "assign": "ana@northwind.example",
                "runbook": "Check that the project is open in NetSuite, then replay.",
            },
            {"match": {"error_class": "duplicate"}, "priority": "P4"},
            {
                "match": {"integration": "billing-milestone-sync", "error_code": "NS-CUST-404"},
                "priority": "P2",
                "runbook": "Ask Contoso's billing team to create the customer in NetSuite (or fix its external id), "
                "then replay the milestones.",
            },
            {
                "match": {"integration": "billing-milestone-sync", "entity": "invoice", "min_amount": 20000},
                "priority": "P1",
                "runbook": "A large invoice is held up: tell Contoso's billing lead today; fix the customer in "
                "NetSuite, then replay before the close.",
            },
            {"match": {"integration": "billing-milestone-sync"}, "priority": "P2"},
        ],
    }


def _fabrikam():
    return {
        "slug": "fabrikam",
        "name": "Fabrikam Services GmbH",
        "timezone": "Europe/Berlin",
        "currency": "EUR",
        "close": {"business_day": 5},
        "business_hours": {
            "days": ["mon", "tue", "wed", "thu", "fri"],
            "start": "09:00",
            "end": "17:30",
            "holidays": ["2026-12-24", "2026-12-25", "2026-12-26", "2027-01-01"],
        },
        "plan": "silver",
        "scrub_fields": ["steuer_id", "iban"],
        "retention_days": 730,
        "systems": [
            {"slug": "autotask", "kind": "psa", "product": "Autotask PSA"},
            {"slug": "business-central", "kind": "erp", "product": "Dynamics 365 Business Central"},
            {"slug": "powerbi", "kind": "bi", "product": "Power BI"},
        ],
        "system_of_record": {"project": "autotask", "time_entry": "autotask", "revenue_schedule": "business-central"},
        "integrations": [
            {
                "slug": "utilization-analytics",
                "name": "Utilisation to Power BI",
                "pattern": "utilization_analytics",
                "source": "autotask",
                "target": "powerbi",
                "entities": ["time_entry", "resource"],
                "schedule": {"every_minutes": 60, "grace_minutes": 30},
                "owner": "tom@northwind.example",
            },
            {
                "slug": "revenue-recognition",
                "name": "Revenue recognition to Business Central",
                "pattern": "revenue_recognition",
                "source": "autotask",
                "target": "business-central",
                "entities": ["revenue_schedule", "project"],
                "schedule": {"every_minutes": 240, "grace_minutes": 60},
                "owner": "ana@northwind.example",
                "approval_required": True,
            },
        ],
        "alerts": [
            {
                "channel": "teams",
                "url": "https://northwind.webhook.office.example/webhookb2/fabrikam-ops",
                "events": ["integration.down", "integration.recovered", "exception.opened", "sla.breached"],
                "min_priority": "P2",
            }
        ],
        "routing": [
            {"match": {"error_class": "auth"}, "priority": "P1", "assign": "tom@northwind.example"},
            {
                "match": {"integration": "revenue-recognition"},
                "priority": "P2",
                "assign": "ana@northwind.example",
                "runbook": "Ask Fabrikam finance to reopen the period, or move the schedule to the next open period.",
            },
            {"match": {"error_class": "mapping"}, "priority": "P3", "assign": "tom@northwind.example"},
        ],
    }


def _tailspin(today):
    tz = "Asia/Singapore"
    past = today - timedelta(days=4)
    return {
        "slug": "tailspin",
        "name": "Tailspin Advisory Pte Ltd",
        "timezone": tz,
        "currency": "SGD",
        "close": {"business_day": 4},
        "business_hours": {
            "days": ["mon", "tue", "wed", "thu", "fri"],
            "start": "09:00",
            "end": "18:00",
            "holidays": ["2026-12-25", "2027-01-01", "2027-02-17", "2027-02-18"],
        },
        "plan": "gold",
        "sla": [{"objective": "acknowledge", "priority": "P1", "target": 98.0, "within_business_minutes": 20}],
        "retention_days": 395,
        "systems": [
            {"slug": "workday", "kind": "hr", "product": "Workday HCM"},
            {"slug": "kantata", "kind": "psa", "product": "Kantata"},
            {"slug": "sage-intacct", "kind": "erp", "product": "Sage Intacct"},
        ],
        "system_of_record": {"employee": "workday", "cost_center": "workday", "time_entry": "kantata"},
        "integrations": [
            {
                "slug": "master-data-sync",
                "name": "Employees and cost centres to Kantata",
                "pattern": "master_data_sync",
                "source": "workday",
                "target": "kantata",
                "entities": ["employee", "cost_center"],
                "schedule": {"every_minutes": 60, "grace_minutes": 20},
                "owner": "tom@northwind.example",
            },
            {
                "slug": "time-expense-posting",
                "name": "Time and expense to Sage Intacct",
                "pattern": "time_expense_posting",
                "source": "kantata",
                "target": "sage-intacct",
                "entities": ["time_entry", "expense"],
                "schedule": {"every_minutes": 30, "grace_minutes": 15},
                "owner": "ana@northwind.example",
            },
        ],
        "maintenance": [
            {
                "start": _local(tz, past, 1),
                "end": _local(tz, past, 3),
                "note": "Workday weekly service update",
            }
        ],
        "alerts": [
            {
                "channel": "slack",
                "url": "https://hooks.slack.example/services/T0NORTH/B0TAIL/demo",
                "events": ["integration.late", "integration.down", "integration.recovered", "exception.opened"],
            }
        ],
        "routing": [
            {"match": {"entity": "employee"}, "priority": "P2", "assign": "tom@northwind.example"},
            {"match": {"error_code": "SI-429"}, "priority": "P4"},
        ],
    }
