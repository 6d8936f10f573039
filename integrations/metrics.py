"""Gauges of integrations for ``/metrics`` (contract 7), listed in
``settings.OPSCONSOLE_METRICS_GAUGES``."""

from django.db.models import Count

from integrations.models import SyncException


def open_exceptions():
    """Open or acknowledged exceptions by priority, as Prometheus text lines."""
    lines = [
        "# HELP opsconsole_open_exceptions Open or acknowledged exceptions by priority.",
        "# TYPE opsconsole_open_exceptions gauge",
    ]
    by_priority = dict(
        SyncException.objects.open().values_list("priority").annotate(n=Count("id")).values_list("priority", "n")
    )
    for priority in ("P1", "P2", "P3", "P4"):
        lines.append(f'opsconsole_open_exceptions{{priority="{priority}"}} {by_priority.get(priority, 0)}')
    return lines
