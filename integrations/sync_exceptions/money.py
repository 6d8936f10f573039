"""Money held up by exceptions (contract 4.1, 1.1): ``open_amount`` and
``close_deadline``, recomputed from the raw failures.

``recompute`` is the one definition, called by every writer that changes a
record's state or a failure's amount (ingest and its recoveries, replay
results and requests, discards, retention's recount), with the exceptions'
rows locked:

- a record's contribution is its latest failure in the exception (by
  ``occurred_at``, then id: what a replay acts on) when that failure is
  failed, replay_requested or replay_failed and carries an ``amount``;
- ``open_amount`` is the sum of the contributions, null when there are none;
- ``close_deadline`` is the earliest book close (``sla.business_time``) of
  the months, in the tenant's calendar, in which those failures occurred;
  null when the tenant has no close or nothing is counted.
"""

import decimal
from zoneinfo import ZoneInfo

from django.db import connection, transaction

from integrations.models import FailureState, SyncException
from integrations.tables import EXC, FAILURE, aware, chunks, failures_of_records, in_
from opsconsole.models import Tenant
from sla.business_time import business_hours_of, close_deadline

COUNTED_STATES = (FailureState.FAILED, FailureState.REPLAY_REQUESTED, FailureState.REPLAY_FAILED)
COUNTED = frozenset(str(state) for state in COUNTED_STATES)
QUANTUM = decimal.Decimal("0.0001")
CHUNK = 1000


def as_decimal(value):
    """An amount as the database answers it (Decimal on PostgreSQL, int or
    float on SQLite) as an exact Decimal of four places."""
    if value is None:
        return None
    if type(value) is decimal.Decimal and value.as_tuple().exponent == -4:
        return value  # numeric(…, 4) from PostgreSQL, or a validated amount
    if isinstance(value, float):
        value = repr(value)
    return decimal.Decimal(value).quantize(QUANTUM)


class Closes:
    """Book-close deadlines of tenants' months, computed once each."""

    def __init__(self, tenants=()):
        self.tenants = {t.pk: t for t in tenants}
        self.cache = {}

    def load(self, tenant_ids):
        wanted = set(tenant_ids) - set(self.tenants)
        if wanted:
            for t in Tenant.objects.filter(pk__in=wanted).only(
                "pk", "slug", "timezone", "business_hours", "close_business_day"
            ):
                self.tenants[t.pk] = t

    def of(self, tenant_id, occurred_at):
        """The close of the month ``occurred_at`` falls in, in the tenant's
        zone; None when the tenant has no close."""
        tenant = self.tenants[tenant_id]
        if not tenant.close_business_day:
            return None
        local = occurred_at.astimezone(ZoneInfo(tenant.timezone))
        key = (tenant_id, local.year, local.month)
        if key not in self.cache:
            hours = business_hours_of(tenant)
            self.cache[key] = close_deadline(local.year, local.month, tenant.close_business_day, hours, tenant.timezone)
        return self.cache[key]


def contributions(cursor, exception_ids):
    """{exception id: [(amount, occurred_at)]} of the records counted: each
    record's latest failure in the exception, failing and with an amount."""
    found = {}
    states = ", ".join(["%s"] * len(COUNTED_STATES))
    for chunk in chunks(sorted(exception_ids), CHUNK):
        exc_in, params = in_("exception_id", chunk, "bigint")
        cursor.execute(
            f"SELECT exception_id, amount, occurred_at FROM ("  # noqa: S608 - table names, placeholders
            f" SELECT exception_id, amount, occurred_at, state, ROW_NUMBER() OVER ("
            f"  PARTITION BY exception_id, entity, record_id ORDER BY occurred_at DESC, id DESC) AS latest"
            f" FROM {FAILURE} WHERE {exc_in}) ranked"
            f" WHERE latest = 1 AND amount IS NOT NULL AND state IN ({states})",
            [*params, *COUNTED_STATES],
        )
        for exc_id, amount, occurred_at in cursor.fetchall():
            found.setdefault(exc_id, []).append((as_decimal(amount), aware(occurred_at)))
    return found


