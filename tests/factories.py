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


# -- runs, failures, exceptions (written through the ORM; used by replay tests) --


def make_run(integration, run_id=None, **kw):
    from django.utils import timezone

    from integrations.models import Run

    now = timezone.now()
    kw.setdefault("status", "partial")
    kw.setdefault("started_at", now)
    kw.setdefault("finished_at", now)
    return Run.objects.create(
        tenant=integration.tenant, integration=integration, run_id=run_id or f"run-{next(_seq)}", **kw
    )


def make_exception(integration, **kw):
    import hashlib

    from integrations.models import ExceptionOpening, SyncException

    n = next(_seq)
    kw.setdefault("title", "Project P-<n> is closed in the ERP")
    kw.setdefault("entity", "time_entry")
    kw.setdefault("error_code", f"ERP-{4000 + n}")
    kw.setdefault("error_class", "validation")
    kw.setdefault("grouped_by", "error_code")
    key_hash = hashlib.sha256(f"exc-{n}".encode()).hexdigest()
    kw.setdefault("fingerprint", key_hash)
    exception = SyncException.objects.create(
        tenant=integration.tenant, integration=integration, key_hash=key_hash, **kw
    )
    ExceptionOpening.objects.create(
        exception=exception, tenant=exception.tenant, priority=exception.priority, opened_at=exception.opened_at
    )
    return exception


def make_failure(exception, record_id, run=None, **kw):
    """A failure of ``record_id`` in ``exception`` (a new run unless given)."""
    from django.utils import timezone

    from integrations.models import Failure

    run = run or make_run(exception.integration)
    kw.setdefault("entity", exception.entity)
    kw.setdefault("operation", "create")
    kw.setdefault("error_code", exception.error_code)
    kw.setdefault("error_class", exception.error_class)
    kw.setdefault("message", f"Project P-77 is closed in the ERP ({record_id})")
    kw.setdefault("occurred_at", timezone.now())
    kw.setdefault("payload", {"employee": "E-17", "hours": 7.5, "project": "P-77"})
    failure = Failure.objects.create(
        run=run,
        tenant=exception.tenant,
        integration=exception.integration,
        exception=exception,
        record_id=record_id,
        **kw,
    )
    type(exception).objects.filter(pk=exception.pk).update(
        occurrences=Failure.objects.filter(exception=exception).count(),
        records=Failure.objects.filter(exception=exception).values("entity", "record_id").distinct().count(),
        first_seen=failure.occurred_at if exception.first_seen is None else exception.first_seen,
        last_seen=failure.occurred_at,
    )
    return failure


def make_exception_with_records(integration, record_ids=("TE-1001", "TE-1002"), **kw):
    """An open exception with one failure per record id, all in one run."""
    exception = make_exception(integration, **kw)
    run = make_run(integration)
    for record_id in record_ids:
        make_failure(exception, record_id, run=run)
    exception.refresh_from_db()
    return exception
