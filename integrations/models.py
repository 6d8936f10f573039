"""Everything a sync worker touches: systems, integrations, API keys, runs,
failures, exceptions (grouped failures), routing and replays."""

import uuid

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone

from integrations.fields import WorkerJSONField
from opsconsole.models import Tenant


class Priority(models.TextChoices):
    P1 = "P1"
    P2 = "P2"
    P3 = "P3"
    P4 = "P4"


# Routing gives unmatched exceptions this priority (contract section 1).
DEFAULT_PRIORITY = Priority.P3


class System(models.Model):
    class Kind(models.TextChoices):
        CRM = "crm", "CRM"
        PSA = "psa", "PSA"
        ERP = "erp", "ERP"
        PAYROLL = "payroll", "Payroll"
        HR = "hr", "HR"
        BI = "bi", "BI"
        BILLING = "billing", "Billing"
        PROCUREMENT = "procurement", "Procurement"

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="systems")
    slug = models.SlugField(max_length=63)
    kind = models.CharField(max_length=16, choices=Kind.choices)
    product = models.CharField(max_length=200, blank=True)
    api_version = models.CharField(max_length=64, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["tenant", "slug"], name="system_tenant_slug")]

    def __str__(self):
        return f"{self.tenant.slug}/{self.slug}"


class Integration(models.Model):
    class Pattern(models.TextChoices):
        OPPORTUNITY_TO_PROJECT = "opportunity_to_project", "Opportunity to project"
        TIME_EXPENSE_POSTING = "time_expense_posting", "Time and expense posting"
        BILLING_MILESTONE_SYNC = "billing_milestone_sync", "Billing milestone sync"
        UTILIZATION_ANALYTICS = "utilization_analytics", "Utilization analytics"
        REVENUE_RECOGNITION = "revenue_recognition", "Revenue recognition"
        MASTER_DATA_SYNC = "master_data_sync", "Master data sync"
        OTHER = "other", "Other"

    class Mode(models.TextChoices):
        BATCH = "batch", "Batch"
        EVENT = "event", "Event"

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="integrations")
    slug = models.SlugField(max_length=63)
    name = models.CharField(max_length=200)
    pattern = models.CharField(max_length=32, choices=Pattern.choices, default=Pattern.OTHER)
    source = models.ForeignKey(System, on_delete=models.PROTECT, related_name="+")
    target = models.ForeignKey(System, on_delete=models.PROTECT, related_name="+")
    entities = models.JSONField(default=list, blank=True)
    mode = models.CharField(max_length=8, choices=Mode.choices, default=Mode.BATCH)
    # Schedule: both null when the integration has none (no timeliness objective).
    every_minutes = models.PositiveIntegerField(null=True, blank=True)
    grace_minutes = models.PositiveIntegerField(null=True, blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="owned_integrations"
    )
    approval_required = models.BooleanField(default=False)
    replay_webhook_url = models.URLField(max_length=2000, blank=True)
    replay_webhook_secret = models.CharField(max_length=500, blank=True)
    replay_webhook_lease_seconds = models.PositiveIntegerField(default=3600)
    created = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["tenant", "slug"], name="integration_tenant_slug")]

    def __str__(self):
        return f"{self.tenant.slug}/{self.slug}"

    @property
    def has_schedule(self):
        return self.every_minutes is not None


class RoutingRule(models.Model):
    """First matching rule (by position) sets a new exception's priority,
    assignee and runbook. ``match`` keys: integration, entity, error_class,
    error_code (all given keys must equal) and min_amount (the first
    failure's amount is at least this, contract 1.1)."""

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="routing_rules")
    position = models.PositiveIntegerField()
    match = models.JSONField(default=dict, blank=True)
    priority = models.CharField(max_length=2, choices=Priority.choices, default=DEFAULT_PRIORITY)
    assign = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    runbook = models.TextField(blank=True)

    class Meta:
        ordering = ["tenant", "position"]
        constraints = [models.UniqueConstraint(fields=["tenant", "position"], name="routing_tenant_position")]

    def __str__(self):
        return f"{self.tenant.slug} rule {self.position}"


class Scope(models.TextChoices):
    INGEST = "ingest", "Ingest"
    READ = "read", "Read"


class ApiKeyQuerySet(models.QuerySet):
    def active(self):
        return self.filter(revoked_at__isnull=True)


