"""apply_config (contract section 1): a complete file creates everything,
a second apply changes nothing, every error names its path and applies nothing."""

import base64
import copy
import json
import shutil
from io import StringIO
from pathlib import Path

import pytest
import yaml
from django.conf import settings as django_settings
from django.core.cache import cache
from django.core.management import call_command, execute_from_command_line
from django.core.management.base import CommandError
from django.db import connection
from django.test.utils import CaptureQueriesContext

from integrations.models import Integration, RoutingRule, System
from opsconsole.branding import partner_for_host
from opsconsole.models import AuditEntry, Hostname, Partner, Tenant, User
from provisioning.config.loading import load_file
from sla.models import AlertChannel, MaintenanceWindow, Objective, Plan
from tests import factories as f

EXAMPLE = Path(django_settings.BASE_DIR) / "examples" / "northwind.yaml"
PATTERNS = {
    "opportunity_to_project",
    "time_expense_posting",
    "billing_milestone_sync",
    "utilization_analytics",
    "revenue_recognition",
    "master_data_sync",
}


def minimal(document):
    """The example reduced to Contoso's time and expense flow written out in
    full (its template's keys copied in, no templates): the small document
    most tests change one thing of."""
    contoso = document["tenants"][0]
    te = contoso["integrations"][0]
    template = document.pop("templates")[te.pop("template")]
    for key, value in template.items():
        if key not in ("sla", "routing"):
            te.setdefault(key, value)
    contoso["integrations"] = [te]
    contoso["systems"] = [s for s in contoso["systems"] if s["slug"] in ("kantata", "netsuite")]
    used = {"kantata", "netsuite"}
    contoso["system_of_record"] = {k: v for k, v in contoso["system_of_record"].items() if v in used}
    return document


@pytest.fixture
def doc():
    """The minimal document, to be changed by each test."""
    return minimal(copy.deepcopy(load_file(EXAMPLE)))


@pytest.fixture
def workdir(tmp_path, db):
    shutil.copytree(EXAMPLE.parent / "logos", tmp_path / "logos")
    return tmp_path


def write(workdir, document, name="northwind.yaml"):
    path = workdir / name
    if name.endswith(".json"):
        path.write_text(json.dumps(document))
    else:
        path.write_text(yaml.safe_dump(document, sort_keys=False))
    return path


def apply(workdir, document, *args, name="northwind.yaml"):
    out = StringIO()
    call_command("apply_config", str(write(workdir, document, name)), *args, stdout=out, stderr=StringIO())
    return out.getvalue()


def apply_failing(workdir, document, *args, name="northwind.yaml"):
    err = StringIO()
    with pytest.raises(CommandError) as info:
        call_command("apply_config", str(write(workdir, document, name)), *args, stdout=StringIO(), stderr=err)
    assert info.value.returncode == 1
    assert "nothing applied" in str(info.value)
    return err.getvalue().splitlines()


def config_audit():
    return list(AuditEntry.objects.filter(action="config.apply").order_by("id"))


