"""The counts of exceptions: occurrences (failure rows), records (distinct
entity, record_id), first_seen and last_seen.

``count`` moves them by what an ingest request added or moved (its rows
locked, on its cursor); ``recount`` sets them from the failures that remain,
for code that deletes failures (retention), which also recomputes the money
the exceptions hold."""

from collections import defaultdict

from django.db import connection, transaction
from django.db.models import CharField, Count, Max, Min, Value
from django.db.models.functions import Cast, Concat, Length

from integrations.models import Failure, SyncException
from integrations.sync_exceptions import money
from integrations.sync_exceptions.money import write_money
from integrations.tables import EXC, FAILURE, chunks, failures_of_records


class Tally:
    """What an ingest request does to the counts of its exceptions, read
    before anything is written (``tally``), written by ``write``."""

    def __init__(self, ids, occurrences, records, spans, widened, after):
        self.ids = ids
        self.occurrences = occurrences
        self.records = records
        self.spans = spans
        self.widened = widened
        self.after = after  # {(exception id, entity, record_id): failure rows now}


def tally(cursor, exception_ids, gained, integration_of, spans, rewritten):
    """The counts of ``exception_ids`` (their rows locked, the request's
    failures written): occurrences (failure rows: distinct run, entity,
    record_id) move by the rows each gained or lost; records (distinct
    entity, record_id) by the records that appeared in or vanished from it,
    read from the failures of just those records (``integration_of``:
    {exception id: integration id}, for the exact record lookup); first_seen
    and last_seen widen to ``spans`` ({exception id: (earliest, latest
    occurred_at)} of the rows added), except in the exceptions ``rewritten``
    (rows re-posted, moved in or out), where they are read again from the
    (exception, occurred_at) index. ``Tally.after``: {(exception id, entity,
    record_id): failure rows now} of the records that gained or lost rows
    (``sync_exceptions.money`` reads no further for a record seen once)."""
    occurrences = defaultdict(int)
    for (exc_id, _entity, _record_id), delta in gained.items():
        occurrences[exc_id] += delta
    touched = {k: d for k, d in gained.items() if d}
    after = _rows_of_records(touched, cursor, integration_of)
    records = defaultdict(int)
    for k, delta in touched.items():
        now_has = after[k] > 0
        had = after[k] - delta > 0
        records[k[0]] += int(now_has) - int(had)
    ids = sorted(exception_ids)
    widened = {i for i in ids if i not in rewritten and i in spans}
    return Tally(ids, occurrences, records, spans, widened, after)


def write(cursor, counted, money=()):
    """Write the counts of ``counted`` (a ``Tally``) and, in the same UPDATE
    on PostgreSQL, the money ``money`` ([(exception id, open_amount,
    close_deadline)], ``sync_exceptions.money.ingest_changes``) of those
    exceptions: one new row version each, not two."""
    if connection.vendor == "postgresql":
        _update_arrays(cursor, counted, {pk: (amount, close) for pk, amount, close in money})
        return
    _update_cases(cursor, counted.ids, counted.occurrences, counted.records, counted.spans, counted.widened)
    if money:
        write_money(cursor, list(money))


def _rows_of_records(touched, cursor, integration_of):
    """{(exception id, entity, record_id): failure rows now} of the records
    ``touched``, each looked up by its exact key."""
    after = defaultdict(int)
    keys = [(integration_of[e], entity, record_id) for e, entity, record_id in touched]
    for exc_id, entity, record_id, n in failures_of_records(cursor, keys, {k[0] for k in touched}):
        after[(exc_id, entity, record_id)] = n
    return after


# An exception whose failures were all purged starts its span again.
_FIRST = "CASE WHEN e.occurrences = 0 OR e.first_seen IS NULL THEN {v} ELSE {least}(e.first_seen, {v}) END"
_LAST = "CASE WHEN e.occurrences = 0 OR e.last_seen IS NULL THEN {v} ELSE {greatest}(e.last_seen, {v}) END"
_REREAD = "(SELECT {agg}(f.occurred_at) FROM {failure} f WHERE f.exception_id = e.id)"


