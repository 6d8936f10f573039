"""seed_demo: the demo configuration goes through apply_config's code and its
history through the worker API's ingest code. Seeding takes seconds, so each
test seeds once and checks several things."""

from datetime import UTC, datetime, timedelta
from io import StringIO

import time_machine
from django.core.management import call_command
from django.test import Client

from integrations.models import Integration, Run, SyncException
from opsconsole.models import AuditEntry, Partner, Tenant, User

NOW = datetime(2026, 11, 26, 15, 0, tzinfo=UTC)
PATTERNS = {
    "opportunity_to_project",
    "time_expense_posting",
    "billing_milestone_sync",
    "utilization_analytics",
    "revenue_recognition",
    "master_data_sync",
}


def seed(*args, at=NOW):
    out = StringIO()
    with time_machine.travel(at, tick=False):
        call_command("seed_demo", *args, stdout=out)
    return out.getvalue()


def test_it_builds_the_demo_through_config_and_ingest(db):
    days = 5
    out = seed("--days", str(days))

    # Configuration, through apply_config.
    partner = Partner.objects.get(slug="northwind")
    assert partner.product_name == "Northwind Managed Integrations"
    assert partner.logo.startswith("data:image/svg+xml;base64,")
    zones = dict(Tenant.objects.filter(partner=partner).values_list("slug", "timezone"))
    assert zones == {"contoso": "America/Chicago", "fabrikam": "Europe/Berlin", "tailspin": "Asia/Singapore"}
    assert all(t.business_hours["holidays"] for t in Tenant.objects.all())
    assert set(Integration.objects.values_list("pattern", flat=True)) >= PATTERNS
    assert Integration.objects.count() >= 6
    assert AuditEntry.objects.filter(action="config.apply").count() == 1

    # Users with the printed password.
    assert "password: demo" in out
    for email, role in [
        ("admin@northwind.example", "partner_admin"),
        ("max@northwind.example", "manager"),
        ("ana@northwind.example", "support"),
        ("cfo@contoso.example", "customer_approver"),
        ("viewer@contoso.example", "customer_viewer"),
    ]:
        assert email in out
        assert User.objects.get(email=email).role == role
        # Through the sign-in page, as a person (and django-axes) sees it.
        signed_in = Client().post("/login/", {"username": email, "password": "demo"})
        assert signed_in.status_code == 302 and signed_in.url == "/", email

    # A progress line per tenant and day; nothing rejected by ingest.
    lines = out.splitlines()
    assert len([line for line in lines if line.split(" ")[0] in zones]) == 3 * (days + 1)
    assert not [line for line in lines if line.startswith("  rejected")]
    assert ", 0 rejected," in out

    # History for every integration, of every kind.
    for integration in Integration.objects.all():
        runs = Run.objects.filter(integration=integration)
        assert runs.earliest("started_at").started_at < NOW - timedelta(days=days - 1), integration
        assert runs.latest("started_at").started_at < NOW
    assert {"succeeded", "partial", "failed"} <= set(Run.objects.values_list("status", flat=True))
    classes = set(SyncException.objects.values_list("error_class", flat=True))
    assert {"validation", "rate_limit", "timeout", "mapping", "reference"} <= classes

    # A heartbeat gap (tailspin's master data is down now), nothing inside maintenance.
    master = Integration.objects.get(tenant__slug="tailspin", slug="master-data-sync")
    assert Run.objects.filter(integration=master).latest("started_at").started_at < NOW - timedelta(hours=3)
    window = Tenant.objects.get(slug="tailspin").maintenance_windows.get()
    assert window.start > NOW - timedelta(days=days)
    assert not Run.objects.filter(tenant=window.tenant, started_at__gte=window.start, started_at__lt=window.end)

    # Staff acknowledged and resolved exceptions, in the past.
    staff_actions = AuditEntry.objects.filter(actor__in=["ana@northwind.example", "tom@northwind.example"])
    assert staff_actions.filter(action="exception.acknowledge").exists()
    assert staff_actions.filter(action="exception.resolve").exists()
    # (Triage happened in the past; the demo's replays are asked for as it is seeded.)
    assert not staff_actions.filter(action__startswith="exception.", at__gte=NOW).exists()
    assert not staff_actions.filter(at__gt=NOW).exists()
    acknowledged = SyncException.objects.filter(acknowledged_at__isnull=False)
    assert acknowledged.exists()
    for exception in acknowledged:
        assert exception.opened_at <= exception.acknowledged_at < NOW
        assert exception.openings.order_by("-opened_at").first().acknowledged_at is not None


def test_a_second_run_adds_nothing_and_reset_starts_again(db):
    seed("--days", "2")
    runs = set(Run.objects.values_list("pk", flat=True))
    assert runs

    out = seed("--days", "2", at=NOW + timedelta(minutes=5))
    assert "History already present" in out
    assert set(Run.objects.values_list("pk", flat=True)) == runs
    assert AuditEntry.objects.filter(action="config.apply").count() == 1

    seed("--reset", "--days", "1", at=NOW + timedelta(hours=1))
    assert Run.objects.exists()
    assert not runs & set(Run.objects.values_list("pk", flat=True))
    assert Partner.objects.filter(slug="northwind").count() == 1
    assert AuditEntry.objects.filter(action="demo.reset").count() == 1


