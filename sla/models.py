"""SLA objectives (plan, tenant and integration level), maintenance windows
and alert channels, as configured by apply_config (contract section 1)."""

from django.db import models
from django.db.models import Q
from django.utils import timezone

from integrations.models import Integration, Priority
from opsconsole.models import Partner, Tenant


class Plan(models.Model):
    """A reusable set of objectives, such as "gold"."""

    partner = models.ForeignKey(Partner, on_delete=models.CASCADE, related_name="plans")
    name = models.SlugField(max_length=63)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["partner", "name"], name="plan_partner_name")]

    def __str__(self):
        return f"{self.partner.slug}/{self.name}"


class ObjectiveKind(models.TextChoices):
    RUN_SUCCESS = "run_success"
    RECORD_SUCCESS = "record_success"
    FRESHNESS = "freshness"
    TIMELINESS = "timeliness"
    ACKNOWLEDGE = "acknowledge"
    RESOLVE = "resolve"


# Tenant-wide only: integration-level entries may not name these.
TENANT_WIDE_KINDS = (ObjectiveKind.ACKNOWLEDGE, ObjectiveKind.RESOLVE)


class Objective(models.Model):
    """One SLA objective at exactly one level: a plan's, a tenant's addition or
    override, or an integration's override. Identity = (objective, priority)."""

    plan = models.ForeignKey(Plan, null=True, blank=True, on_delete=models.CASCADE, related_name="objectives")
    tenant = models.ForeignKey(Tenant, null=True, blank=True, on_delete=models.CASCADE, related_name="objectives")
    integration = models.ForeignKey(
        Integration, null=True, blank=True, on_delete=models.CASCADE, related_name="objectives"
    )
    objective = models.CharField(max_length=20, choices=ObjectiveKind.choices)
    priority = models.CharField(max_length=2, choices=Priority.choices, null=True, blank=True)
    target = models.DecimalField(max_digits=9, decimal_places=5)
    threshold_minutes = models.PositiveIntegerField(null=True, blank=True)
    within_business_minutes = models.PositiveIntegerField(null=True, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=(
                    Q(plan__isnull=False, tenant__isnull=True, integration__isnull=True)
                    | Q(plan__isnull=True, tenant__isnull=False, integration__isnull=True)
                    | Q(plan__isnull=True, tenant__isnull=True, integration__isnull=False)
                ),
                name="objective_one_level",
            ),
        ]

    def __str__(self):
        owner = self.plan or self.tenant or self.integration
        suffix = f" {self.priority}" if self.priority else ""
        return f"{owner}: {self.objective}{suffix} {self.target}"

    @property
    def identity(self):
        return (self.objective, self.priority)


class MaintenanceWindow(models.Model):
    """A planned window left out of SLA; no integrations named means all."""

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="maintenance_windows")
    start = models.DateTimeField()
    end = models.DateTimeField()
    note = models.TextField(blank=True)
    integrations = models.ManyToManyField(Integration, blank=True, related_name="maintenance_windows")

    class Meta:
        ordering = ["start"]

    def __str__(self):
        return f"{self.tenant.slug} maintenance {self.start}–{self.end}"


class AlertChannel(models.Model):
    class Kind(models.TextChoices):
        WEBHOOK = "webhook"
        EMAIL = "email"
        SLACK = "slack"
        TEAMS = "teams"

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="alert_channels")
    position = models.PositiveIntegerField()
    channel = models.CharField(max_length=16, choices=Kind.choices)
    url = models.URLField(max_length=2000, blank=True)
    secret = models.CharField(max_length=500, blank=True)
    to = models.JSONField(default=list, blank=True)
    events = models.JSONField(default=list, blank=True)
    min_priority = models.CharField(max_length=2, choices=Priority.choices, null=True, blank=True)
    created = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["tenant", "position"]
        constraints = [models.UniqueConstraint(fields=["tenant", "position"], name="alertchannel_tenant_position")]

    def __str__(self):
        return f"{self.tenant.slug} {self.channel} #{self.position}"


class RollupFields(models.Model):
    """What a rollup row holds, for an hour bucket (RunHour) or a local day
    (RunDay); sla.rollups builds both the same way."""

    # Finished runs by status, and runs still running.
    succeeded = models.BigIntegerField(default=0)
    partial = models.BigIntegerField(default=0)
    failed = models.BigIntegerField(default=0)
    running = models.BigIntegerField(default=0)
    # Sums of records over finished runs.
    rec_succeeded = models.BigIntegerField(default=0)
    rec_failed = models.BigIntegerField(default=0)
    rec_skipped = models.BigIntegerField(default=0)
    # Finished runs that reported lag_seconds, by whole minutes rounded up:
    # {"minutes": count}. Answers freshness for any threshold.
    lag_hist = models.JSONField(default=dict, blank=True)
    # Heartbeats (epoch seconds): the first and the last of the day, and the
    # late seconds between consecutive heartbeats of the day (every + grace
    # after one, until the next), outside maintenance windows. Gaps across
    # days are worked out from hb_last and the next day's hb_first.
    hb_first = models.FloatField(null=True, blank=True)
    hb_last = models.FloatField(null=True, blank=True)
    hb_late = models.FloatField(default=0.0)
    basis = models.TextField(blank=True)
    updated = models.DateTimeField(default=timezone.now)

    class Meta:
        abstract = True


