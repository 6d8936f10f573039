"""Staff at work in the demo's past: acknowledging, assigning, commenting,
resolving and ignoring exceptions at plausible times after they opened,
through the exceptions writer (``integrations.sync_exceptions.staff``) with
those times.

Actions are planned when an opening appears and carried out, in time order,
before the next batch of runs is received, so an exception resolved before a
later failure arrives is reopened by it (a regression) exactly as it would
have been live.
"""

import heapq
import random
from datetime import timedelta

from django.db import transaction

from integrations.models import ExceptionOpening, ExceptionStatus, SyncException
from integrations.sync_exceptions import staff
from sla.business_time import add_business_minutes, business_hours_of

DUPLICATE_NOTE = "Duplicate of a record already in the ERP."
TRANSIENT = ("rate_limit", "timeout", "connectivity")
COMMENTS = {
    "validation": [
        "Asked the delivery lead to reopen the project for late time.",
        "Project was closed early by finance; entries moved to the follow-on project.",
    ],
    "mapping": ["Added the missing mapping in the integration settings.", "Mapping table updated by the customer."],
    "reference": ["Record created in the target; replay queued.", "Customer master data fixed at the source."],
    "duplicate": ["Already posted by hand in the ERP; nothing to do."],
    "auth": ["Token renewed in the vault; the next run went through."],
}
# (chance, earliest, latest business minutes) to acknowledge and to resolve, by priority.
URGENT = ("P1", "P2")
# P1 and P2 carry acknowledge and resolve objectives: staff mostly meet them.
PLANS = {
    "P1": ((0.98, 3, 25), (0.97, 30, 300)),
    "P2": ((0.96, 8, 100), (0.93, 90, 1100)),
    "P3": ((0.75, 45, 1440), (0.45, 600, 5000)),
    "P4": ((0.3, 120, 2880), (0.0, 0, 0)),
}


class Triage:
    """``leave``: error codes of exceptions nobody has looked at yet (the
    history's fresh failures of the last hours): no action is planned on them."""

    def __init__(self, tenant, staff, users, leave=()):
        self.tenant = tenant
        self.staff = list(staff)
        self.by_pk = {u.pk: u for u in users}
        self.by_email = {u.email: u for u in users}
        self.rng = random.Random(f"triage/{tenant.slug}")  # noqa: S311 - demo data
        self.queue = []
        self.hours = business_hours_of(tenant)
        self.leave = set(leave)
        self.seq = 0
        self.last_opening = (
            ExceptionOpening.objects.filter(tenant=tenant).order_by("-pk").values_list("pk", flat=True).first() or 0
        )
        self.done = 0

    def plan_new_openings(self):
        """Plan what staff will do about the openings ingest has just created."""
        openings = list(
            ExceptionOpening.objects.filter(tenant=self.tenant, pk__gt=self.last_opening)
            .select_related("exception")
            .order_by("pk")
        )
        for opening in openings:
            self._plan(opening)
            self.last_opening = opening.pk

    def _after(self, start, minutes):
        """``minutes`` business minutes after ``start``: staff work in the
        tenant's business hours, so what opens at night waits for the morning
        (and the acknowledge and resolve times are what the objectives count)."""
        return add_business_minutes(start, minutes, self.hours)

    def _push(self, at, action, opening, actor, extra=None):
        self.seq += 1
        heapq.heappush(self.queue, (at, self.seq, action, opening.exception_id, opening.pk, actor, extra))

    def _plan(self, opening):
        rng = self.rng
        exception = opening.exception
        if exception.error_code in self.leave:
            return
        assignee = self.by_pk.get(exception.assignee_id)
        actor = assignee.email if assignee else rng.choice(self.staff)
        start = opening.opened_at
        if exception.error_class in TRANSIENT:
            # Usually the next run recovers these before anyone looks.
            if rng.random() < 0.5:
                self._push(self._after(start, rng.randint(5, 90)), "acknowledge", opening, actor)
            return
        (ack_p, ack_lo, ack_hi), (res_p, res_lo, res_hi) = PLANS.get(opening.priority, PLANS["P3"])
        ack_at = None
        # A kind of error never seen before always gets someone's attention.
        first_time = not opening.regressed and opening.priority != "P4"
        if first_time or rng.random() < ack_p:
            ack_at = self._after(start, rng.randint(ack_lo, ack_hi))
            if assignee is None and rng.random() < 0.6:
                self._push(ack_at - timedelta(minutes=1), "assign", opening, actor)
            self._push(ack_at, "acknowledge", opening, actor)
        if opening.priority == "P4" and exception.error_class == "duplicate" and rng.random() < 0.6:
            at = self._after(start, rng.randint(600, 2880))
            self._push(at, "ignore", opening, actor)
            return
        if res_p:
            # Urgent exceptions are always resolved in the end: mostly in
            # time, now and then days late (a missed resolve objective).
            on_time = rng.random() < res_p
            if not on_time and opening.priority not in URGENT:
                return
            late = (res_hi * 2, res_hi * 5)
            at = self._after(start, rng.randint(*((res_lo, res_hi) if on_time else late)))
            if ack_at is not None:
                at = max(at, ack_at + timedelta(minutes=5))
            note = rng.choice(COMMENTS.get(exception.error_class, ["Fixed at the source."]))
            if rng.random() < 0.4:
                self._push(at - timedelta(minutes=3), "comment", opening, actor, note)
            self._push(at, "resolve", opening, actor, note)

    def carry_out_until(self, moment):
        """Do every planned action dated before ``moment``, oldest first."""
        while self.queue and self.queue[0][0] < moment:
            at, _, action, exception_id, opening_id, actor, extra = heapq.heappop(self.queue)
            with transaction.atomic():
                if self._do(at, action, exception_id, opening_id, self.by_email[actor], extra):
                    self.done += 1

    def _do(self, at, action, exception_id, opening_id, user, extra):
        exception = SyncException.objects.filter(pk=exception_id).first()
        opening = ExceptionOpening.objects.filter(pk=opening_id, closed_at__isnull=True).first()
        if exception is None or opening is None:
            return False  # reopened or gone since: the plan no longer applies
        status = exception.status
        if action == "assign":
            if exception.assignee_id == user.pk:
                return False
            staff.assign(exception, user, user.email, at=at)
        elif action == "comment":
            staff.comment(exception, user, extra, at=at)
        elif action == "acknowledge":
            if status != ExceptionStatus.OPEN:
                return False
            staff.acknowledge(exception, user, at=at)
        elif action == "resolve":
            if status not in (ExceptionStatus.OPEN, ExceptionStatus.ACKNOWLEDGED):
                return False
            staff.resolve(exception, user, extra or DUPLICATE_NOTE, at=at)
        elif action == "ignore":
            if status not in (ExceptionStatus.OPEN, ExceptionStatus.ACKNOWLEDGED):
                return False
            staff.ignore(exception, user, DUPLICATE_NOTE, at=at)
        return True