def test_the_example_file_applies_and_creates_everything(db):
    out = StringIO()
    call_command("apply_config", str(EXAMPLE), stdout=out)
    assert "created 1 partner (northwind)" in out.getvalue()

    partner = Partner.objects.get(slug="northwind")
    assert partner.name == "Northwind Partners"
    assert partner.product_name == "Northwind Managed Integrations"
    assert (partner.primary_color, partner.accent_color) == ("#0B5FFF", "#FFB000")
    assert partner.support_email == "support@northwind.example"
    assert partner.logo.startswith("data:image/svg+xml;base64,")
    logo = base64.b64decode(partner.logo.split(",", 1)[1])
    assert logo == (EXAMPLE.parent / "logos" / "northwind.svg").read_bytes()
    assert list(Hostname.objects.filter(partner=partner).values_list("name", flat=True)) == ["ops.northwind.example"]

    gold = Plan.objects.get(partner=partner, name="gold")
    objectives = {(o.objective, o.priority): o for o in gold.objectives.all()}
    assert len(objectives) == 6
    assert objectives[("freshness", None)].threshold_minutes == 30
    assert float(objectives[("record_success", None)].target) == 99.5
    assert objectives[("resolve", "P1")].within_business_minutes == 480

    ana = User.objects.get(email="ana@northwind.example")
    assert (ana.name, ana.role, ana.partner) == ("Ana Ruiz", "support", partner)
    assert not ana.has_usable_password()
    cfo = User.objects.get(email="cfo@contoso.example")
    assert cfo.role == "customer_approver"
    assert list(cfo.tenants.values_list("slug", flat=True)) == ["contoso"]

    contoso = Tenant.objects.get(slug="contoso")
    assert contoso.partner == partner
    assert contoso.timezone == "America/Chicago"
    assert contoso.business_hours == {
        "days": ["mon", "tue", "wed", "thu", "fri"],
        "start": "08:00",
        "end": "18:00",
        "holidays": ["2026-12-25", "2027-01-01"],
    }
    assert contoso.plan == gold
    assert contoso.scrub_fields == ["ssn", "iban"]
    assert contoso.retention_days == 395
    assert contoso.system_of_record["invoice"] == "netsuite"
    netsuite = System.objects.get(tenant=contoso, slug="netsuite")
    assert (netsuite.kind, netsuite.product, netsuite.api_version) == ("erp", "NetSuite", "2024.2")

    te = Integration.objects.get(tenant=contoso, slug="time-expense-posting")
    assert te.source.slug == "kantata" and te.target == netsuite
    assert te.pattern == "time_expense_posting"
    assert te.entities == ["time_entry", "expense"]
    assert (te.mode, te.every_minutes, te.grace_minutes) == ("batch", 15, 10)
    assert te.owner == ana
    assert te.approval_required is True
    assert te.replay_webhook_url == "https://worker.example/replays"
    assert te.replay_webhook_secret == "whsec-contoso-te-2f9c1a"
    assert te.replay_webhook_lease_seconds == 3600
    # Its own freshness wins over the template's; record_success comes from the template.
    own = {o.objective: o for o in Objective.objects.filter(integration=te)}
    assert set(own) == {"freshness", "record_success"}
    assert (float(own["freshness"].target), own["freshness"].threshold_minutes) == (99.0, 60)
    assert float(own["record_success"].target) == 99.5
    assert (contoso.currency, contoso.close_business_day) == ("USD", 3)
    patterns = dict(Integration.objects.filter(tenant=contoso).values_list("slug", "pattern"))
    assert set(patterns.values()) == PATTERNS

    [window] = MaintenanceWindow.objects.filter(tenant=contoso)
    assert window.start.isoformat() == "2026-11-29T04:00:00+00:00"
    assert window.end.isoformat() == "2026-11-29T08:00:00+00:00"
    assert window.note == "NetSuite upgrade"
    assert list(window.integrations.all()) == [te]

    webhook, email = AlertChannel.objects.filter(tenant=contoso).order_by("position")
    assert (webhook.channel, webhook.url, webhook.min_priority) == (
        "webhook",
        "https://hooks.northwind.example/ops",
        "P2",
    )
    assert webhook.events == ["integration.down", "exception.opened", "sla.burn_rate", "replay.failed"]
    assert (email.channel, email.to, email.events) == ("email", ["oncall@northwind.example"], ["integration.down"])

    rule, *from_templates = RoutingRule.objects.filter(tenant=contoso).order_by("position")
    assert rule.match == {"integration": "time-expense-posting", "error_class": "validation"}
    assert (rule.priority, rule.assign, rule.position) == ("P2", ana, 1)
    assert rule.runbook.startswith("Check that the project is open")
    # The templates' rules follow, each limited to its integration.
    assert [r.position for r in from_templates] == list(range(2, 2 + len(from_templates)))
    assert all(r.match["integration"] in patterns for r in from_templates)
    assert from_templates[0].match == {"integration": "time-expense-posting", "min_amount": 5000}
    assert from_templates[0].priority == "P1"

    [entry] = config_audit()
    assert entry.actor == "system"
    assert entry.partner_id == partner.pk
    assert entry.data["counts"]["created"]["tenant"] == 1
    assert entry.data["created"]["integration"][0] == "contoso/time-expense-posting"
    assert "created 1 partner (northwind)" in entry.summary


