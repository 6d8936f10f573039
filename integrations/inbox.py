"""Which exceptions a list shows, and in what order: the filters shared by
``GET /api/v1/exceptions`` (contract 4.1) and the HTML inbox.

Most urgent first: open and acknowledged before the rest, then priority,
then the next SLA deadline (``due_at``: the acknowledge deadline while open,
the resolve deadline once acknowledged, in each tenant's business hours and
objectives), exceptions with no deadline after those with one, then the
opening time.
"""

import datetime as dt

from django.db.models import Case, F, OuterRef, Q, Subquery, Value, When
from django.db.models.functions import Substr
from django.utils import timezone
from rest_framework.exceptions import ValidationError

from integrations import query_params as params
from integrations.access import exceptions_for
from integrations.ingest.grouping import normalise_message
from integrations.models import OPEN_STATUSES, ExceptionStatus, Failure, Priority, SyncException
from opsconsole.access import tenants_for

SAVED_VIEWS = {
    "mine": "Mine",
    "unassigned-urgent": "Unassigned P1/P2",
    "breaching": "Breaching within 2 hours",
    "blocking-close": "Blocking close",
}
# ``order`` (contract 4.1, 1.1): the console's urgency (default), the largest
# open_amount first, or the earliest close_deadline first; nulls last, ties
# in urgency order.
ORDERS = ("urgency", "amount", "close")
BREACH_HORIZON = dt.timedelta(hours=2)


URGENCY = (F("priority").asc(), F("due_at").asc(nulls_last=True), F("opened_at").asc(), F("id").asc())


class OpenFirst:
    """Open and acknowledged exceptions, then the rest, each by urgency: a
    sliceable, countable sequence for Django's Paginator that runs two
    indexed queries instead of sorting the whole table on a CASE expression.
    Counting and any page take at most two queries each."""

    ordered = True

    def __init__(self, qs):
        self.open = qs.filter(status__in=OPEN_STATUSES).order_by(*URGENCY)
        self.rest = qs.exclude(status__in=OPEN_STATUSES).order_by(*URGENCY)
        self._open_count = None

    def select_related(self, *fields):
        chained = OpenFirst.__new__(OpenFirst)
        chained.open = self.open.select_related(*fields)
        chained.rest = self.rest.select_related(*fields)
        chained._open_count = None
        return chained

    def open_count(self):
        if self._open_count is None:
            self._open_count = self.open.count()
        return self._open_count

    def count(self):
        return self.open_count() + self.rest.count()

    def count_upto(self, limit):
        """The number of rows, counting no further than ``limit`` (what
        opsconsole.lib.paging.CappedPaginator asks). The open part's count is
        kept capped too: a page inside the cap never reaches past it."""
        if self._open_count is None:
            # Unordered: counting needs no sort, whichever index the filter takes.
            self._open_count = self.open.order_by()[:limit].count()
        if self._open_count >= limit:
            return limit
        return self._open_count + self.rest.order_by()[: limit - self._open_count].count()

    def __len__(self):
        return self.count()

    def __iter__(self):
        yield from self.open
        yield from self.rest

    def __getitem__(self, key):
        if not isinstance(key, slice):
            return self[key : key + 1][0]
        start, stop = key.start or 0, key.stop
        n_open = self.open_count()
        rows = []
        if start < n_open:
            rows += list(self.open[start : n_open if stop is None else min(stop, n_open)])
        if stop is None or stop > n_open:
            rest_start = max(0, start - n_open)
            rows += list(self.rest[rest_start : None if stop is None else stop - n_open])
        return rows


def urgency_order(qs, only_open=False, order="urgency"):
    """Most urgent first. When only open and acknowledged exceptions can be
    in the list, the order is (priority, due_at nulls last, opened_at), which
    the partial index exception_open_due serves; otherwise those come first,
    then the rest.

    ``order=amount`` and ``order=close`` put the largest ``open_amount`` or
    the earliest ``close_deadline`` first, nulls last, whatever the status,
    ties in that urgency order (served for open exceptions by the partial
    indexes exception_open_amount and exception_open_close)."""
    lead = {
        "amount": F("open_amount").desc(nulls_last=True),
        "close": F("close_deadline").asc(nulls_last=True),
    }.get(order)
    if lead is not None:
        if only_open:
            return qs.order_by(lead, *URGENCY)
        open_first = Case(When(status__in=OPEN_STATUSES, then=Value(0)), default=Value(1))
        return qs.order_by(lead, open_first.asc(), *URGENCY)
    if only_open:
        return qs.order_by(*URGENCY)
    return OpenFirst(qs)


# A record id matches at most this many exceptions in a search.
RECORD_MATCHES = 1000


