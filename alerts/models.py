"""Alerts (contract section 6 and 4.7): the heartbeat state of scheduled
integrations and its transitions, alert episodes and their messages, and
every delivery attempt to the tenant's channels.

Written only by ``alerts.services`` (episodes, messages, deliveries, pauses),
``alerts.heartbeats`` (watch states and flips) and ``alerts.sending``
(attempts and channel states)."""

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from integrations.models import Integration, Priority, Replay, SyncException
from opsconsole.models import Tenant
from sla.models import AlertChannel


class Event(models.TextChoices):
    INTEGRATION_LATE = "integration.late"
    INTEGRATION_DOWN = "integration.down"
    INTEGRATION_RECOVERED = "integration.recovered"
    EXCEPTION_OPENED = "exception.opened"
    EXCEPTION_REGRESSED = "exception.regressed"
    SLA_BURN_RATE = "sla.burn_rate"
    SLA_BREACHED = "sla.breached"
    REPLAY_PENDING_APPROVAL = "replay.pending_approval"
    REPLAY_FAILED = "replay.failed"
    # "Send test alert" from the alerts page; never listed as an alert.
    TEST = "alert.test"


# Events a channel's ``min_priority`` applies to (contract section 6).
PRIORITISED = (Event.EXCEPTION_OPENED, Event.EXCEPTION_REGRESSED)


class HeartbeatStatus(models.TextChoices):
    NEW = "new"
    UP = "up"
    LATE = "late"
    DOWN = "down"


class Suppression(models.TextChoices):
    NONE = "", "—"
    PAUSED = "paused", "Paused"
    MAINTENANCE = "maintenance", "Maintenance window"


class IntegrationWatch(models.Model):
    """What the minute evaluation last saw of one scheduled integration, and
    whether staff paused its alerts (from the integration page)."""

    integration = models.OneToOneField(Integration, on_delete=models.CASCADE, related_name="watch")
    status = models.CharField(max_length=8, choices=HeartbeatStatus.choices, default=HeartbeatStatus.NEW)
    since = models.DateTimeField(null=True, blank=True)
    checked_at = models.DateTimeField(null=True, blank=True)
    paused_at = models.DateTimeField(null=True, blank=True)
    paused_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)

    def __str__(self):
        return f"{self.integration} {self.status}{' (paused)' if self.paused_at else ''}"


class Flip(models.Model):
    """One transition of an integration's heartbeat status, kept (as
    healthchecks keeps flips); ``suppressed`` says why it raised nothing."""

    integration = models.ForeignKey(Integration, on_delete=models.CASCADE, related_name="flips")
    at = models.DateTimeField()
    old = models.CharField(max_length=8, choices=HeartbeatStatus.choices)
    new = models.CharField(max_length=8, choices=HeartbeatStatus.choices)
    suppressed = models.CharField(max_length=16, choices=Suppression.choices, blank=True, default="")

    class Meta:
        indexes = [
            # The integration and alert pages list an integration's latest flips.
            models.Index(fields=["integration", "-at"], name="flip_integration_at"),
        ]

    def __str__(self):
        return f"{self.integration_id} {self.old}→{self.new} at {self.at}"


class AlertState(models.TextChoices):
    FIRING = "firing"
    RESOLVED = "resolved"


class AlertQuerySet(models.QuerySet):
    def firing(self):
        return self.filter(state=AlertState.FIRING)

    def listed(self):
        """Alerts of section 6 (test alerts are shown with their channel only)."""
        return self.exclude(event=Event.TEST)