class ApiKey(models.Model):
    """A tenant key (scopes ingest/read) or a user's personal token (acts with
    the user's role). The secret is shown once; only its SHA-256 is kept."""

    tenant = models.ForeignKey(Tenant, null=True, blank=True, on_delete=models.CASCADE, related_name="api_keys")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE, related_name="api_tokens"
    )
    name = models.CharField(max_length=200)
    # The part of the key before its first "."; unique, used to look the key up.
    prefix = models.CharField(max_length=32, unique=True)
    key_hash = models.CharField(max_length=64)
    scopes = models.JSONField(default=list, blank=True)
    created = models.DateTimeField(default=timezone.now)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    objects = ApiKeyQuerySet.as_manager()

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(tenant__isnull=False, user__isnull=True) | Q(tenant__isnull=True, user__isnull=False),
                name="apikey_tenant_xor_user",
            )
        ]

    def __str__(self):
        return f"{self.name} ({self.prefix})"

    @property
    def actor_label(self):
        if self.user_id:
            return self.user.email
        return f"key:{self.name}"


class RunStatus(models.TextChoices):
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    PARTIAL = "partial"
    FAILED = "failed"


FINISHED_STATUSES = (RunStatus.SUCCEEDED, RunStatus.PARTIAL, RunStatus.FAILED)


class Trigger(models.TextChoices):
    SCHEDULE = "schedule"
    EVENT = "event"
    MANUAL = "manual"
    REPLAY = "replay"


class RunQuerySet(models.QuerySet):
    def finished(self):
        return self.filter(status__in=FINISHED_STATUSES)

    def between(self, start, end):
        return self.filter(started_at__gte=start, started_at__lt=end)

    def for_tenant(self, tenant):
        return self.filter(tenant=tenant)


class Run(models.Model):
    # No single-column indexes on the foreign keys: the composite indexes
    # below lead with them and serve the same lookups; every index costs
    # each ingested row (docs/architecture.md, ingest).
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="runs", db_index=False)
    integration = models.ForeignKey(Integration, on_delete=models.CASCADE, related_name="runs", db_index=False)
    run_id = models.CharField(max_length=200)
    status = models.CharField(max_length=16, choices=RunStatus.choices)
    trigger = models.CharField(max_length=16, choices=Trigger.choices, default=Trigger.SCHEDULE)
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    replay = models.ForeignKey("Replay", null=True, blank=True, on_delete=models.SET_NULL, related_name="runs")
    processed = models.BigIntegerField(default=0)
    succeeded = models.BigIntegerField(default=0)
    failed = models.BigIntegerField(default=0)
    skipped = models.BigIntegerField(default=0)
    lag_seconds = models.BigIntegerField(null=True, blank=True)
    worker = WorkerJSONField(null=True, blank=True)
    received_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    objects = RunQuerySet.as_manager()

    class Meta:
        constraints = [
            # Idempotent re-posts upsert on the worker's natural key (contract 3.1).
            models.UniqueConstraint(fields=["integration", "run_id"], name="run_integration_run_id"),
        ]
        indexes = [
            # Integration pages (latest runs), health and SLA scans by time.
            models.Index(fields=["integration", "-started_at"], name="run_integration_started"),
            # GET /api/v1/runs?tenant=…, trends per tenant.
            models.Index(fields=["tenant", "-started_at"], name="run_tenant_started"),
        ]

    def __str__(self):
        return f"{self.integration} {self.run_id}"


class LogLevel(models.TextChoices):
    DEBUG = "debug"
    INFO = "info"
    WARNING = "warning"
    ERROR = "error"
    CRITICAL = "critical"


class RunLog(models.Model):
    run = models.ForeignKey(Run, on_delete=models.CASCADE, related_name="logs", db_index=False)  # runlog_run_digest
    at = models.DateTimeField()
    level = models.CharField(max_length=8, choices=LogLevel.choices)
    message = models.TextField()
    context = WorkerJSONField(null=True, blank=True)
    # md5 of (at, level, message): a re-posted run does not store its lines twice.
    digest = models.CharField(max_length=32)

    class Meta:
        ordering = ["at", "id"]
        constraints = [models.UniqueConstraint(fields=["run", "digest"], name="runlog_run_digest")]

    def __str__(self):
        return f"{self.at} {self.level} {self.message[:60]}"


class ExceptionStatus(models.TextChoices):
    OPEN = "open"
    ACKNOWLEDGED = "acknowledged"
    RESOLVED = "resolved"
    IGNORED = "ignored"