def test_applying_the_same_file_twice_changes_nothing_and_records_nothing(db):
    call_command("apply_config", str(EXAMPLE), stdout=StringIO())
    out = StringIO()
    with CaptureQueriesContext(connection) as queries:
        call_command("apply_config", str(EXAMPLE), stdout=out)
    assert out.getvalue().strip() == "northwind.yaml: no changes."
    writes = [q["sql"] for q in queries if q["sql"].lstrip().upper().startswith(("INSERT", "UPDATE", "DELETE"))]
    assert writes == []
    assert len(config_audit()) == 1


def test_an_update_changes_only_what_changed_and_the_audit_says_so(workdir, doc):
    apply(workdir, doc)
    tenant = doc["tenants"][0]
    tenant["retention_days"] = 90
    tenant["timezone"] = "America/New_York"
    tenant["integrations"][0]["schedule"]["grace_minutes"] = 20
    tenant["routing"][0]["priority"] = "P1"
    doc["users"][0]["name"] = "Ana Ruiz-Ortega"

    with CaptureQueriesContext(connection) as queries:
        out = apply(workdir, doc)

    updates = [q["sql"] for q in queries if q["sql"].lstrip().upper().startswith("UPDATE")]
    # One UPDATE per changed row (user, tenant, integration, routing rule), none for the rest.
    assert len(updates) == 4, updates

    assert "updated" in out and "created" not in out
    latest = config_audit()[-1]
    assert latest.data["updated"] == {
        "user": {"ana@northwind.example": ["name"]},
        "tenant": {"contoso": ["timezone", "retention_days"]},
        "integration": {"contoso/time-expense-posting": ["grace_minutes"]},
        "routing": {"contoso#1": ["priority"]},
    }
    assert latest.data["created"] == {} and latest.data["deleted"] == {}
    assert "contoso: timezone, retention_days" in latest.summary
    contoso = Tenant.objects.get(slug="contoso")
    assert (contoso.retention_days, contoso.timezone) == (90, "America/New_York")
    assert Integration.objects.get(slug="time-expense-posting").grace_minutes == 20
    assert len(config_audit()) == 2


def test_absent_optional_keys_take_their_defaults(workdir, doc):
    apply(workdir, doc)
    tenant = doc["tenants"][0]
    del tenant["business_hours"]
    del tenant["integrations"][0]["schedule"]
    del tenant["integrations"][0]["replay_webhook"]
    apply(workdir, doc)
    assert Tenant.objects.get(slug="contoso").business_hours is None
    te = Integration.objects.get(slug="time-expense-posting")
    assert (te.every_minutes, te.grace_minutes, te.replay_webhook_url) == (None, None, "")


def test_a_tenant_sla_overrides_by_identity_and_adds(workdir, doc):
    doc["tenants"][0]["sla"] = [
        {"objective": "acknowledge", "priority": "P1", "target": 97.5, "within_business_minutes": 15},
        {"objective": "acknowledge", "priority": "P2", "target": 90, "within_business_minutes": 120},
    ]
    apply(workdir, doc)
    contoso = Tenant.objects.get(slug="contoso")
    rows = {(o.objective, o.priority): o for o in Objective.objects.filter(tenant=contoso)}
    assert set(rows) == {("acknowledge", "P1"), ("acknowledge", "P2")}
    assert rows[("acknowledge", "P1")].within_business_minutes == 15


# -- errors: each names its path and applies nothing -----------------------------------------


def _set(path, value):
    def change(document):
        *parents, last = path
        target = document
        for key in parents:
            target = target[key]
        target[last] = value

    return change


