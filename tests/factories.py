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