OPEN_STATUSES = (ExceptionStatus.OPEN, ExceptionStatus.ACKNOWLEDGED)


class GroupedBy(models.TextChoices):
    FINGERPRINT = "fingerprint"
    ERROR_CODE = "error_code"
    MESSAGE = "message"


class SyncExceptionQuerySet(models.QuerySet):
    def open(self):
        return self.filter(status__in=OPEN_STATUSES)

    def for_tenant(self, tenant):
        return self.filter(tenant=tenant)


class SyncException(models.Model):
    """A group of failures of one integration sharing a grouping key (4.1)."""

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="exceptions")
    integration = models.ForeignKey(Integration, on_delete=models.CASCADE, related_name="exceptions")
    # sha256 hex of the grouping key; unique per integration.
    key_hash = models.CharField(max_length=64)
    fingerprint = models.CharField(max_length=200)
    grouped_by = models.CharField(max_length=16, choices=GroupedBy.choices)
    title = models.TextField()
    entity = models.CharField(max_length=200)
    error_code = models.CharField(max_length=200, blank=True)
    error_class = models.CharField(max_length=200, blank=True)
    status = models.CharField(max_length=16, choices=ExceptionStatus.choices, default=ExceptionStatus.OPEN)
    priority = models.CharField(max_length=2, choices=Priority.choices, default=DEFAULT_PRIORITY)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="assigned_exceptions"
    )
    runbook = models.TextField(blank=True)
    # The routing rule that set priority, assignee and runbook when the
    # exception was created ("rule 2: error_class = validation"), or blank
    # when none matched; the page names it next to the runbook.
    routed_by = models.CharField(max_length=500, blank=True, db_default="")
    occurrences = models.BigIntegerField(default=0)
    records = models.BigIntegerField(default=0)
    first_seen = models.DateTimeField(null=True, blank=True)
    last_seen = models.DateTimeField(null=True, blank=True)
    opened_at = models.DateTimeField(default=timezone.now)
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    ignored_until = models.DateTimeField(null=True, blank=True)
    regressed = models.BooleanField(default=False)
    created = models.DateTimeField(default=timezone.now)
    # The next SLA deadline of the current opening: acknowledge while open,
    # resolve once acknowledged; null when closed or no objective applies.
    # Kept by sla.clock (next_deadline, refresh_due); the inbox orders by it.
    due_at = models.DateTimeField(null=True, blank=True)
    # Money held up (contract 4.1, 1.1): the sum of the amounts of the latest
    # failure of each record still failed, replay_requested or replay_failed
    # (null when none carries an amount), and the earliest book close among
    # the months those failures occurred in. Kept by every writer that
    # changes a record's state.
    open_amount = models.DecimalField(max_digits=20, decimal_places=4, null=True, blank=True)
    close_deadline = models.DateTimeField(null=True, blank=True)

    objects = SyncExceptionQuerySet.as_manager()

    class Meta:
        constraints = [
            # Concurrent ingests converge on one exception per grouping key.
            models.UniqueConstraint(fields=["integration", "key_hash"], name="exception_integration_key"),
        ]
        indexes = [
            # The inbox: open exceptions by urgency (priority, due_at ascending
            # with nulls last, which is PostgreSQL's default index order).
            models.Index(
                fields=["priority", "due_at", "opened_at"],
                name="exception_open_due",
                condition=Q(status__in=["open", "acknowledged"]),
            ),
            models.Index(fields=["tenant", "status", "priority"], name="exception_tenant_status"),
            # The inbox's order=amount and order=close (contract 4.1, 1.1) of
            # open exceptions: the money first, nulls last, then urgency.
            models.Index(
                F("open_amount").desc(nulls_last=True),
                F("priority"),
                F("due_at"),
                F("opened_at"),
                name="exception_open_amount",
                condition=Q(status__in=["open", "acknowledged"]),
            ),
            models.Index(
                F("close_deadline"),
                F("priority"),
                F("due_at"),
                F("opened_at"),
                name="exception_open_close",
                condition=Q(status__in=["open", "acknowledged"]),
            ),
        ]

    def __str__(self):
        return f"#{self.pk} {self.title[:60]}"