ERRORS = [
    pytest.param(
        _set(["tenants", 0, "integrations", 0, "source"], "netsuit"),
        "tenants[0].integrations[0].source: unknown system 'netsuit'",
        id="unknown-system",
    ),
    pytest.param(
        _set(["tenants", 0, "timezone"], "America/Chicag"),
        "tenants[0].timezone: unknown time zone 'America/Chicag'",
        id="bad-timezone",
    ),
    pytest.param(
        _set(["partner", "branding", "primary_color"], "#0B5FF"),
        "partner.branding.primary_color: '#0B5FF' is not valid",
        id="bad-color",
    ),
    pytest.param(
        lambda d: d["tenants"].append(copy.deepcopy(d["tenants"][0])),
        "tenants[1].slug: duplicate tenant slug 'contoso' (also tenants[0])",
        id="duplicate-tenant-slug",
    ),
    pytest.param(
        _set(["partner", "slug"], "North_wind"),
        "partner.slug: 'North_wind' is not valid",
        id="bad-partner-slug",
    ),
    pytest.param(
        _set(["tenants", 0, "integrations", 0, "owner"], "bob@northwind.example"),
        "tenants[0].integrations[0].owner: unknown user 'bob@northwind.example'",
        id="unknown-owner",
    ),
    pytest.param(
        _set(
            ["tenants", 0, "integrations", 0, "sla"],
            [{"objective": "acknowledge", "priority": "P1", "target": 95, "within_business_minutes": 30}],
        ),
        "tenants[0].integrations[0].sla[0].objective: acknowledge is tenant-wide",
        id="acknowledge-in-integration-sla",
    ),
    pytest.param(
        _set(["tenants", 0, "integrations", 0, "sla"], [{"objective": "resolve", "priority": "P1", "target": 9}]),
        "tenants[0].integrations[0].sla[0].objective: resolve is tenant-wide",
        id="resolve-in-integration-sla",
    ),
    pytest.param(
        _set(["tenants", 0, "maintenance", 0, "start"], "2026-11-28T22:00:00"),
        "tenants[0].maintenance[0].start: must carry a UTC offset",
        id="naive-maintenance-timestamp",
    ),
    pytest.param(
        _set(["tenants", 0, "maintenance", 0, "end"], "2026-11-28T21:00:00-06:00"),
        "tenants[0].maintenance[0].end: must be after start",
        id="maintenance-end-before-start",
    ),
    pytest.param(
        _set(["tenants", 0, "business_hours", "end"], "07:00"),
        "tenants[0].business_hours.end: must be after start (08:00)",
        id="business-hours-end-before-start",
    ),
    pytest.param(
        _set(["tenants", 0, "plan"], "platinum"),
        "tenants[0].plan: unknown plan 'platinum'",
        id="unknown-plan",
    ),
    pytest.param(
        _set(["plans", "gold", 0, "target"], 100.5),
        "plans.gold[0].target: must be between 0 and 100",
        id="target-over-100",
    ),
    pytest.param(
        _set(["plans", "gold", 2], {"objective": "freshness", "target": 95}),
        "plans.gold[2].threshold_minutes: is required for freshness",
        id="freshness-without-threshold",
    ),
    pytest.param(
        _set(["plans", "gold", 4], {"objective": "acknowledge", "target": 95, "within_business_minutes": 30}),
        "plans.gold[4].priority: is required for acknowledge",
        id="acknowledge-without-priority",
    ),
    pytest.param(
        _set(["plans", "gold", 0], {"objective": "uptime", "target": 95}),
        "plans.gold[0].objective: 'uptime' is not one of",
        id="unknown-objective",
    ),
    pytest.param(
        _set(["tenants", 0, "alerts", 0, "events"], ["integration.down", "integration.exploded"]),
        "tenants[0].alerts[0].events[1]: 'integration.exploded' is not one of",
        id="unknown-alert-event",
    ),
    pytest.param(
        _set(["tenants", 0, "routing", 0, "assign"], "nobody@northwind.example"),
        "tenants[0].routing[0].assign: unknown user 'nobody@northwind.example'",
        id="unknown-assignee",
    ),
    pytest.param(
        _set(["tenants", 0, "routing", 0, "match"], {"integration": "time-expense-posting", "colour": "red"}),
        "tenants[0].routing[0].match.colour: unknown key",
        id="unknown-match-key",
    ),
    pytest.param(
        _set(["tenants", 0, "system_of_record", "invoice"], "sap"),
        "tenants[0].system_of_record.invoice: unknown system 'sap'",
        id="system-of-record-unknown-system",
    ),
    pytest.param(
        _set(["users", 2, "tenants"], ["contoso", "initech"]),
        "users[2].tenants[1]: unknown tenant 'initech'",
        id="customer-of-unknown-tenant",
    ),
    pytest.param(
        _set(["users", 0, "role"], "admin"),
        "users[0].role: 'admin' is not one of",
        id="unknown-role",
    ),
    pytest.param(
        lambda d: d["users"].append({"email": "ANA@northwind.example", "role": "manager"}),
        "users[3].email: duplicate user 'ana@northwind.example' (also users[0])",
        id="duplicate-user",
    ),
    pytest.param(
        _set(["tenants", 0, "integrations", 0, "schedule"], {"every_minutes": 0}),
        "tenants[0].integrations[0].schedule.every_minutes: must be between 1 and",
        id="zero-schedule",
    ),
    pytest.param(
        _set(["tenants", 0, "integrations", 0, "pattern"], "etl"),
        "tenants[0].integrations[0].pattern: 'etl' is not one of",
        id="unknown-pattern",
    ),
    pytest.param(
        _set(["tenants", 0, "retention_days"], 0),
        "tenants[0].retention_days: must be between 1 and 36500",
        id="zero-retention",
    ),
    pytest.param(
        _set(["tenants", 0, "integrations", 0, "replay_webhook"], {"url": "https://worker.example/replays"}),
        "tenants[0].integrations[0].replay_webhook.secret: is required",
        id="webhook-without-secret",
    ),
    pytest.param(
        _set(["tenants", 0, "integrations", 0, "sorce"], "kantata"),
        "tenants[0].integrations[0].sorce: unknown key",
        id="misspelt-key",
    ),
]