def search(qs, user, q):
    """Title (the normalised message: ``q`` is matched both as typed and
    normalised, so "Project P-77 is closed" finds "Project P-<n> is closed"),
    error code, an exception id (``812`` or ``#812``) or a record id.

    On PostgreSQL the title and error code are served by the trigram indexes
    of migration 0003; record ids by failure_tenant_record, looked up first
    so that every branch of the OR can use an index."""
    cond = Q(title__icontains=q) | Q(error_code__icontains=q)
    normalised = normalise_message(q)
    if normalised and normalised != q:
        cond |= Q(title__icontains=normalised)
    ids = set(
        Failure.objects.filter(tenant__in=tenants_for(user), record_id=q)
        .values_list("exception_id", flat=True)
        .distinct()[:RECORD_MATCHES]
    )
    digits = q.lstrip("#")
    if digits.isdigit() and len(digits) < 18:
        ids.add(int(digits))
    if ids:
        cond |= Q(pk__in=sorted(ids))
    return qs.filter(cond)


def breaching(qs, now, horizon=BREACH_HORIZON):
    """Open or acknowledged exceptions whose next SLA deadline (the stored
    ``due_at``: acknowledge while open, resolve once acknowledged) is past or
    falls within ``horizon``; served by the exception_open_due index."""
    return qs.filter(status__in=OPEN_STATUSES, due_at__lte=now + horizon)


def filter_exceptions(user, query, *, default_open=False, now=None):
    """(queryset, filters) for ``query`` (a QueryDict). 400 on malformed
    values, 404 on an unknown or unreachable tenant or integration."""
    now = now or timezone.now()
    qs = exceptions_for(user)
    filters = {}
    tenant = params.tenant(query, user)
    if tenant is not None:
        qs = qs.filter(tenant=tenant)
        filters["tenant"] = tenant
    integrations = params.integration(query, user, tenant)
    if integrations is not None:
        qs = qs.filter(integration__in=integrations)
        filters["integration"] = integrations[0].slug
    statuses = params.choice(query, "status", ExceptionStatus.values + ["all"])
    only_open = False
    if statuses and "all" not in statuses:
        qs = qs.filter(status__in=statuses)
        only_open = set(statuses) <= set(OPEN_STATUSES)
    elif statuses is None and default_open:
        qs = qs.filter(status__in=OPEN_STATUSES)
        only_open = True
    filters["status"] = statuses
    priorities = params.choice(query, "priority", Priority.values)
    if priorities:
        qs = qs.filter(priority__in=priorities)
    filters["priority"] = priorities
    assignee = params.text(query, "assignee", max_length=320)
    if assignee == "me":
        qs = qs.filter(assignee_id=getattr(user, "pk", None))
    elif assignee == "none":
        qs = qs.filter(assignee__isnull=True)
    elif assignee:
        qs = qs.filter(assignee__email__iexact=assignee)
    filters["assignee"] = assignee
    error_class = params.text(query, "error_class")
    if error_class:
        qs = qs.filter(error_class=error_class)
    filters["error_class"] = error_class
    opened_after = params.instant(query, "opened_after")
    opened_before = params.instant(query, "opened_before")
    if opened_after is not None and opened_before is not None and opened_before < opened_after:
        raise ValidationError({"opened_before": ["Must not be before 'opened_after'."]})
    if opened_after is not None:
        qs = qs.filter(opened_at__gte=opened_after)
    if opened_before is not None:
        qs = qs.filter(opened_at__lt=opened_before)
    filters["opened_after"], filters["opened_before"] = opened_after, opened_before
    q = params.text(query, "q")
    if q:
        qs = search(qs, user, q)
    filters["q"] = q
    view = params.choice(query, "view", list(SAVED_VIEWS))
    view = view[0] if view else None
    if view == "mine":
        qs = qs.filter(assignee_id=getattr(user, "pk", None))
    elif view == "unassigned-urgent":
        qs = qs.filter(assignee__isnull=True, priority__in=[Priority.P1, Priority.P2], status__in=OPEN_STATUSES)
        only_open = True
    elif view == "breaching":
        qs = breaching(qs, now)
        only_open = True
    elif view == "blocking-close":
        # Open money that a book close waits for, the nearest close first.
        qs = qs.filter(status__in=OPEN_STATUSES, close_deadline__isnull=False)
        only_open = True
    filters["view"] = view
    order = params.choice(query, "order", list(ORDERS))
    if order and len(order) > 1:
        raise ValidationError({"order": ["Give one order: urgency, amount or close."]})
    order = order[0] if order else ("close" if view == "blocking-close" else "urgency")
    filters["order"] = order
    return urgency_order(qs, only_open, order), filters


# Characters of the example message the inbox shows under a title.
EXAMPLE_LIMIT = 200


def example_messages(exceptions):
    """{exception id: the message of its latest failure, bounded}: one real
    example under the normalised title. One query for the page's exceptions."""
    latest = Failure.objects.filter(exception=OuterRef("pk")).order_by("-occurred_at", "-id")
    example = Substr(Subquery(latest.values("message")[:1]), 1, EXAMPLE_LIMIT + 1)
    ids = [e.pk for e in exceptions]
    rows = SyncException.objects.filter(pk__in=ids).annotate(example=example).values_list("pk", "example")
    return {pk: text or "" for pk, text in rows}
