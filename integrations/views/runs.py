"""Integration pages (``/t/<tenant>/i/<integration>/``: health and recent
runs) and run pages (``/runs/<id>/``: structured logs and failures)."""

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Max
from django.shortcuts import render

from integrations.access import get_integration_for_user, get_run_for_user
from integrations.models import OPEN_STATUSES, LogLevel, Run, RunLog, Trigger
from integrations.overview import health_of

RUNS_PER_PAGE = 50
LOGS_PER_PAGE = 200
FAILURES_PER_PAGE = 50
LEVELS = list(LogLevel.values)


@login_required
def integration_page(request, tenant, integration):
    integration = get_integration_for_user(request.user, tenant, integration)
    last_heartbeat = (
        Run.objects.filter(integration=integration)
        .exclude(trigger=Trigger.REPLAY)
        .aggregate(last=Max("started_at"))["last"]
    )
    runs = Paginator(Run.objects.filter(integration=integration).order_by("-started_at", "-id"), RUNS_PER_PAGE)
    page = runs.get_page(request.GET.get("page"))
    open_exceptions = integration.exceptions.filter(status__in=OPEN_STATUSES).count()
    context = {
        "integration": integration,
        "tenant": integration.tenant,
        "health": health_of(integration, last_heartbeat),
        "last_heartbeat": last_heartbeat,
        "page": page,
        "open_exceptions": open_exceptions,
    }
    return render(request, "integrations/integration.html", context)


@login_required
def run_page(request, pk):
    run = get_run_for_user(request.user, pk)
    level = request.GET.get("level") or "debug"
    if level not in LEVELS:
        level = "debug"
    # At the chosen level and above.
    logs = RunLog.objects.filter(run=run, level__in=LEVELS[LEVELS.index(level) :]).order_by("at", "id")
    log_page = Paginator(logs, LOGS_PER_PAGE).get_page(request.GET.get("logs"))
    failures = Paginator(
        run.failures.select_related("exception").order_by("entity", "record_id", "id"), FAILURES_PER_PAGE
    ).get_page(request.GET.get("failures"))
    context = {
        "run": run,
        "tenant": run.tenant,
        "integration": run.integration,
        "level": level,
        "levels": LEVELS,
        "log_page": log_page,
        "failure_page": failures,
        "duration": (run.finished_at - run.started_at).total_seconds() if run.finished_at else None,
    }
    return render(request, "integrations/run.html", context)