@pytest.mark.parametrize(("change", "expected"), ERRORS)
def test_an_error_names_its_path_and_applies_nothing(workdir, doc, change, expected):
    change(doc)
    lines = apply_failing(workdir, doc)
    assert any(line.startswith(expected) for line in lines), lines
    assert Partner.objects.count() == 0
    assert User.objects.count() == 0
    assert AuditEntry.objects.count() == 0


def test_an_error_in_an_update_leaves_the_previous_configuration_whole(workdir, doc):
    apply(workdir, doc)
    doc["tenants"][0]["retention_days"] = 30
    doc["tenants"][0]["integrations"][0]["target"] = "netsuit"
    lines = apply_failing(workdir, doc)
    assert lines == ["tenants[0].integrations[0].target: unknown system 'netsuit'"]
    assert Tenant.objects.get(slug="contoso").retention_days == 395
    assert len(config_audit()) == 1


def test_every_error_is_reported_at_once(workdir, doc):
    doc["tenants"][0]["timezone"] = "Nowhere/Town"
    doc["tenants"][0]["integrations"][0]["source"] = "netsuit"
    doc["partner"]["branding"]["accent_color"] = "orange"
    lines = apply_failing(workdir, doc)
    assert len(lines) == 3
    assert {line.split(":")[0] for line in lines} == {
        "tenants[0].timezone",
        "tenants[0].integrations[0].source",
        "partner.branding.accent_color",
    }


def test_a_tenant_slug_of_another_partner_is_refused(workdir, doc, globex):
    doc["tenants"][0]["slug"] = "globex"
    for user in doc["users"]:
        user.pop("tenants", None)
    doc["users"][2]["role"] = "support"
    lines = apply_failing(workdir, doc)
    assert "tenants[0].slug: tenant 'globex' belongs to another partner" in lines
    assert Tenant.objects.get(slug="globex").partner.slug == "southwind"


def test_a_user_or_host_name_of_another_partner_is_refused(workdir, doc, southwind):
    f.make_user(southwind, email="ana@northwind.example")
    Hostname.objects.create(partner=southwind, name="ops.northwind.example")
    lines = apply_failing(workdir, doc)
    assert "users[0].email: 'ana@northwind.example' is already a user outside this partner" in lines
    assert "partner.branding.hostnames[0]: 'ops.northwind.example' belongs to another partner" in lines