def recompute(exception_ids, cursor=None, closes=None):
    """Set ``open_amount`` and ``close_deadline`` of ``exception_ids`` from
    their failures; returns the number of rows changed. Call inside the
    transaction that changed the failures; the rows are locked as they are
    read (in id order), but writers that change failures' states lock them
    first (:func:`lock`), so they wait for an ingest rather than deadlock."""
    ids = sorted({int(i) for i in exception_ids})
    if not ids:
        return 0
    if cursor is None:
        with connection.cursor() as own:
            return recompute(ids, own, closes)
    closes = closes or Closes()
    changed = 0
    lock = " FOR NO KEY UPDATE" if connection.features.has_select_for_no_key_update else ""
    for chunk in chunks(ids, CHUNK):
        id_in, params = in_("id", chunk, "bigint")
        cursor.execute(
            f"SELECT id, tenant_id, open_amount, close_deadline FROM {EXC} WHERE {id_in} ORDER BY id{lock}",  # noqa: S608
            params,
        )
        current = {
            pk: (tenant_id, as_decimal(amount), aware(close)) for pk, tenant_id, amount, close in cursor.fetchall()
        }
        closes.load({t for t, _, _ in current.values()})
        counted = contributions(cursor, list(current))
        stale = []
        for pk, (tenant_id, amount, close) in current.items():
            rows = counted.get(pk, [])
            want_amount = sum((a for a, _ in rows), decimal.Decimal("0.0000")) if rows else None
            deadlines = [c for c in (closes.of(tenant_id, at) for _, at in rows) if c is not None]
            want_close = min(deadlines) if deadlines else None
            if want_amount != amount or want_close != close:
                stale.append((pk, want_amount, want_close))
        if stale:
            write_money(cursor, stale)
        changed += len(stale)
    return changed


def write_money(cursor, rows):
    """One UPDATE for the changed rows ([(id, open_amount, close_deadline)]):
    joined to their values on PostgreSQL, a ``CASE id …`` elsewhere."""
    ts = connection.ops.adapt_datetimefield_value
    ids = [pk for pk, _, _ in rows]
    amounts = [None if amount is None else str(amount) for _, amount, _ in rows]
    closes = [ts(close) if close else None for _, _, close in rows]
    if connection.vendor == "postgresql":
        cursor.execute(
            f"UPDATE {EXC} e SET open_amount = v.amount, close_deadline = v.close"  # noqa: S608
            " FROM unnest(%s::bigint[], %s::numeric[], %s::timestamptz[]) AS v(id, amount, close) WHERE e.id = v.id",
            [ids, amounts, closes],
        )
        return
    whens = " ".join(["WHEN %s THEN %s"] * len(rows))
    cursor.execute(
        f"UPDATE {EXC} SET open_amount = (CASE id {whens} END), close_deadline = (CASE id {whens} END)"  # noqa: S608
        f" WHERE id IN ({', '.join(['%s'] * len(rows))})",
        [
            *[v for pk, a in zip(ids, amounts, strict=True) for v in (pk, a)],
            *[v for pk, c in zip(ids, closes, strict=True) for v in (pk, c)],
            *ids,
        ],
    )


def lock(exception_ids):
    """Lock the exceptions' rows in id order (the order ingest uses), before
    a writer changes their failures' states: so a replay result or a discard
    and an ingest into the same exception wait for each other, never deadlock."""
    ids = sorted({int(i) for i in exception_ids})
    if ids and connection.features.has_select_for_update:
        list(
            SyncException.objects.select_for_update(no_key=True)
            .filter(pk__in=ids)
            .order_by("pk")
            .values_list("pk", flat=True)
        )


def refresh_of_tenants(tenant_ids):
    """:func:`recompute` every exception of ``tenant_ids`` holding money or a
    failure with an amount (after their close, calendar or zone changed)."""
    ids = list(
        SyncException.objects.filter(tenant_id__in=list(tenant_ids), open_amount__isnull=False).values_list(
            "pk", flat=True
        )
    )
    changed = 0
    for chunk in chunks(sorted(ids), CHUNK):
        with transaction.atomic():
            lock(chunk)
            changed += recompute(chunk)
    return changed


