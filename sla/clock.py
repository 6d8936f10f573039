"""The SLA clock of an exception: time left, in the tenant's business time, to
its acknowledge and resolve deadlines (contract 4.4, objectives
``acknowledge`` and ``resolve`` with ``within_business_minutes``).

The objectives for a priority come from the tenant's plan, replaced by the
tenant's own entries of the same identity. The inbox and the staff API build
clocks for a whole page with :func:`clocks_for` in one query.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Q
from django.utils import timezone

from sla.business_time import BusinessHours, add_business_minutes, business_hours_of, business_seconds_between
from sla.models import Objective, ObjectiveKind

CLOCK_KINDS = (ObjectiveKind.ACKNOWLEDGE, ObjectiveKind.RESOLVE)


@dataclass(frozen=True)
class Deadline:
    kind: str  # acknowledge | resolve
    within_business_minutes: int
    due: dt.datetime
    met: bool | None  # None while still running
    done_at: dt.datetime | None
    left_seconds: float | None  # business seconds left (negative: overdue); None once done

    @property
    def breached(self) -> bool:
        if self.met is not None:
            return not self.met
        return self.left_seconds is not None and self.left_seconds <= 0

    def as_dict(self):
        return {
            "within_business_minutes": self.within_business_minutes,
            "due": self.due,
            "met": self.met,
            "done_at": self.done_at,
            "left_business_seconds": None if self.left_seconds is None else round(self.left_seconds, 3),
            "breached": self.breached,
        }


@dataclass(frozen=True)
class Clock:
    acknowledge: Deadline | None
    resolve: Deadline | None

    @property
    def running(self) -> list[Deadline]:
        return [d for d in (self.acknowledge, self.resolve) if d is not None and d.met is None]

    @property
    def next(self) -> Deadline | None:
        """The running deadline that comes first (what the inbox shows)."""
        running = self.running
        return min(running, key=lambda d: d.due) if running else None

    def as_dict(self):
        return {
            "acknowledge": self.acknowledge.as_dict() if self.acknowledge else None,
            "resolve": self.resolve.as_dict() if self.resolve else None,
        }


def objectives_by_tenant(tenants) -> dict[int, dict[tuple[str, str], int]]:
    """{tenant_id: {(kind, priority): within_business_minutes}} for the
    acknowledge and resolve objectives: plan entries, replaced by tenant ones.
    One query for any number of tenants."""
    tenants = list(tenants)
    plan_ids = {t.plan_id for t in tenants if t.plan_id}
    rows = Objective.objects.filter(
        Q(plan_id__in=plan_ids) | Q(tenant_id__in=[t.pk for t in tenants]),
        objective__in=CLOCK_KINDS,
        within_business_minutes__isnull=False,
    ).values_list("plan_id", "tenant_id", "objective", "priority", "within_business_minutes")
    by_plan: dict[int, dict] = {}
    by_tenant: dict[int, dict] = {}
    for plan_id, tenant_id, kind, priority, minutes in rows:
        target = by_plan.setdefault(plan_id, {}) if plan_id else by_tenant.setdefault(tenant_id, {})
        target[(kind, priority)] = minutes
    return {t.pk: {**by_plan.get(t.plan_id, {}), **by_tenant.get(t.pk, {})} for t in tenants}


def _left(now, due, hours):
    if due > now:
        return business_seconds_between(now, due, hours)
    return -business_seconds_between(due, now, hours)


def clock_for(exception, objectives: dict, hours: BusinessHours | None, now: dt.datetime | None = None) -> Clock:
    """The clock of ``exception``'s current opening. ``objectives`` is the
    tenant's entry of :func:`objectives_by_tenant`."""
    now = now or timezone.now()
    opened = exception.opened_at
    ack_at = exception.acknowledged_at if exception.acknowledged_at and exception.acknowledged_at >= opened else None
    resolved_at = exception.resolved_at if exception.status == "resolved" else None
    ignored = exception.status == "ignored"
    # Resolving or ignoring also acknowledges (contract 4.4).
    if ack_at is None and resolved_at:
        ack_at = resolved_at

    def deadline(kind, done_at, left_out=False):
        minutes = objectives.get((kind, exception.priority))
        if minutes is None or left_out:
            return None
        due = add_business_minutes(opened, minutes, hours)
        if done_at is not None:
            return Deadline(kind, minutes, due, done_at <= due, done_at, None)
        return Deadline(kind, minutes, due, None, None, _left(now, due, hours))

    return Clock(
        acknowledge=deadline(ObjectiveKind.ACKNOWLEDGE, ack_at, left_out=ignored and ack_at is None),
        # Ignored openings are left out of resolve.
        resolve=deadline(ObjectiveKind.RESOLVE, resolved_at, left_out=ignored),
    )