def _update_arrays(cursor, counted, money):
    """PostgreSQL: one UPDATE joining the exceptions to arrays of their
    changes (a CASE per exception would be compared row by row)."""
    ts = connection.ops.adapt_datetimefield_value
    first = _FIRST.format(v="v.lo", least="LEAST")
    last = _LAST.format(v="v.hi", greatest="GREATEST")
    ids = sorted(set(counted.ids) | set(money))
    spans, widened = counted.spans, counted.widened
    for chunk in chunks(ids, 5000):
        cursor.execute(
            f"UPDATE {EXC} e SET occurrences = e.occurrences + v.occ, records = e.records + v.rec,"  # noqa: S608
            f" first_seen = CASE WHEN v.widen THEN {first} ELSE {_REREAD.format(agg='MIN', failure=FAILURE)} END,"
            f" last_seen = CASE WHEN v.widen THEN {last} ELSE {_REREAD.format(agg='MAX', failure=FAILURE)} END,"
            " open_amount = CASE WHEN v.paid THEN v.amount ELSE e.open_amount END,"
            " close_deadline = CASE WHEN v.paid THEN v.close ELSE e.close_deadline END"
            " FROM unnest(%s::bigint[], %s::bigint[], %s::bigint[], %s::timestamptz[], %s::timestamptz[],"
            " %s::boolean[], %s::boolean[], %s::numeric[], %s::timestamptz[])"
            " AS v (id, occ, rec, lo, hi, widen, paid, amount, close) WHERE e.id = v.id",
            [
                chunk,
                [counted.occurrences.get(i, 0) for i in chunk],
                [counted.records.get(i, 0) for i in chunk],
                [ts(spans[i][0]) if i in widened else None for i in chunk],
                [ts(spans[i][1]) if i in widened else None for i in chunk],
                [i in widened for i in chunk],
                [i in money for i in chunk],
                [_amount_text(money[i][0]) if i in money else None for i in chunk],
                [ts(money[i][1]) if i in money and money[i][1] else None for i in chunk],
            ],
        )


def _amount_text(amount):
    return None if amount is None else str(amount)


def _update_cases(cursor, ids, occurrences, records, spans, widened):
    """SQLite: an UPDATE with a CASE per exception, the widened ones and the
    ones read again apart."""
    ts = connection.ops.adapt_datetimefield_value
    for group, reread in (([i for i in ids if i in widened], False), ([i for i in ids if i not in widened], True)):
        for chunk in chunks(group, 500):
            case = " ".join(["WHEN %s THEN %s"] * len(chunk))
            params = [v for i in chunk for v in (i, occurrences[i])] + [v for i in chunk for v in (i, records[i])]
            if reread:
                first = _REREAD.format(agg="MIN", failure=FAILURE)
                last = _REREAD.format(agg="MAX", failure=FAILURE)
            else:
                first = _FIRST.format(v=f"(CASE e.id {case} END)", least="MIN")
                last = _LAST.format(v=f"(CASE e.id {case} END)", greatest="MAX")
                lo = [v for i in chunk for v in (i, ts(spans[i][0]))]
                hi = [v for i in chunk for v in (i, ts(spans[i][1]))]
                params += lo + lo + hi + hi
            cursor.execute(
                f"UPDATE {EXC} AS e SET"  # noqa: S608
                f" occurrences = e.occurrences + (CASE e.id {case} ELSE 0 END),"
                f" records = e.records + (CASE e.id {case} ELSE 0 END),"
                f" first_seen = {first}, last_seen = {last}"
                f" WHERE e.id IN ({', '.join(['%s'] * len(chunk))})",
                params + chunk,
            )


@transaction.atomic
def recount(exception_ids):
    """Set occurrences (failures), records (distinct entity, record_id) and
    first/last seen of these exceptions from the failures that remain. With
    none left, the counts are 0 and first/last seen keep their history.

    The rows are locked first, so an ingest adding a failure meanwhile either
    is counted here or adds its own increment after this commits."""
    exceptions = {e.pk: e for e in SyncException.objects.select_for_update(no_key=True).filter(pk__in=exception_ids)}
    # Length-prefixed, so no pair of (entity, record_id) can collide.
    record_key = Concat(
        Cast(Length("entity"), CharField()), Value(":"), "entity", "record_id", output_field=CharField()
    )
    stats = {
        row["exception_id"]: row
        for row in Failure.objects.filter(exception_id__in=exceptions)
        .values("exception_id")
        .annotate(
            n=Count("pk"),
            distinct_records=Count(record_key, distinct=True),
            first=Min("occurred_at"),
            last=Max("occurred_at"),
        )
    }
    changed = []
    for pk, exception in exceptions.items():
        row = stats.get(pk)
        desired = {
            "occurrences": row["n"] if row else 0,
            "records": row["distinct_records"] if row else 0,
            "first_seen": row["first"] if row else exception.first_seen,
            "last_seen": row["last"] if row else exception.last_seen,
        }
        if any(getattr(exception, k) != v for k, v in desired.items()):
            for k, v in desired.items():
                setattr(exception, k, v)
            changed.append(exception)
    if changed:
        SyncException.objects.bulk_update(changed, ["occurrences", "records", "first_seen", "last_seen"])
    # The money they hold: purged failures take their amounts along.
    money.recompute(list(exceptions))
    return len(changed)