def ingest_changes(cursor, tenant, held, *, recompute_ids, fresh, amounts_in, rows_now, integration_of):
    """After an ingest request's writes, its exceptions locked (``held``:
    {id: (tenant id, open_amount, close_deadline)} as read by the lock):
    work out their money with a constant number of statements. Returns
    (updates, ids, closes): the rows to write, [(id, open_amount,
    close_deadline)] (``counts.write`` writes them with the counts), and the
    exceptions to ``recompute`` whole once that is done, with the ``Closes``
    to reuse.

    ``recompute_ids``: exceptions whose failures this request rewrote or
    whose records' states it changed (re-posts, moves, recoveries): fully
    recomputed. ``fresh``: {(exception id, entity, record_id): [(run pk,
    occurred_at, amount)]} of the failure rows this request inserted;
    ``amounts_in``: exceptions that received a failure with an amount;
    ``rows_now``: {(exception id, entity, record_id): failure rows} as
    counted after the writes (``counts.tally``); ``integration_of``:
    {exception id: integration id}.

    Every other exception changed only by gaining new failure rows. For those
    that hold money or received an amount, the change is worked out from the
    records those rows belong to alone: each record's latest failure before
    (the rows of others, committed, which the stored figures already count:
    every writer of an exception's failures holds its lock) and after this
    request. An exception where a counted record stops counting, or where the
    record holding the earliest close moves it later, is fully recomputed
    instead. Exceptions that hold no money and got no amount cannot gain any,
    and cost nothing."""
    recompute_ids = set(recompute_ids)
    current = {
        pk: (tenant_id, as_decimal(amount), close)
        for pk, (tenant_id, amount, close) in held.items()
        if pk not in recompute_ids and (amount is not None or pk in amounts_in)
    }
    closes = Closes([tenant])
    closes.load({t for t, _, _ in current.values()})
    tenant_of = {pk: tenant_id for pk, (tenant_id, _, _) in current.items()}
    before, after = _latest_of_records(
        cursor, {k: v for k, v in fresh.items() if k[0] in current}, closes, tenant_of, rows_now, integration_of
    )
    updates = []
    for pk, (tenant_id, amount, close) in current.items():
        outcome = _moved(amount, close, before.get(pk, {}), after.get(pk, {}), closes.tenants[tenant_id])
        if outcome is None:
            recompute_ids.add(pk)
        elif outcome != (amount, close):
            updates.append((pk, *outcome))
    return updates, recompute_ids, closes


def _latest_of_records(cursor, fresh, closes, tenant_of, rows_now, integration_of):
    """({exception id: {record: contribution}} before and after this request's
    new rows ``fresh``), where a contribution is (amount, close) of the
    record's latest failure when it counts, else None.

    A record whose only failure in the exception is this request's new one
    (the common case: ``rows_now`` says so) is known without reading; the
    others are read by their exact keys (``integration_of``: {exception id:
    integration id})."""
    before, after = {}, {}
    if not fresh:
        return before, after
    latest_before, latest_after = {}, {}
    unknown = set()
    for key, mine in fresh.items():
        if len(mine) == 1 and rows_now.get(key) == 1:
            _run_pk, occurred_at, amount = mine[0]
            latest_after[key] = (occurred_at, 0, amount, FailureState.FAILED)
        else:
            unknown.add(key)
    mine = {(k[0], k[1], k[2], run_pk) for k in unknown for run_pk, _, _ in fresh[k]}
    keys = [(integration_of[k[0]], k[1], k[2]) for k in unknown]
    fields = ("run_id", "id", "occurred_at", "amount", "state")
    for exc_id, entity, record_id, run_pk, pk, occurred_at, amount, state in failures_of_records(
        cursor, keys, {k[0] for k in unknown}, fields
    ):
        key = (exc_id, entity, record_id)
        if key not in unknown:
            continue
        row = (aware(occurred_at), pk, amount, state)
        if (exc_id, entity, record_id, run_pk) not in mine and (
            key not in latest_before or row[:2] > latest_before[key][:2]
        ):
            latest_before[key] = row
        if key not in latest_after or row[:2] > latest_after[key][:2]:
            latest_after[key] = row
    # Only records that count before or after matter; most count after only.
    for key in fresh:
        exc_id = key[0]
        tenant_id = tenant_of[exc_id]
        old = _contribution(latest_before.get(key), tenant_id, closes)
        new = _contribution(latest_after.get(key), tenant_id, closes)
        if old is not None:
            before.setdefault(exc_id, {})[key[1:]] = old
        if old is not None or new is not None:
            after.setdefault(exc_id, {})[key[1:]] = new
    return before, after


def _contribution(row, tenant_id, closes):
    """(amount, close) of a record whose latest failure is ``row``, when it counts."""
    if row is None:
        return None
    occurred_at, _pk, amount, state = row
    if amount is None or state not in COUNTED:
        return None
    return as_decimal(amount), closes.of(tenant_id, occurred_at)


def _moved(amount, close, before, after, tenant):
    """(open_amount, close_deadline) once the records of ``before`` and
    ``after`` ({record: contribution or None}) changed, from the stored
    ``amount`` and ``close``; None when only a full recomputation can tell."""
    if tenant.close_business_day and amount is not None and close is None:
        return None  # stored before the tenant had a close: recompute
    total = amount
    earliest = close
    for record, new in after.items():
        old = before.get(record)
        if old == new:
            continue
        if old is not None and new is None:
            return None  # a record stops counting: was it the last one?
        if old is not None and old[1] is not None and old[1] == close and (new[1] is None or new[1] > old[1]):
            return None  # the earliest close moves later: which is next?
        total = (total or decimal.Decimal("0.0000")) + new[0] - (old[0] if old else 0)
        if new[1] is not None and (earliest is None or new[1] < earliest):
            earliest = new[1]
    return total, earliest
