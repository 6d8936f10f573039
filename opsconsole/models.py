"""Tenancy: partners and their branding, tenants, users and roles, the audit log."""

import zoneinfo

from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.contrib.auth.models import PermissionsMixin
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone as dj_timezone

from opsconsole.roles import CUSTOMER_ROLES, PARTNER_WIDE, Role


class Partner(models.Model):
    """An ERP partner or MSP; everything it sees carries its brand."""

    slug = models.SlugField(max_length=63, unique=True)
    name = models.CharField(max_length=200)
    product_name = models.CharField(max_length=200, blank=True)
    primary_color = models.CharField(max_length=7, default="#0B5FFF")
    accent_color = models.CharField(max_length=7, default="#FFB000")
    # An https URL, or a data: URI holding the logo file read by apply_config.
    logo = models.TextField(blank=True)
    support_email = models.EmailField(blank=True)
    # Day of the month (1-28) on which last month's reports are issued and
    # mailed to each tenant's report_recipients (configuration: reports.day).
    report_day = models.PositiveSmallIntegerField(default=1)
    created = models.DateTimeField(default=dj_timezone.now)

    def __str__(self):
        return self.name

    @property
    def display_name(self):
        return self.product_name or self.name


class Hostname(models.Model):
    """A host name whose requests get a partner's branding."""

    partner = models.ForeignKey(Partner, on_delete=models.CASCADE, related_name="hostnames")
    name = models.CharField(max_length=253, unique=True)

    def __str__(self):
        return self.name


class TenantQuerySet(models.QuerySet):
    def for_partner(self, partner):
        return self.filter(partner=partner)


class Tenant(models.Model):
    """A customer firm whose integrations a partner runs."""

    partner = models.ForeignKey(Partner, on_delete=models.CASCADE, related_name="tenants")
    slug = models.SlugField(max_length=63, unique=True)
    name = models.CharField(max_length=200)
    timezone = models.CharField(max_length=64, default="UTC")
    # {"days": ["mon", ...], "start": "08:00", "end": "18:00", "holidays": ["2026-12-25"]};
    # null means 24x7 (every minute is a business minute).
    business_hours = models.JSONField(null=True, blank=True)
    plan = models.ForeignKey("sla.Plan", null=True, blank=True, on_delete=models.SET_NULL, related_name="tenants")
    scrub_fields = models.JSONField(default=list, blank=True)
    retention_days = models.PositiveIntegerField(default=395)
    # {"project": "kantata", "invoice": "netsuite", ...}: record kind -> system slug.
    system_of_record = models.JSONField(default=dict, blank=True)
    # E-mail addresses the monthly report is sent to (configuration: report_recipients).
    report_recipients = models.JSONField(default=list, blank=True)
    # ISO 4217 code of this tenant's amounts (contract 1.1, configuration: currency).
    currency = models.CharField(max_length=3, default="USD")
    # Books of a month close at the end of this business day of the next month
    # (configuration: close.business_day, 1-10); null: no close configured.
    close_business_day = models.PositiveSmallIntegerField(null=True, blank=True)
    created = models.DateTimeField(default=dj_timezone.now)

    objects = TenantQuerySet.as_manager()

    def __str__(self):
        return self.name

    @property
    def tzinfo(self):
        try:
            return zoneinfo.ZoneInfo(self.timezone)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            return zoneinfo.ZoneInfo("UTC")


class UserManager(BaseUserManager):
    use_in_migrations = True

    def create_user(self, email, password=None, **extra):
        if not email:
            raise ValueError("An e-mail address is required")
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(self, email, password=None, **extra):
        extra.setdefault("is_staff", True)
        extra.setdefault("is_superuser", True)
        extra.setdefault("role", Role.PARTNER_ADMIN)
        return self.create_user(email, password, **extra)


class User(AbstractBaseUser, PermissionsMixin):
    """A person: partner staff (partner-wide roles) or a customer's user
    (customer roles, attached to the tenants they may see)."""

    email = models.EmailField(unique=True)
    name = models.CharField(max_length=200, blank=True)
    partner = models.ForeignKey(Partner, null=True, blank=True, on_delete=models.CASCADE, related_name="users")
    role = models.CharField(max_length=32, choices=Role.choices, default=Role.SUPPORT)
    tenants = models.ManyToManyField(Tenant, blank=True, related_name="customer_users")
    is_active = models.BooleanField(default=True)
    is_staff = models.BooleanField(default=False)
    date_joined = models.DateTimeField(default=dj_timezone.now)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS = []

    def __str__(self):
        return self.email

    @property
    def is_partner_wide(self):
        return self.role in PARTNER_WIDE

    @property
    def is_customer(self):
        return self.role in CUSTOMER_ROLES

    @property
    def actor_label(self):
        return self.email


class AuditQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise ValidationError("Audit entries are never altered.")

    def delete(self):
        raise ValidationError("Audit entries are never deleted.")


class AuditEntry(models.Model):
    """One line of the append-only audit log (contract 4.2)."""

    at = models.DateTimeField(default=dj_timezone.now, db_index=True)
    # The user's e-mail, "key:<key name>" for an API key, or "system".
    actor = models.CharField(max_length=320)
    action = models.CharField(max_length=64)
    # No database constraint: the log outlives what it talks about.
    tenant = models.ForeignKey(
        Tenant, null=True, blank=True, on_delete=models.DO_NOTHING, db_constraint=False, related_name="+"
    )
    partner = models.ForeignKey(
        Partner, null=True, blank=True, on_delete=models.DO_NOTHING, db_constraint=False, related_name="+"
    )
    object_type = models.CharField(max_length=64, blank=True)
    object_id = models.CharField(max_length=64, blank=True)
    summary = models.TextField(blank=True)
    data = models.JSONField(default=dict, blank=True)

    objects = AuditQuerySet.as_manager()

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [
            # GET /api/v1/audit?tenant=… newest first; the exception timeline.
            models.Index(fields=["tenant", "-at"], name="audit_tenant_at"),
            models.Index(fields=["object_type", "object_id"], name="audit_object"),
        ]

    def __str__(self):
        return f"{self.at:%Y-%m-%d %H:%M} {self.actor} {self.action}"

    def save(self, *args, **kwargs):
        if self.pk is not None and not self._state.adding:
            raise ValidationError("Audit entries are never altered.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValidationError("Audit entries are never deleted.")


class RateWindow(models.Model):
    """An API key's current request window (opsconsole/throttling.py) when no
    Redis is configured: counted with one upsert, atomic across web processes."""

    key = models.CharField(max_length=200, primary_key=True)
    started = models.FloatField()  # seconds since the epoch
    hits = models.PositiveIntegerField(default=0)

    def __str__(self):
        return f"{self.key}: {self.hits} requests since {self.started}"