class ExceptionOpening(models.Model):
    """One opening of an exception (its first failure, or a reopening): what
    the acknowledge and resolve objectives count (contract 4.4)."""

    exception = models.ForeignKey(SyncException, on_delete=models.CASCADE, related_name="openings")
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+")
    priority = models.CharField(max_length=2, choices=Priority.choices)
    opened_at = models.DateTimeField()
    regressed = models.BooleanField(default=False)
    # Resolving or ignoring also acknowledges.
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    ignored_at = models.DateTimeField(null=True, blank=True)
    # Set when the next reopening starts a new opening.
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["tenant", "priority", "opened_at"], name="opening_tenant_priority")]

    def __str__(self):
        return f"{self.exception_id} opened {self.opened_at}"


class FailureState(models.TextChoices):
    FAILED = "failed"
    REPLAY_REQUESTED = "replay_requested"
    REPLAYED = "replayed"
    REPLAY_FAILED = "replay_failed"
    RECOVERED = "recovered"
    DISCARDED = "discarded"


REMEDIATED_STATES = (FailureState.REPLAYED, FailureState.RECOVERED, FailureState.DISCARDED)


class Failure(models.Model):
    """One record-level failure within a run: an occurrence of an exception."""

    # The foreign keys are served by the composite indexes leading with them
    # (failure_run_record, failure_tenant_record, failure_integration_record,
    # failure_exception_occurred): no single-column indexes to maintain.
    run = models.ForeignKey(Run, on_delete=models.CASCADE, related_name="failures", db_index=False)
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+", db_index=False)
    integration = models.ForeignKey(Integration, on_delete=models.CASCADE, related_name="+", db_index=False)
    exception = models.ForeignKey(SyncException, on_delete=models.CASCADE, related_name="failures", db_index=False)
    entity = models.CharField(max_length=200)
    record_id = models.CharField(max_length=200)
    operation = models.CharField(max_length=200, blank=True)
    error_code = models.CharField(max_length=200, blank=True)
    error_class = models.CharField(max_length=200, blank=True)
    message = models.TextField()
    fingerprint = models.CharField(max_length=200, blank=True)
    occurred_at = models.DateTimeField()
    source_changed_at = models.DateTimeField(null=True, blank=True)
    payload = WorkerJSONField(null=True, blank=True)
    response = WorkerJSONField(null=True, blank=True)
    # The money this record carries (contract 3.1, 1.1): exact, never a float;
    # at most 999,999,999,999.9999 in the tenant's currency.
    amount = models.DecimalField(max_digits=16, decimal_places=4, null=True, blank=True)
    currency = models.CharField(max_length=3, blank=True, db_default="")
    state = models.CharField(max_length=20, choices=FailureState.choices, default=FailureState.FAILED)
    received_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            # A re-posted run updates its failures in place (contract 3.1).
            models.UniqueConstraint(fields=["run", "entity", "record_id"], name="failure_run_record"),
        ]
        indexes = [
            # Occurrences of an exception, newest first; recounts at ingest.
            models.Index(fields=["exception", "-occurred_at"], name="failure_exception_occurred"),
            # "recovered" lookups and search by record id.
            models.Index(fields=["integration", "entity", "record_id"], name="failure_integration_record"),
            models.Index(fields=["tenant", "record_id"], name="failure_tenant_record"),
            # The replay record picker: distinct records not yet remediated, by
            # record id, read from the index alone however many occurrences.
            models.Index(
                fields=["exception", "record_id", "entity"],
                name="failure_exception_replayable",
                condition=Q(state__in=["failed", "replay_failed"]),
            ),
        ]

    def __str__(self):
        return f"{self.entity} {self.record_id}: {self.message[:60]}"


class Comment(models.Model):
    exception = models.ForeignKey(SyncException, on_delete=models.CASCADE, related_name="comments")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL)
    body = models.TextField()
    created = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created", "id"]

    def __str__(self):
        return f"comment on {self.exception_id} by {self.author_id}"


class ReplayStatus(models.TextChoices):
    PENDING_APPROVAL = "pending_approval"
    QUEUED = "queued"
    DISPATCHED = "dispatched"
    SUCCEEDED = "succeeded"
    PARTIAL = "partial"
    FAILED = "failed"
    REJECTED = "rejected"
    CANCELLED = "cancelled"


class ReplayQuerySet(models.QuerySet):
    def for_tenant(self, tenant):
        return self.filter(tenant=tenant)

    def queued(self):
        return self.filter(status=ReplayStatus.QUEUED)


