"""Governance pages for partner admins and managers: portfolio heatmap,
backlog aging, response trends, late and down integrations, approvals
waiting, API keys, configuration changes, system-of-record matrix and the
audit log. Others get 403; a tenant outside the caller's reach 404."""

import json
from datetime import timedelta
from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Count
from django.shortcuts import render
from django.utils import timezone
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request

from governance import aging as backlog
from governance.access import governed_tenants_for, keys_for
from governance.changes import describe
from governance.heatmap import heatmap
from governance.periods import month_label, parse_month
from governance.portfolio import portfolio
from governance.records import matrix
from governance.responses import response_trends
from governance.trend_charts import response_figures
from integrations.models import Integration, Replay, ReplayStatus, System
from integrations.overview import Health, integration_rows
from integrations.query_params import text
from opsconsole.api import AuditLogView
from opsconsole.models import AuditEntry

# A key or token nobody used for this long is flagged for review.
UNUSED_AFTER = timedelta(days=90)
PAGE_SIZE = 50


def bad_request(request, exc):
    """A malformed parameter: 400, naming it (as the API would)."""
    detail = exc.detail if isinstance(exc.detail, dict) else {"parameter": exc.detail}
    problems = [(name, " ".join(str(m) for m in msgs)) for name, msgs in detail.items()]
    return render(request, "governance/bad_request.html", {"problems": problems}, status=400)


def _tenants(request):
    """The tenants a page covers: ?tenant= (404 out of reach) or all (403 by role)."""
    return governed_tenants_for(request.user, text(request.GET, "tenant", max_length=63))


@login_required
def portfolio_page(request):
    tenants = _tenants(request)
    try:
        year, month = parse_month(request.GET.get("period"))
    except ValidationError as exc:
        return bad_request(request, exc)
    entries = portfolio(tenants, year, month)
    sort = request.GET.get("sort") or "name"
    columns, lines = heatmap(entries, sort)
    context = {
        "period": month_label(year, month),
        "columns": columns,
        "lines": lines,
        "sort": sort,
        "sort_keys": ["name", "worst", *(c.key for c in columns)],
    }
    return render(request, "governance/portfolio.html", context)


@login_required
def aging_page(request):
    tenants = _tenants(request)
    rows, totals, shared = backlog.aging(tenants, timezone.now())
    total_cells = [
        (
            p,
            [
                (totals.get((p, b.key), 0), backlog.inbox_url(None, p, b, shared) if shared else None)
                for b in backlog.BUCKETS
            ],
        )
        for p in backlog.PRIORITIES
    ]
    context = {
        "rows": [(r, [(p, r.cells(p)) for p in backlog.PRIORITIES]) for r in rows],
        "buckets": backlog.BUCKETS,
        "total_cells": total_cells,
        "grand": [sum(totals.get((p, b.key), 0) for p in backlog.PRIORITIES) for b in backlog.BUCKETS],
        "shared": shared is not None,
    }
    return render(request, "governance/aging.html", context)


@login_required
def responses_page(request):
    slug = text(request.GET, "tenant", max_length=63)
    tenants = governed_tenants_for(request.user, slug)
    everyone = list(governed_tenants_for(request.user).order_by("name").only("slug", "name"))
    per_tenant, partner = response_trends(tenants, timezone.now())
    if slug:
        tenant, series = next(iter(per_tenant.items()))
        title = tenant.name
    else:
        tenant, series, title = None, partner, "All tenants"
    figures = response_figures(series.points(), title) if series.openings else []
    context = {
        "tenant": None,
        "chosen": tenant,
        "tenants": everyone,
        "series": series,
        "points": series.points(),
        "figures": figures,
        "per_tenant": [(t, s, s.overall()) for t, s in per_tenant.items()] if not slug else [],
    }
    return render(request, "governance/responses.html", context)


@login_required
def health_page(request):
    tenants = _tenants(request)
    now = timezone.now()
    rows = [r for r in integration_rows(tenants, now) if r.health != Health.UP]
    items = []
    for r in rows:
        i = r.integration
        since = _trouble_since(i, r, now)
        items.append({"row": r, "since": since, "for_seconds": (now - since).total_seconds() if since else None})
    order = {Health.DOWN: 0, Health.LATE: 1, Health.NEW: 2}
    items.sort(key=lambda x: (order.get(x["row"].health, 9), -(x["for_seconds"] or 0)))
    return render(request, "governance/health.html", {"items": items, "now": now})


