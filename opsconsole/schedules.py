"""Recurring django-q2 tasks, created or updated by name by
``python manage.py ensure_schedules`` (run at every deployment/start).

Each app adds its entries to SCHEDULES; a name identifies a schedule, so
changing an entry here updates the existing row instead of adding a second.
"""

from dataclasses import dataclass
from datetime import timedelta

from django.utils import timezone


@dataclass(frozen=True)
class ScheduleSpec:
    name: str
    func: str  # dotted path of a function taking primitives only
    schedule_type: str  # django_q.models.Schedule.MINUTES, HOURLY, DAILY, ...
    minutes: int | None = None  # for MINUTES
    # First run: this many minutes past the next full hour (UTC), so daily
    # jobs run at a quiet, predictable time rather than at deploy time.
    first_run_minute: int = 0
    first_run_hour: int | None = None

    def first_run(self, now=None):
        now = now or timezone.now()
        if self.schedule_type == "I" and self.minutes:
            # Every few minutes: start one interval after the deployment.
            return now + timedelta(minutes=self.minutes)
        start = now.replace(minute=self.first_run_minute, second=0, microsecond=0)
        if self.first_run_hour is not None:
            start = start.replace(hour=self.first_run_hour)
            while start <= now:
                start += timedelta(days=1)
        else:
            while start <= now:
                start += timedelta(hours=1)
        return start


SCHEDULES = [
    # Contract section 1: runs, logs and failures older than retention_days.
    ScheduleSpec(
        "retention.purge_expired", "integrations.retention.purge_expired", "D", first_run_hour=3, first_run_minute=17
    ),
    # Contract 3.3 and 3.6: queue expired replay leases again (claims do it too)
    # and deliver pushed replays whose next try has come, including a delivery
    # whose queue worker died.
    ScheduleSpec("replay-housekeeping", "integrations.tasks.replay_housekeeping", "I", minutes=1),
    # Contract 5: on each partner's report day, issue every tenant's report of
    # the month just closed and mail it to the tenant's report_recipients;
    # failed sends are retried here too. Mails each month once however often it runs.
    ScheduleSpec("reports.deliver_monthly", "sla.reports.tasks.deliver_monthly", "I", minutes=5),
    # Contract section 6: heartbeat states of scheduled integrations, cleared
    # episodes, delivery retries, and the burn-rate and breach checks per tenant.
    ScheduleSpec("alerts-evaluate", "alerts.tasks.evaluate", "I", minutes=1),
]
