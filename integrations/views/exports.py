"""CSV exports of the inbox (``/inbox/export.csv``, with the inbox's current
filters, every matching exception rather than one page) and of an
integration's runs (``/t/<tenant>/i/<integration>/runs.csv``).

Reach first: the same access functions as the pages, so an exception or
integration outside the caller's tenants is never listed and an unknown or
unreachable tenant or integration is a 404. Every role that sees the page may
export it. Instants are the tenant's local time with its UTC offset (ISO 8601),
as the pages show them; text cells are neutralised and bounded
(``opsconsole.lib.csv_cells``)."""

from django.contrib.auth.decorators import login_required
from django.http import HttpResponseBadRequest, StreamingHttpResponse
from django.utils import timezone
from rest_framework.exceptions import ValidationError

from integrations.access import get_integration_for_user
from integrations.inbox import filter_exceptions
from integrations.models import Run
from opsconsole.lib.csv_cells import lines, neutralise
from opsconsole.lib.localtime import in_zone

CHUNK = 2000
EXCEPTION_HEADER = (
    "id",
    "priority",
    "status",
    "title",
    "tenant",
    "integration",
    "error_code",
    "error_class",
    "assignee",
    "occurrences",
    "records",
    "first_seen",
    "last_seen",
    "opened_at",
    "acknowledged_at",
    "resolved_at",
)
RUN_HEADER = (
    "run_id",
    "status",
    "trigger",
    "started_at",
    "finished_at",
    "processed",
    "succeeded",
    "failed",
    "skipped",
    "lag_seconds",
)


def local_iso(value, tenant):
    """``2026-12-01T10:05:00-06:00``: the instant in the tenant's zone."""
    if value is None:
        return ""
    return in_zone(value, tenant).isoformat(timespec="seconds")


def _attachment(rows, header, filename):
    response = StreamingHttpResponse(lines(header, rows), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "private, no-store"
    return response


@login_required
def inbox_csv(request):
    try:
        qs, _filters = filter_exceptions(request.user, request.GET, default_open=True, now=timezone.now())
    except ValidationError as exc:
        detail = exc.detail if isinstance(exc.detail, dict) else {"filter": exc.detail}
        text = "; ".join(f"{k}: {' '.join(str(m) for m in v)}" for k, v in detail.items())
        return HttpResponseBadRequest(f"Bad filter: {text}", content_type="text/plain")
    qs = qs.select_related("tenant", "integration", "assignee")

    def rows():
        for e in qs.iterator(chunk_size=CHUNK):
            t = e.tenant
            yield [
                e.pk,
                e.priority,
                e.status,
                neutralise(e.title),
                neutralise(t.slug),
                neutralise(e.integration.slug),
                neutralise(e.error_code),
                neutralise(e.error_class),
                neutralise(e.assignee.email if e.assignee_id else ""),
                e.occurrences,
                e.records,
                local_iso(e.first_seen, t),
                local_iso(e.last_seen, t),
                local_iso(e.opened_at, t),
                local_iso(e.acknowledged_at, t),
                local_iso(e.resolved_at, t),
            ]

    return _attachment(rows(), EXCEPTION_HEADER, "inbox.csv")


@login_required
def runs_csv(request, tenant, integration):
    integration = get_integration_for_user(request.user, tenant, integration)
    tenant = integration.tenant
    runs = Run.objects.filter(integration=integration).order_by("-started_at", "-id")

    def rows():
        for r in runs.iterator(chunk_size=CHUNK):
            yield [
                neutralise(r.run_id),
                r.status,
                r.trigger,
                local_iso(r.started_at, tenant),
                local_iso(r.finished_at, tenant),
                r.processed,
                r.succeeded,
                r.failed,
                r.skipped,
                "" if r.lag_seconds is None else r.lag_seconds,
            ]

    return _attachment(rows(), RUN_HEADER, f"{tenant.slug}-{integration.slug}-runs.csv")