class RunHour(RollupFields):
    """The rollup of one integration's runs over one bucket: a UTC hour, cut
    at the tenant's local midnights (so every bucket lies in one local day).
    The ingest path rebuilds the buckets its runs fall in from their raw runs
    (a few dozen runs), then the day rows (``RunDay``) from their buckets.
    Same fields and meaning as ``RunDay``."""

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+")
    integration = models.ForeignKey(Integration, on_delete=models.CASCADE, related_name="run_hours")
    start = models.DateTimeField()
    end = models.DateTimeField()
    day = models.DateField()

    class Meta:
        constraints = [
            # One row per integration and bucket; ingest upserts and locks by it.
            models.UniqueConstraint(fields=["integration", "start"], name="runhour_integration_start"),
        ]
        indexes = [
            # Day rows are rebuilt from the buckets of their day.
            models.Index(fields=["integration", "day"], name="runhour_integration_day"),
        ]

    def __str__(self):
        return f"{self.integration_id} {self.start}"


class RunDay(RollupFields):
    """Rollup of one integration's runs over one day of the tenant's calendar,
    runs inside maintenance windows left out: what the SLA and trends read
    instead of the raw runs (contract 4.4, 4.5). Rebuilt from the raw runs of
    the day whenever runs of that day are written; never deleted by the
    retention purge, so closed months keep their figures.

    ``basis`` records what the row was built under (time zone, every + grace,
    maintenance windows touching the day); a row whose basis no longer matches
    is rebuilt from the raw runs when they are still kept."""

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+")
    integration = models.ForeignKey(Integration, on_delete=models.CASCADE, related_name="run_days")
    day = models.DateField()

    class Meta:
        constraints = [
            # One row per integration and day; the SLA reads a month by range.
            models.UniqueConstraint(fields=["integration", "day"], name="runday_integration_day"),
        ]
        indexes = [
            # Trends and the SLA of a tenant over a range of days.
            models.Index(fields=["tenant", "day"], name="runday_tenant_day"),
        ]

    def __str__(self):
        return f"{self.integration_id} {self.day}"


class LagMonth(models.Model):
    """The lag histograms of one integration's day rows (``RunDay``) over one
    month of the tenant's calendar, added up: what the freshness objective
    reads for the whole months of a window, so that its cost does not grow
    with the number of distinct lag minutes of each day. Always the exact sum
    of the month's day rows: ``sla.rollups`` rewrites it from them whenever
    it writes one of them, in the same transaction."""

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+")
    integration = models.ForeignKey(Integration, on_delete=models.CASCADE, related_name="lag_months")
    month = models.DateField()  # first day of the local month
    lag_hist = models.JSONField(default=dict, blank=True)
    updated = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            # One row per integration and month; the rollup writer upserts by it.
            models.UniqueConstraint(fields=["integration", "month"], name="lagmonth_integration_month"),
        ]
        indexes = [
            # The portfolio reads every integration of many tenants for one month.
            models.Index(fields=["tenant", "month"], name="lagmonth_tenant_month"),
        ]

    def __str__(self):
        return f"{self.integration_id} {self.month:%Y-%m}"


class IssuedReport(models.Model):
    """One issued version of a tenant's report for a closed month (contract 5):
    the PDF and CSV bytes exactly as served, and the figures the HTML shows.
    Never altered; a re-issue adds version N + 1. Written only by
    ``sla.reports.issuing``."""

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="issued_reports")
    period = models.CharField(max_length=7)  # YYYY-MM of the tenant's calendar
    version = models.PositiveIntegerField()
    issued_at = models.DateTimeField(default=timezone.now)
    # A user's e-mail, or "system" for the monthly schedule and first requests by keys.
    issued_by = models.CharField(max_length=320)
    pdf = models.BinaryField()
    csv = models.BinaryField()
    figures = models.JSONField()
    pdf_sha256 = models.CharField(max_length=64)
    csv_sha256 = models.CharField(max_length=64)

    class Meta:
        constraints = [
            # One row per version: two first requests at once issue version 1 once.
            models.UniqueConstraint(fields=["tenant", "period", "version"], name="issuedreport_tenant_period_version"),
        ]
        indexes = [
            # GET /api/v1/reports?tenant=… newest first, and the archive page.
            models.Index(fields=["tenant", "-period", "-version"], name="issuedreport_tenant_newest"),
        ]

    def __str__(self):
        return f"{self.tenant.slug} {self.period} v{self.version}"


class DeliveryStatus(models.TextChoices):
    PENDING = "pending"
    SENT = "sent"
    RETRYING = "retrying"
    FAILED = "failed"


class ReportDelivery(models.Model):
    """The monthly e-mail of a tenant's report for one period: created once
    (so running the schedule twice mails once), retried on failure, shown on
    the tenant's report archive. Written only by ``sla.reports.delivery``."""

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="report_deliveries")
    period = models.CharField(max_length=7)
    report = models.ForeignKey(IssuedReport, on_delete=models.CASCADE, related_name="deliveries")
    recipients = models.JSONField(default=list)
    status = models.CharField(max_length=16, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    created = models.DateTimeField(default=timezone.now)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["-period", "-created"]
        constraints = [
            # The schedule mails each tenant's month once, however often it runs.
            models.UniqueConstraint(fields=["tenant", "period"], name="reportdelivery_tenant_period"),
        ]
        indexes = [
            # The schedule's sweep of deliveries waiting for a (re)try.
            models.Index(
                fields=["next_attempt_at"],
                name="reportdelivery_due",
                condition=Q(status__in=["pending", "retrying"]),
            ),
        ]

    def __str__(self):
        return f"{self.tenant.slug} {self.period} delivery ({self.status})"