def clocks_for(exceptions, now: dt.datetime | None = None) -> dict[int, Clock]:
    """{exception.pk: Clock} for a page of exceptions (tenants selected with
    them); one query for the objectives whatever the page size."""
    exceptions = list(exceptions)
    now = now or timezone.now()
    tenants = {e.tenant_id: e.tenant for e in exceptions}
    objectives = objectives_by_tenant(tenants.values()) if tenants else {}
    hours = {pk: business_hours_of(t) for pk, t in tenants.items()}
    return {e.pk: clock_for(e, objectives.get(e.tenant_id, {}), hours[e.tenant_id], now) for e in exceptions}


def latest_start_due_by(limit: dt.datetime, minutes: float, hours: BusinessHours | None) -> dt.datetime:
    """The latest opening time whose deadline (``minutes`` business minutes
    later) falls at or before ``limit``: what "breaching within 2 hours"
    filters openings by, since deadlines grow with opening times."""
    remaining = dt.timedelta(minutes=minutes)
    if hours is None:
        return limit - remaining
    limit = limit.astimezone(dt.UTC)
    day = limit.astimezone(hours.zone).date() + dt.timedelta(days=1)
    for _ in range(366 * 20):
        for a, b in reversed(hours.segments_of_day(day)):
            if a >= limit:
                continue
            b = min(b, limit)
            if b - a >= remaining:
                return b - remaining
            remaining -= b - a
        day -= dt.timedelta(days=1)
    return dt.datetime.min.replace(tzinfo=dt.UTC)


# --- due_at: the next deadline, stored on the exception for the inbox order -------------------


class TenantClocks:
    """The acknowledge and resolve objectives and the business hours of
    tenants, read once: :meth:`load` reads any number of tenants' objectives
    in one query; :meth:`of` loads a tenant it has not seen yet."""

    def __init__(self, tenants=()):
        self._objectives: dict[int, dict] = {}
        self._hours: dict[int, BusinessHours | None] = {}
        self.load(tenants)

    def load(self, tenants):
        missing = {t.pk: t for t in tenants if t.pk not in self._objectives}
        if not missing:
            return
        objectives = objectives_by_tenant(missing.values())
        for pk, tenant in missing.items():
            self._objectives[pk] = objectives.get(pk, {})
            self._hours[pk] = business_hours_of(tenant)

    def of(self, tenant) -> tuple[dict, BusinessHours | None]:
        self.load([tenant])
        return self._objectives[tenant.pk], self._hours[tenant.pk]


def next_deadline(exception, clocks: TenantClocks, tenant=None) -> dt.datetime | None:
    """What ``exception.due_at`` should hold: the due instant of the running
    deadline that comes first in its current opening (the acknowledge
    deadline while open, the resolve deadline once acknowledged; see
    :attr:`Clock.next`), None when it is resolved or ignored or when no
    objective of its tenant covers its priority. ``tenant`` defaults to
    ``exception.tenant``."""
    if exception.status not in ("open", "acknowledged"):
        return None
    objectives, hours = clocks.of(tenant if tenant is not None else exception.tenant)
    if not any(priority == exception.priority for _kind, priority in objectives):
        return None
    upcoming = clock_for(exception, objectives, hours, now=exception.opened_at).next
    return upcoming.due if upcoming else None


@dataclass(frozen=True)
class _Opening:
    """An exception just opened (or reopened) at ``opened_at``."""

    priority: str
    opened_at: dt.datetime
    status: str = "open"
    acknowledged_at: None = None
    resolved_at: None = None


def opening_deadline(tenant, priority: str, opened_at: dt.datetime, clocks: TenantClocks) -> dt.datetime | None:
    """``due_at`` of an exception of ``tenant`` opened or reopened at
    ``opened_at`` with ``priority``, for writers that insert or update rows
    in bulk (ingest)."""
    return next_deadline(_Opening(priority, opened_at), clocks, tenant)
