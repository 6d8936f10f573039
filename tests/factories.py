"""Small factories for tests: each returns a saved object with sane defaults."""

import itertools

from rest_framework.test import APIClient

from integrations.keys import create_key
from integrations.models import Integration, System
from opsconsole.models import Partner, Tenant, User
from opsconsole.roles import Role

_seq = itertools.count(1)


def make_partner(slug=None, **kw):
    n = next(_seq)
    slug = slug or f"partner-{n}"
    kw.setdefault("name", slug.title())
    kw.setdefault("product_name", f"{slug.title()} Managed Integrations")
    return Partner.objects.create(slug=slug, **kw)


def make_tenant(partner, slug=None, **kw):
    n = next(_seq)
    slug = slug or f"tenant-{n}"
    kw.setdefault("name", slug.title())
    kw.setdefault("timezone", "America/Chicago")
    return Tenant.objects.create(partner=partner, slug=slug, **kw)


def make_user(partner, role=Role.SUPPORT, email=None, tenants=(), password="pw", **kw):
    n = next(_seq)
    email = email or f"{role}-{n}@{partner.slug}.example"
    kw.setdefault("name", email.split("@")[0].replace("-", " ").title())
    user = User.objects.create_user(email, password, partner=partner, role=role, **kw)
    if tenants:
        user.tenants.set(tenants)
    return user


def make_system(tenant, slug="kantata", kind=System.Kind.PSA, **kw):
    system, _ = System.objects.get_or_create(tenant=tenant, slug=slug, defaults={"kind": kind, **kw})
    return system


def make_integration(tenant, slug="time-expense-posting", **kw):
    source = kw.pop("source", None) or make_system(tenant, "kantata", System.Kind.PSA, product="Kantata")
    target = kw.pop("target", None) or make_system(tenant, "netsuite", System.Kind.ERP, product="NetSuite")
    kw.setdefault("name", slug.replace("-", " ").capitalize())
    kw.setdefault("pattern", Integration.Pattern.TIME_EXPENSE_POSTING)
    kw.setdefault("entities", ["time_entry", "expense"])
    return Integration.objects.create(tenant=tenant, slug=slug, source=source, target=target, **kw)


def make_key(tenant, scopes=("ingest",), name=None):
    """A tenant key; returns the raw key string."""
    _, raw = create_key(name=name or f"key-{next(_seq)}", tenant=tenant, scopes=list(scopes))
    return raw


def make_token(user, name=None):
    """A user's personal token; returns the raw token string."""
    _, raw = create_key(name=name or f"token-{next(_seq)}", user=user)
    return raw


def client_with(raw_key=None):
    """An APIClient sending ``Authorization: Bearer <raw_key>`` (none if None)."""
    client = APIClient()
    if raw_key:
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw_key}")
    return client


# --- Runs, failures and exceptions, made directly with the ORM ---------------------


def make_run(integration, run_id=None, status="partial", **kw):
    from datetime import timedelta

    from django.utils import timezone

    from integrations.models import Run

    started = kw.pop("started_at", None) or timezone.now() - timedelta(minutes=5)
    kw.setdefault("finished_at", None if status == "running" else started + timedelta(minutes=1))
    kw.setdefault("processed", 10)
    kw.setdefault("succeeded", 9)
    kw.setdefault("failed", 1)
    return Run.objects.create(
        tenant=integration.tenant,
        integration=integration,
        run_id=run_id or f"run-{next(_seq)}",
        status=status,
        started_at=started,
        **kw,
    )


def make_exception(integration, title="Project P-<n> is closed in the ERP", **kw):
    """An exception with its first opening; add occurrences with make_failure."""
    import hashlib

    from django.utils import timezone

    from integrations.models import ExceptionOpening, SyncException

    n = next(_seq)
    now = timezone.now()
    kw.setdefault("opened_at", now)
    kw.setdefault("first_seen", kw["opened_at"])
    kw.setdefault("last_seen", kw["opened_at"])
    kw.setdefault("entity", "time_entry")
    kw.setdefault("error_code", f"ERP-{4000 + n}")
    kw.setdefault("error_class", "validation")
    kw.setdefault("grouped_by", "error_code")
    key = kw.pop("key_hash", None) or hashlib.sha256(f"{kw['entity']}|{kw['error_code']}|{n}".encode()).hexdigest()
    kw.setdefault("fingerprint", key)
    exception = SyncException.objects.create(
        tenant=integration.tenant, integration=integration, key_hash=key, title=title, **kw
    )
    ExceptionOpening.objects.create(
        exception=exception,
        tenant=exception.tenant,
        priority=exception.priority,
        opened_at=exception.opened_at,
        regressed=exception.regressed,
        acknowledged_at=exception.acknowledged_at,
        resolved_at=exception.resolved_at,
    )
    return exception