def _trouble_since(integration, row, now):
    """When the integration became late (its episode started), or was created when new."""
    if row.health == Health.NEW:
        return integration.created
    last = row.last_heartbeat
    if last is None or not integration.has_schedule:
        return None
    return last + timedelta(minutes=integration.every_minutes + (integration.grace_minutes or 0))


@login_required
def approvals_page(request):
    tenants = _tenants(request)
    replays = (
        Replay.objects.filter(tenant__in=tenants, status=ReplayStatus.PENDING_APPROVAL)
        .select_related("tenant", "integration", "requested_by")
        .annotate(record_count=Count("records"))
        .order_by("created_at")
    )
    return render(request, "governance/approvals.html", {"replays": replays, "now": timezone.now()})


@login_required
def keys_page(request):
    slug = text(request.GET, "tenant", max_length=63)
    tenants = governed_tenants_for(request.user, slug)
    keys = keys_for(request.user)
    if slug:
        keys = keys.filter(tenant__in=tenants)
    keys = keys.order_by("revoked_at", "tenant__name", "user__email", "name")
    now = timezone.now()
    items = []
    for k in keys:
        used = k.last_used_at or k.created
        items.append(
            {
                "key": k,
                "age": (now - k.created).total_seconds(),
                "unused": k.revoked_at is None and now - used >= UNUSED_AFTER,
            }
        )
    unused = sum(1 for x in items if x["unused"])
    return render(request, "governance/keys.html", {"items": items, "unused": unused, "now": now})


@login_required
def changes_page(request):
    _tenants(request)  # a tenant named out of reach is a 404 here too
    entries = AuditEntry.objects.filter(action="config.apply").order_by("-at", "-id")
    if request.user.partner_id is not None:
        entries = entries.filter(partner_id=request.user.partner_id)
    page = Paginator(entries, 20).get_page(request.GET.get("page"))
    return render(request, "governance/changes.html", {"page": page, "changes": [describe(e) for e in page]})


@login_required
def records_page(request):
    tenants = list(_tenants(request).order_by("name"))
    systems, integrations = {}, {}
    for s in System.objects.filter(tenant__in=tenants):
        systems.setdefault(s.tenant_id, []).append(s)
    for i in Integration.objects.filter(tenant__in=tenants).select_related("source", "target").order_by("slug"):
        integrations.setdefault(i.tenant_id, []).append(i)
    sections = [(t, matrix(t, systems.get(t.pk, []), integrations.get(t.pk, []))) for t in tenants]
    flagged = sum(len(r.flags) for _t, rows in sections for r in rows)
    return render(request, "governance/records.html", {"sections": sections, "flagged": flagged})


def audit_entries(request):
    """The entries ``GET /api/v1/audit`` lists for this request's filters
    (the same code: 400 malformed, 404 tenant out of reach, 403 role)."""
    view = AuditLogView()
    drf_request = Request(request)
    drf_request.user = request.user
    view.request, view.format_kwarg, view.kwargs = drf_request, None, {}
    return view.get_queryset()


@login_required
def audit_page(request):
    governed_tenants_for(request.user, text(request.GET, "tenant", max_length=63))
    try:
        entries = audit_entries(request)
    except ValidationError as exc:
        return bad_request(request, exc)
    page = Paginator(entries, PAGE_SIZE).get_page(request.GET.get("page"))
    filters = {k: request.GET.get(k, "") for k in ("tenant", "actor", "action", "from", "to")}
    query = urlencode({k: v for k, v in filters.items() if v})
    context = {
        "page": page,
        "filters": filters,
        "csv_url": "/api/v1/audit.csv" + (f"?{query}" if query else ""),
        "query": query,
        "tenants": list(governed_tenants_for(request.user).order_by("name").only("slug", "name")),
        "rows": [(e, json.dumps(e.data, ensure_ascii=False, sort_keys=True) if e.data else "") for e in page],
    }
    return render(request, "governance/audit.html", context)
