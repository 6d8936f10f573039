"""Operations endpoints (contract section 7): /healthz and /metrics."""

from django.conf import settings
from django.db import connection
from django.http import HttpResponse, JsonResponse
from django.utils import timezone
from django.utils.module_loading import import_string
from django.views.decorators.http import require_GET

from opsconsole import disk_full, metrics


@require_GET
def healthz(request):
    """200 when the database (and Redis, when REDIS_URL is set) answers and the
    queue moves; else 503 naming what failed (contract section 7)."""
    body = {"status": "ok", "database": "ok", "queue": "ok"}
    if settings.REDIS_URL:
        body["redis"] = redis_health()
    body["database"] = database_health()
    if body["database"] != "ok":
        body["queue"] = "unknown"
    else:
        body["queue"] = queue_health()
    failed = [name for name, value in body.items() if name != "status" and value != "ok"]
    if failed:
        body["status"] = "error"
        return JsonResponse(body, status=503, headers={"Retry-After": "30"})
    return JsonResponse(body)


def database_health():
    """ "ok" when the database answers and takes writes: not read-only, and
    its disk not full (opsconsole.disk_full)."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:  # noqa: BLE001 - any database failure is a 503
        return f"error: {type(exc).__name__}"
    if connection.vendor == "postgresql":
        # A read-only database (a standby, or one set read-only after its disk
        # filled) answers SELECT 1 but refuses every write.
        try:
            with connection.cursor() as cursor:
                cursor.execute("SHOW transaction_read_only")
                read_only = cursor.fetchone()[0] == "on"
        except Exception as exc:  # noqa: BLE001
            return f"error: {type(exc).__name__}"
        if read_only:
            return "error: read-only (writes are refused)"
    return _disk_space_health()


def _disk_space_health():
    """ "ok" unless the database's disk is full: a write needing new space
    fails now, or a request's did lately. SELECT 1 cannot tell: reads go on."""
    try:
        disk_full.probe()
    except Exception as exc:  # noqa: BLE001
        if disk_full.is_disk_full(exc):
            return "error: disk full (the database cannot write to its disk; reads still answer)"
        return f"error: {type(exc).__name__}"
    ago = disk_full.seconds_since_seen()
    if ago is not None:
        return f"error: disk full (a request's write failed for lack of space {ago:.0f} s ago)"
    return "ok"


def redis_health():
    import redis

    client = redis.from_url(settings.REDIS_URL, socket_connect_timeout=2, socket_timeout=2)
    try:
        client.ping()
    except Exception as exc:  # noqa: BLE001 - down, refusing, or hung
        return f"error: {type(exc).__name__}"
    finally:
        client.close()
    return "ok"


def queue_health():
    """ "ok" when the django-q2 broker answers and no queued task has waited
    more than 10 minutes without a cluster to run it."""
    if settings.REDIS_URL:
        return _redis_queue_health()
    from django_q.models import OrmQ

    try:
        oldest = OrmQ.objects.order_by("lock", "id").values_list("lock", flat=True).first()
    except Exception as exc:  # noqa: BLE001
        return f"error: {type(exc).__name__}"
    if oldest is not None and (timezone.now() - oldest).total_seconds() > 600:
        return "error: tasks waiting over 10 minutes (is qcluster running?)"
    return "ok"


def _redis_queue_health():
    from django_q.brokers import get_broker
    from django_q.status import Stat

    try:
        broker = get_broker()
        waiting = broker.queue_size()
        clusters = Stat.get_all(broker=broker)
    except Exception as exc:  # noqa: BLE001 - Redis unreachable
        return f"error: Redis unreachable ({type(exc).__name__}); tasks wait in the database until it answers"
    if waiting and not clusters:
        return f"error: {waiting} tasks waiting and no queue worker running (is qcluster running?)"
    return "ok"


def queue_depth():
    """Tasks waiting for a queue worker (Redis or the ORM queue table)."""
    from django_q.models import OrmQ

    depth = OrmQ.objects.count()  # on Redis: tasks queued while it was down
    if settings.REDIS_URL:
        from django_q.brokers import get_broker

        try:
            depth += get_broker().queue_size()
        except Exception:  # noqa: BLE001, S110 - /healthz says Redis is down
            pass
    return depth


@require_GET
def metrics_view(request):
    lines = []
    lines += metrics.render_counters()
    lines.append("# HELP opsconsole_queue_depth Tasks waiting in the django-q2 queue.")
    lines.append("# TYPE opsconsole_queue_depth gauge")
    lines.append(f"opsconsole_queue_depth {queue_depth()}")
    # Each app's gauges, named in settings: this floor imports no app.
    for path in settings.OPSCONSOLE_METRICS_GAUGES:
        lines += import_string(path)()
    return HttpResponse("\n".join(lines) + "\n", content_type="text/plain; version=0.0.4; charset=utf-8")