@pytest.mark.parametrize(
    "url",
    [
        "http://worker.example/replays",
        "https://127.0.0.1/replays",
        "https://localhost:8443/replays",
        "https://10.1.2.3/replays",
        "https://192.168.0.10/replays",
        "https://169.254.169.254/latest",
        "https://[::1]/replays",
        "https://[::ffff:127.0.0.1]/replays",
        "https://127.1/replays",
        "https://2130706433/replays",
    ],
)
def test_a_private_or_plain_http_webhook_is_refused_unless_allowed(workdir, doc, settings, url):
    settings.OPSCONSOLE_ALLOW_PRIVATE_WEBHOOKS = False
    doc["tenants"][0]["integrations"][0]["replay_webhook"]["url"] = url
    doc["tenants"][0]["alerts"][0]["url"] = url
    lines = apply_failing(workdir, doc)
    assert [line.split(":")[0] for line in lines] == [
        "tenants[0].integrations[0].replay_webhook.url",
        "tenants[0].alerts[0].url",
    ]
    assert Integration.objects.count() == 0

    settings.OPSCONSOLE_ALLOW_PRIVATE_WEBHOOKS = True
    apply(workdir, doc)
    assert Integration.objects.get().replay_webhook_url == url


def test_public_webhook_targets_are_accepted_when_private_ones_are_not(workdir, doc, settings):
    settings.OPSCONSOLE_ALLOW_PRIVATE_WEBHOOKS = False
    doc["tenants"][0]["alerts"][0]["url"] = "https://93.184.215.14/ops"
    apply(workdir, doc)
    assert AlertChannel.objects.filter(url="https://93.184.215.14/ops").exists()


def test_bad_yaml_names_the_line_and_applies_nothing(workdir):
    path = workdir / "broken.yaml"
    path.write_text("partner:\n  slug: northwind\n  name: [Northwind\ntenants: []\n")
    err = StringIO()
    with pytest.raises(CommandError):
        call_command("apply_config", str(path), stdout=StringIO(), stderr=err)
    assert err.getvalue().startswith("broken.yaml: line ")
    assert "not valid YAML" in err.getvalue()
    assert Partner.objects.count() == 0


def test_a_key_given_twice_is_an_error(workdir):
    path = workdir / "twice.yaml"
    path.write_text("partner:\n  slug: northwind\n  name: A\n  name: B\n")
    err = StringIO()
    with pytest.raises(CommandError):
        call_command("apply_config", str(path), stdout=StringIO(), stderr=err)
    assert "duplicate key 'name'" in err.getvalue()


def test_the_command_line_exits_with_status_1_and_prints_the_path(transactional_db, workdir, doc, capsys):
    # The command line closes database connections when it ends: hence a
    # transactional test rather than one inside a rolled-back transaction.
    doc["tenants"][0]["integrations"][0]["source"] = "netsuit"
    path = write(workdir, doc)
    with pytest.raises(SystemExit) as info:
        execute_from_command_line(["manage.py", "apply_config", str(path)])
    assert info.value.code == 1
    assert "tenants[0].integrations[0].source: unknown system 'netsuit'" in capsys.readouterr().err
    assert Partner.objects.count() == 0


def test_a_json_file_applies_like_yaml(workdir, doc):
    apply(workdir, doc, name="northwind.json")
    assert Tenant.objects.filter(slug="contoso").exists()
    assert apply(workdir, doc).strip() == "northwind.yaml: no changes."


@pytest.mark.parametrize("fmt", ["json", "yaml"])
def test_a_file_of_another_name_is_judged_by_its_content(workdir, doc, fmt):
    path = workdir / "northwind.conf"
    path.write_text(json.dumps(doc, indent=2) if fmt == "json" else yaml.safe_dump(doc))
    call_command("apply_config", str(path), stdout=StringIO())
    assert Integration.objects.filter(slug="time-expense-posting").exists()