def test_if_empty_does_nothing_when_a_partner_exists(northwind):
    out = seed("--if-empty")
    assert "no demo data added" in out
    assert not Tenant.objects.exists()


# -- a believable month (issue: every page has something true to show) -----------------------

FINANCIAL = {"time_entry", "expense", "invoice", "revenue_schedule"}


def test_the_demo_month_is_believable(db):
    from integrations.models import Failure, Replay, RunLog
    from sla.engine import month_bounds, sla_rows
    from sla.verdict import verdict

    seed()  # 35 days up to 26 November

    verdicts = {}
    for tenant in Tenant.objects.filter(partner__slug="northwind"):
        start, end = month_bounds(tenant, 2026, 11)
        for row in sla_rows(tenant, start, end, now=NOW):
            key = (tenant.slug, row["objective"], row["integration"], row["priority"])
            verdicts[key] = verdict(row).key
    judged = [v for v in verdicts.values() if v in ("met", "at-risk", "missed")]
    # Most objectives met; one at risk, one missed.
    assert judged.count("met") >= 0.8 * len(judged), verdicts
    assert "at-risk" in judged
    # Contoso's time posting runs late on a fixed share of runs: its own freshness objective is at risk.
    assert verdicts[("contoso", "freshness", "time-expense-posting", None)] == "at-risk"
    # The one missed objective has a visible cause: the ERP vendor's incident failed every run.
    missed = {k for k, v in verdicts.items() if v == "missed"}
    revrec_missed = ("fabrikam", "run_success", "revenue-recognition", None)
    assert revrec_missed in missed
    # (Fabrikam's run success of all integrations pools it with a healthy one: at risk or missed.)
    assert missed <= {revrec_missed, ("fabrikam", "run_success", None, None)}, missed
    revrec = Integration.objects.get(tenant__slug="fabrikam", slug="revenue-recognition")
    incident_runs = Run.objects.filter(integration=revrec, status="failed", started_at__gte=NOW - timedelta(days=8))
    assert incident_runs.count() >= 6
    assert RunLog.objects.filter(run__in=incident_runs, message__contains="503 Service Unavailable").exists()

    # New exceptions nobody has acknowledged yet, of every priority; P1 and P2 among them unassigned.
    unacknowledged = SyncException.objects.filter(status="open", acknowledged_at__isnull=True)
    assert {"P1", "P2", "P3", "P4"} <= set(unacknowledged.values_list("priority", flat=True))
    assert unacknowledged.filter(priority__in=["P1", "P2"], assignee__isnull=True).exists()
    credit = SyncException.objects.get(error_code="NS-CREDIT-LIMIT")
    assert (credit.priority, credit.assignee, credit.status) == ("P1", None, "open")
    # ... while older ones were worked on.
    assert SyncException.objects.filter(status="acknowledged").exists()
    assert SyncException.objects.filter(status="resolved").exists()

    # One replay waits for a second person's approval, one was carried out by its worker.
    pending = Replay.objects.get(status="pending_approval")
    assert pending.integration.approval_required and pending.requested_by.email == "ana@northwind.example"
    done = Replay.objects.get(status="succeeded")
    replayed = Failure.objects.filter(exception=done.exception, state="replayed")
    assert {f.record_id for f in replayed} == set(done.records.values_list("record_id", flat=True))
    assert Run.objects.filter(replay=done, trigger="replay", status="succeeded").exists()

    # Tenants keep books in their own currency and close them.
    assert dict(Tenant.objects.values_list("slug", "currency")) == {
        "contoso": "USD",
        "fabrikam": "EUR",
        "tailspin": "SGD",
    }
    assert all(1 <= t.close_business_day <= 10 for t in Tenant.objects.all())


def test_failures_of_financial_records_carry_amounts_in_the_tenants_currency():
    from provisioning.demo.config import demo_config
    from provisioning.demo.history import FlowHistory, flows

    currencies = {t["slug"]: t["currency"] for t in demo_config(NOW)["tenants"]}
    posting = {"time-expense-posting", "billing-milestone-sync", "revenue-recognition"}
    seen = set()
    for flow in flows():
        history = FlowHistory(flow, NOW)
        docs = history.documents(NOW - timedelta(days=20), NOW)
        for failure in (f for doc in docs for f in doc["failures"]):
            money = failure["entity"] in FINANCIAL and flow.slug in posting
            if money and failure["record_id"] not in ("MS-2207",):
                assert failure["currency"] == currencies[flow.tenant], failure
                assert 0 < failure["amount"] < 1_000_000 and round(failure["amount"], 2) == failure["amount"]
                assert failure["payload"]["amount"] == failure["amount"]
                seen.add((flow.tenant, failure["entity"]))
            elif not money:
                assert "amount" not in failure and "currency" not in failure, failure
    assert {e for _, e in seen} == FINANCIAL
    assert {t for t, _ in seen} == {"contoso", "fabrikam", "tailspin"}
