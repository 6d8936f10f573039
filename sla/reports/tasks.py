"""django-q2 tasks of the reports (primitives only)."""

from sla.reports import delivery


def deliver_monthly():
    """Scheduled every 5 minutes (opsconsole.schedules): issue and mail the
    reports whose day has come, retry failed sends."""
    return delivery.deliver_monthly()
