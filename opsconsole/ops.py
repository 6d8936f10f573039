"""Operations endpoints (contract section 7): /healthz and /metrics."""

from django.conf import settings
from django.db import connection
from django.http import HttpResponse, JsonResponse
from django.utils import timezone
from django.utils.module_loading import import_string
from django.views.decorators.http import require_GET

from opsconsole import metrics


@require_GET
def healthz(request):
    body = {"status": "ok", "database": "ok", "queue": "ok"}
    code = 200
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:  # noqa: BLE001 - any database failure is a 503
        body["database"] = f"error: {type(exc).__name__}"
        body["queue"] = "unknown"
        body["status"] = "error"
        return JsonResponse(body, status=503)
    queue = queue_health()
    if queue != "ok":
        body["queue"] = queue
        body["status"] = "error"
        code = 503
    return JsonResponse(body, status=code)


def queue_health():
    """ "ok" when the django-q2 broker answers and no queued task has waited
    more than 10 minutes without a cluster to run it."""
    from django_q.models import OrmQ

    try:
        oldest = OrmQ.objects.order_by("lock", "id").values_list("lock", flat=True).first()
    except Exception as exc:  # noqa: BLE001
        return f"error: {type(exc).__name__}"
    if oldest is not None and (timezone.now() - oldest).total_seconds() > 600:
        return "error: tasks waiting over 10 minutes (is qcluster running?)"
    return "ok"


@require_GET
def metrics_view(request):
    from django_q.models import OrmQ

    lines = []
    lines += metrics.render_counters()
    lines.append("# HELP opsconsole_queue_depth Tasks waiting in the django-q2 queue.")
    lines.append("# TYPE opsconsole_queue_depth gauge")
    lines.append(f"opsconsole_queue_depth {OrmQ.objects.count()}")
    # Each app's gauges, named in settings: this floor imports no app.
    for path in settings.OPSCONSOLE_METRICS_GAUGES:
        lines += import_string(path)()
    return HttpResponse("\n".join(lines) + "\n", content_type="text/plain; version=0.0.4; charset=utf-8")