class Replay(models.Model):
    """A request to post failed records again (contract 4.3)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="replays")
    integration = models.ForeignKey(Integration, on_delete=models.CASCADE, related_name="replays")
    exception = models.ForeignKey(SyncException, on_delete=models.CASCADE, related_name="replays")
    status = models.CharField(max_length=20, choices=ReplayStatus.choices)
    attempt = models.PositiveIntegerField(default=1)
    reason = models.TextField(blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="requested_replays"
    )
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="approved_replays"
    )
    # Who asked and who approved, kept as text: the user rows may be deleted
    # (apply_config --prune) and the four-eyes check must still know the
    # requester, even when an account with the same e-mail is created again.
    requester_email = models.EmailField(max_length=254, blank=True)
    requester_user_id = models.BigIntegerField(null=True, blank=True)
    approver_email = models.EmailField(max_length=254, blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_note = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    queued_at = models.DateTimeField(null=True, blank=True)
    dispatched_at = models.DateTimeField(null=True, blank=True)
    lease_expires_at = models.DateTimeField(null=True, blank=True)
    dispatched_to = models.CharField(max_length=320, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    # The outcome document as the worker posted it (3.4), for idempotent re-posts.
    result = WorkerJSONField(null=True, blank=True)
    # Push delivery (3.6): one delivery id kept across retries.
    delivery_id = models.UUIDField(null=True, blank=True)
    delivery_attempts = models.PositiveIntegerField(default=0)
    next_delivery_at = models.DateTimeField(null=True, blank=True)

    objects = ReplayQuerySet.as_manager()

    class Meta:
        indexes = [
            # Claim: the oldest queued replay of an integration.
            models.Index(fields=["integration", "queued_at"], name="replay_queued", condition=Q(status="queued")),
            models.Index(fields=["tenant", "status"], name="replay_tenant_status"),
        ]

    def __str__(self):
        return f"replay {self.id} ({self.status})"

    def is_requested_by(self, user):
        """Whether ``user`` asked for this replay: the same account, or any
        account with the requester's e-mail (a deleted and re-created user)."""
        if getattr(user, "pk", None) is None:
            return False
        if self.requester_user_id is not None and self.requester_user_id == user.pk:
            return True
        if self.requested_by_id is not None and self.requested_by_id == user.pk:
            return True
        email = (getattr(user, "email", "") or "").strip().lower()
        return bool(email) and email == self.requester_email.lower()

    @property
    def requester_label(self):
        """The requester's e-mail, also once their account is gone."""
        return self.requested_by.email if self.requested_by_id else (self.requester_email or None)

    @property
    def approver_label(self):
        return self.approved_by.email if self.approved_by_id else (self.approver_email or None)


class ReplayRecord(models.Model):
    class State(models.TextChoices):
        PENDING = "pending"
        SUCCEEDED = "succeeded"
        FAILED = "failed"

    replay = models.ForeignKey(Replay, on_delete=models.CASCADE, related_name="records")
    entity = models.CharField(max_length=200)
    record_id = models.CharField(max_length=200)
    operation = models.CharField(max_length=200, blank=True)
    payload = WorkerJSONField(null=True, blank=True)
    patch = WorkerJSONField(null=True, blank=True)
    error_code = models.CharField(max_length=200, blank=True)
    message = models.TextField(blank=True)
    idempotency_key = models.CharField(max_length=64)
    state = models.CharField(max_length=16, choices=State.choices, default=State.PENDING)
    result_message = models.TextField(blank=True)

    class Meta:
        ordering = ["id"]
        constraints = [models.UniqueConstraint(fields=["replay", "entity", "record_id"], name="replayrecord_unique")]

    def __str__(self):
        return f"{self.entity} {self.record_id}"


class Delivery(models.Model):
    """One attempt to POST a replay document to an integration's webhook."""

    replay = models.ForeignKey(Replay, on_delete=models.CASCADE, related_name="deliveries")
    delivery_id = models.UUIDField()
    attempt = models.PositiveIntegerField()
    at = models.DateTimeField(default=timezone.now)
    url = models.URLField(max_length=2000)
    status_code = models.PositiveIntegerField(null=True, blank=True)
    duration_ms = models.PositiveIntegerField(null=True, blank=True)
    error = models.TextField(blank=True)
    succeeded = models.BooleanField(default=False)

    class Meta:
        ordering = ["at", "id"]

    def __str__(self):
        return f"delivery {self.delivery_id} #{self.attempt}"