class Alert(models.Model):
    """One episode of a condition: raised once, resolved once.

    ``subject`` names the condition (``integration:12``, ``exception:812``,
    ``burn:5:run_success:te:-``); ``key`` names this episode of it, built from
    what started it (the heartbeat the lateness counts from, the exception's
    opening, the replay), so raising the same episode twice finds the row."""

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="alerts")
    integration = models.ForeignKey(Integration, null=True, blank=True, on_delete=models.CASCADE, related_name="alerts")
    exception = models.ForeignKey(
        SyncException, null=True, blank=True, on_delete=models.SET_NULL, related_name="alerts"
    )
    replay = models.ForeignKey(Replay, null=True, blank=True, on_delete=models.SET_NULL, related_name="alerts")
    event = models.CharField(max_length=32, choices=Event.choices)
    subject = models.CharField(max_length=200)
    key = models.CharField(max_length=300)
    state = models.CharField(max_length=10, choices=AlertState.choices, default=AlertState.FIRING)
    priority = models.CharField(max_length=2, choices=Priority.choices, null=True, blank=True)
    opened_at = models.DateTimeField(default=timezone.now)
    escalated_at = models.DateTimeField(null=True, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    summary = models.TextField()
    data = models.JSONField(default=dict, blank=True)

    objects = AlertQuerySet.as_manager()

    class Meta:
        constraints = [
            # Raising an episode again (a retried task, a re-posted run) finds this row.
            models.UniqueConstraint(fields=["key"], name="alert_episode_key"),
            # One open episode per condition: no repeat while the condition holds.
            models.UniqueConstraint(
                fields=["subject"], condition=Q(state="firing"), name="alert_one_firing_per_subject"
            ),
        ]
        indexes = [
            # GET /api/v1/alerts and the alert pages: a tenant's alerts, newest first.
            models.Index(fields=["tenant", "-opened_at"], name="alert_tenant_opened"),
            # The minute sweep resolves firing alerts whose condition cleared.
            models.Index(fields=["event"], condition=Q(state="firing"), name="alert_firing_event"),
        ]

    def __str__(self):
        return f"{self.event} {self.subject} ({self.state})"


class NoticeKind(models.TextChoices):
    FIRED = "fired"
    ESCALATED = "escalated"  # integration.late became integration.down: the episode's second message
    RESOLVED = "resolved"


class Notice(models.Model):
    """One message of an episode, sent to every matching channel: the episode
    timeline. At most one of each kind per alert."""

    alert = models.ForeignKey(Alert, on_delete=models.CASCADE, related_name="notices")
    kind = models.CharField(max_length=10, choices=NoticeKind.choices)
    event = models.CharField(max_length=32, choices=Event.choices)
    at = models.DateTimeField(default=timezone.now)
    summary = models.TextField()

    class Meta:
        ordering = ["at", "id"]
        constraints = [
            # An episode fires, escalates and resolves at most once each.
            models.UniqueConstraint(fields=["alert", "kind"], name="notice_once_per_kind"),
        ]

    def __str__(self):
        return f"{self.alert_id} {self.kind} {self.event}"


class DeliveryState(models.TextChoices):
    PENDING = "pending"
    DELIVERED = "delivered"
    FAILED = "failed"


class AlertDelivery(models.Model):
    """One message to one channel, tried until delivered or out of retries
    under one ``delivery_id`` (the ``X-Opsconsole-Delivery`` header)."""

    notice = models.ForeignKey(Notice, on_delete=models.CASCADE, related_name="deliveries")
    channel = models.ForeignKey(
        AlertChannel, null=True, blank=True, on_delete=models.SET_NULL, related_name="deliveries"
    )
    channel_kind = models.CharField(max_length=16, choices=AlertChannel.Kind.choices)
    delivery_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    state = models.CharField(max_length=10, choices=DeliveryState.choices, default=DeliveryState.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    created = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            # A message goes to a channel once, however often its task runs.
            models.UniqueConstraint(fields=["notice", "channel"], name="alertdelivery_once_per_channel"),
        ]
        indexes = [
            # The minute sweep sends pending deliveries whose next try has come.
            models.Index(fields=["next_attempt_at"], condition=Q(state="pending"), name="alertdelivery_pending_due"),
        ]

    def __str__(self):
        return f"{self.delivery_id} {self.channel_kind} {self.state}"


class DeliveryAttempt(models.Model):
    """One try of a delivery: the HTTP status (null for e-mail or no answer),
    how long it took and why it failed."""

    delivery = models.ForeignKey(AlertDelivery, on_delete=models.CASCADE, related_name="tries")
    attempt = models.PositiveIntegerField()
    at = models.DateTimeField()
    status_code = models.PositiveIntegerField(null=True, blank=True)
    duration_ms = models.PositiveIntegerField(null=True, blank=True)
    error = models.TextField(blank=True)
    succeeded = models.BooleanField(default=False)

    class Meta:
        ordering = ["at", "id"]
        constraints = [
            # A try is written once, before the send: a worker killed mid-send leaves it visible.
            models.UniqueConstraint(fields=["delivery", "attempt"], name="deliveryattempt_once"),
        ]

    def __str__(self):
        return f"{self.delivery_id} #{self.attempt} {self.status_code or self.error[:40]}"


class ChannelState(models.Model):
    """How a channel's recent deliveries went; ``failing`` is shown on the
    alerts page until a delivery succeeds again."""

    channel = models.OneToOneField(AlertChannel, on_delete=models.CASCADE, related_name="state")
    failing = models.BooleanField(default=False)
    consecutive_failures = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)
    last_failure_at = models.DateTimeField(null=True, blank=True)
    last_success_at = models.DateTimeField(null=True, blank=True)

    def __str__(self):
        return f"{self.channel} {'failing' if self.failing else 'ok'}"