def make_failure(exception, run=None, record_id=None, **kw):
    """One occurrence of ``exception`` in ``run`` (a new run when None); the
    exception's counters follow."""
    from django.db.models import F
    from django.utils import timezone

    from integrations.models import Failure, SyncException

    run = run or make_run(exception.integration)
    kw.setdefault("entity", exception.entity)
    kw.setdefault("error_code", exception.error_code)
    kw.setdefault("error_class", exception.error_class)
    kw.setdefault("message", exception.title)
    kw.setdefault("operation", "create")
    kw.setdefault("occurred_at", timezone.now())
    kw.setdefault("payload", {"employee": "E-17", "hours": 7.5, "project": "P-77"})
    kw.setdefault("response", {"status": 400, "body": '{"code":"ERP-4001"}'})
    failure = Failure.objects.create(
        run=run,
        tenant=exception.tenant,
        integration=exception.integration,
        exception=exception,
        record_id=record_id or f"TE-{next(_seq)}",
        **kw,
    )
    SyncException.objects.filter(pk=exception.pk).update(occurrences=F("occurrences") + 1, records=F("records") + 1)
    exception.refresh_from_db(fields=["occurrences", "records"])
    return failure


def make_clock_objective(tenant, objective, priority, within_business_minutes, target=95, plan=None):
    """An acknowledge or resolve objective of ``tenant`` (or of ``plan``)."""
    from sla.models import Objective

    owner = {"plan": plan} if plan is not None else {"tenant": tenant}
    return Objective.objects.create(
        objective=objective,
        priority=priority,
        target=target,
        within_business_minutes=within_business_minutes,
        **owner,
    )


# --- SLA: runs, openings, objectives and windows --------------------------------


def make_run_at(integration, started_at, status="succeeded", run_id=None, rollup=True, **kw):
    """A run written with the ORM, then the SLA rollups of its day rebuilt as
    the ingest transaction does (``sla.rollups.runs_changed``)."""
    from datetime import timedelta

    from integrations.models import Run
    from sla.rollups import runs_changed

    if status != "running":
        kw.setdefault("finished_at", started_at + timedelta(seconds=30))
    run, _ = Run.objects.update_or_create(
        integration=integration,
        run_id=run_id or f"run-{next(_seq)}",
        defaults={"tenant": integration.tenant, "status": status, "started_at": started_at, **kw},
    )
    if rollup:
        runs_changed(integration.tenant_id, [run.pk])
    return run


def make_opening(integration, opened_at, priority="P1", **kw):
    """An exception with one opening (further openings: pass ``exception``)."""
    from integrations.models import ExceptionOpening, SyncException

    exc = kw.pop("exception", None)
    if exc is None:
        n = next(_seq)
        exc = SyncException.objects.create(
            tenant=integration.tenant,
            integration=integration,
            key_hash=f"{n:064x}",
            fingerprint=f"fp-{n}",
            grouped_by="message",
            title=f"Failure {n}",
            entity="time_entry",
            priority=priority,
            opened_at=opened_at,
        )
    return ExceptionOpening.objects.create(
        exception=exc, tenant=integration.tenant, priority=priority, opened_at=opened_at, **kw
    )


def make_plan(partner, name="gold", objectives=()):
    """A plan with ``objectives``: dicts with the keys of a plan entry."""
    from sla.models import Objective, Plan

    plan = Plan.objects.create(partner=partner, name=name)
    for o in objectives:
        Objective.objects.create(plan=plan, **o)
    return plan


def make_objective(owner, **kw):
    """An objective of a tenant or an integration (by the owner's type)."""
    from integrations.models import Integration
    from sla.models import Objective

    key = "integration" if isinstance(owner, Integration) else "tenant"
    return Objective.objects.create(**{key: owner}, **kw)


def make_window(tenant, start, end, integrations=(), note=""):
    from sla.models import MaintenanceWindow

    w = MaintenanceWindow.objects.create(tenant=tenant, start=start, end=end, note=note)
    if integrations:
        w.integrations.set(integrations)
    return w


def run_doc(run_id="run-1", integration="time-expense-posting", **kw):
    """A valid finished run document (contract 3.1) for ``POST /api/v1/runs``."""
    doc = {
        "integration": integration,
        "run_id": run_id,
        "status": "succeeded",
        "started_at": "2026-11-26T10:00:00Z",
        "finished_at": "2026-11-26T10:01:30Z",
    }
    doc.update(kw)
    return doc


def failure_doc(record_id="TE-1", entity="time_entry", message="Project P-77 is closed in the ERP", **kw):
    """One failure item of a run document."""
    item = {"entity": entity, "record_id": record_id, "message": message}
    item.update(kw)
    return item


def make_exception_with_records(integration, record_ids=("TE-1001", "TE-1002"), **kw):
    """An open exception with one failure per record id, all in one run."""
    exception = make_exception(integration, **kw)
    run = make_run(integration)
    for record_id in record_ids:
        make_failure(
            exception, run=run, record_id=record_id, message=f"Project P-77 is closed in the ERP ({record_id})"
        )
    exception.refresh_from_db()
    return exception