def test_bad_json_is_reported_with_its_line(workdir):
    path = workdir / "northwind.json"
    path.write_text('{"partner": {"slug": "northwind",}}')
    err = StringIO()
    with pytest.raises(CommandError):
        call_command("apply_config", str(path), stdout=StringIO(), stderr=err)
    assert err.getvalue().startswith("northwind.json: line 1, column")


def test_dry_run_reports_and_writes_nothing(workdir, doc):
    out = apply(workdir, doc, "--dry-run")
    assert "would have created 1 partner (northwind)" in out
    assert Partner.objects.count() == 0
    assert AuditEntry.objects.count() == 0


def test_the_actor_is_written_to_the_audit_log(workdir, doc):
    apply(workdir, doc, "--actor", "max@northwind.example")
    assert config_audit()[0].actor == "max@northwind.example"


# -- pruning -------------------------------------------------------------------------------


def _with_second_integration(doc):
    tenant = doc["tenants"][0]
    tenant["systems"].append({"slug": "salesforce", "kind": "crm", "product": "Salesforce"})
    tenant["integrations"].append(
        {
            "slug": "opportunity-to-project",
            "name": "Won opportunities to Kantata projects",
            "pattern": "opportunity_to_project",
            "source": "salesforce",
            "target": "kantata",
            "sla": [{"objective": "run_success", "target": 98}],
        }
    )
    tenant["alerts"].append({"channel": "slack", "url": "https://hooks.slack.example/T1/B2/x"})
    tenant["routing"].append({"match": {"error_class": "auth"}, "priority": "P1"})
    doc["users"].append({"email": "sam@northwind.example", "name": "Sam", "role": "support"})
    doc["plans"]["silver"] = [{"objective": "run_success", "target": 97}]
    return doc


def test_without_prune_nothing_the_file_leaves_out_is_deleted(workdir, doc):
    apply(workdir, _with_second_integration(copy.deepcopy(doc)))
    out = apply(workdir, doc)
    assert "deleted" not in out
    assert Integration.objects.filter(slug="opportunity-to-project").exists()
    assert System.objects.filter(slug="salesforce").exists()
    assert User.objects.filter(email="sam@northwind.example").exists()
    assert AlertChannel.objects.count() == 3 and RoutingRule.objects.count() == 2
    assert Plan.objects.filter(name="silver").exists()


def test_prune_deletes_only_what_the_file_leaves_out(workdir, doc, globex):
    outsider_integration = f.make_integration(globex, "globex-flow")
    apply(workdir, _with_second_integration(copy.deepcopy(doc)))
    extra = f.make_tenant(Partner.objects.get(slug="northwind"), "initech")

    apply(workdir, doc, "--prune")

    deleted = config_audit()[-1].data["deleted"]
    assert deleted == {
        "plan": ["silver"],
        "user": ["sam@northwind.example"],
        "tenant": ["initech"],
        "system": ["contoso/salesforce"],
        "integration": ["contoso/opportunity-to-project"],
        "alert": ["contoso#3 slack"],
        "routing": ["contoso#2"],
    }
    assert not Tenant.objects.filter(pk=extra.pk).exists()
    assert list(Integration.objects.filter(tenant__slug="contoso").values_list("slug", flat=True)) == [
        "time-expense-posting"
    ]
    assert Integration.objects.filter(pk=outsider_integration.pk).exists()
    assert Tenant.objects.filter(slug="globex").exists()
    assert User.objects.filter(email="ana@northwind.example").exists()
    assert Objective.objects.filter(plan__name="gold").count() == 6
    assert apply(workdir, doc, "--prune").strip() == "northwind.yaml: no changes."


def test_prune_removes_objectives_and_windows_the_file_leaves_out(workdir, doc):
    apply(workdir, doc)
    doc["plans"]["gold"] = doc["plans"]["gold"][:4]
    doc["tenants"][0]["maintenance"] = []
    apply(workdir, doc)
    assert Objective.objects.filter(plan__name="gold").count() == 6
    apply(workdir, doc, "--prune")
    assert Objective.objects.filter(plan__name="gold").count() == 4
    assert MaintenanceWindow.objects.count() == 0
    assert set(config_audit()[-1].data["deleted"]) == {"objective", "maintenance"}


def test_prune_refuses_to_delete_a_system_still_used(workdir, doc):
    apply(workdir, doc)
    doc["tenants"][0]["systems"] = [{"slug": "kantata", "kind": "psa"}]
    doc["tenants"][0]["system_of_record"] = {"project": "kantata"}
    lines = apply_failing(workdir, doc, "--prune")
    assert lines == [
        "tenants[0].integrations[0].target: system 'netsuite' is not in the file and would be deleted by --prune"
    ]
    assert System.objects.filter(slug="netsuite").exists()


def test_references_to_existing_objects_the_file_leaves_out_are_allowed_without_prune(workdir, doc):
    apply(workdir, doc)
    del doc["plans"]
    doc["tenants"][0]["systems"] = []
    doc["users"] = []
    assert apply(workdir, doc).strip() == "northwind.yaml: no changes."


# -- branding ------------------------------------------------------------------------------


PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="
)


def test_a_png_logo_is_stored_as_a_data_uri(workdir, doc):
    (workdir / "logos" / "mark.png").write_bytes(PNG)
    doc["partner"]["branding"]["logo"] = "logos/mark.png"
    apply(workdir, doc)
    assert Partner.objects.get().logo == "data:image/png;base64," + base64.b64encode(PNG).decode()


def test_an_https_logo_url_is_stored_as_given(workdir, doc):
    doc["partner"]["branding"]["logo"] = "https://cdn.northwind.example/logo.svg"
    apply(workdir, doc)
    assert Partner.objects.get().logo == "https://cdn.northwind.example/logo.svg"


@pytest.mark.parametrize(
    ("file", "content", "expected"),
    [
        ("logo.txt", b"just some text", "the logo must be an SVG, PNG or JPEG image"),
        ("big.png", PNG + b"\0" * (300 * 1024), "the logo is over 256 KiB"),
        ("evil.svg", b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>', "must not contain"),
        (
            "prefixed.svg",
            b'<svg xmlns="http://www.w3.org/2000/svg"><x:script xmlns:x="http://www.w3.org/2000/svg">1</x:script></svg>',
            "must not contain scripts",
        ),
        (
            "entity.svg",
            b'<svg xmlns="http://www.w3.org/2000/svg"><a href="&#106;avascript:alert(1)"><text>x</text></a></svg>',
            "must not contain scripts",
        ),
        ("missing.svg", None, "cannot read logo file 'missing.svg'"),
    ],
)
def test_a_bad_logo_is_refused(workdir, doc, file, content, expected):
    if content is not None:
        (workdir / file).write_bytes(content)
    doc["partner"]["branding"]["logo"] = file
    lines = apply_failing(workdir, doc)
    assert any(line.startswith("partner.branding.logo: ") and expected in line for line in lines), lines


def test_a_plain_http_logo_url_is_refused(workdir, doc):
    doc["partner"]["branding"]["logo"] = "http://cdn.northwind.example/logo.svg"
    assert apply_failing(workdir, doc) == ["partner.branding.logo: a logo URL must be https"]


def test_hostile_strings_are_refused_with_a_printable_message(workdir):
    path = workdir / "northwind.json"
    path.write_text('{"partner": {"slug": "northwind", "name": "North\\u0000wind", "\\ud800": 1}}')
    err = StringIO()
    with pytest.raises(CommandError):
        call_command("apply_config", str(path), stdout=StringIO(), stderr=err)
    lines = err.getvalue().splitlines()
    assert "partner.name: must not contain NUL characters or unpaired surrogates" in lines
    assert any(line.startswith("partner.\\ud800: unknown key") for line in lines)
    assert Partner.objects.count() == 0


@pytest.fixture
def host_cache():
    yield
    cache.delete("branding-host:ops.northwind.example")  # no leftovers for other tests


def test_a_new_host_name_brands_requests_at_once(workdir, doc, django_capture_on_commit_callbacks, host_cache):
    assert partner_for_host("ops.northwind.example") is None  # remembered for a minute
    with django_capture_on_commit_callbacks(execute=True):
        apply(workdir, doc)
    assert partner_for_host("ops.northwind.example").slug == "northwind"
