"""The counts of exceptions: occurrences (failure rows), records (distinct
entity, record_id), first_seen and last_seen.

``count`` moves them by what an ingest request added or moved (its rows
locked, on its cursor); ``recount`` sets them from the failures that remain,
for code that deletes failures (retention), which also recomputes the money
the exceptions hold."""

from collections import defaultdict

from django.db import transaction
from django.db.models import CharField, Count, Max, Min, Value
from django.db.models.functions import Cast, Concat, Length

from integrations.models import Failure, SyncException
from integrations.sync_exceptions import money
from integrations.tables import EXC, FAILURE, chunks, in_


def count(cursor, tenant, exception_ids, gained):
    """Bring the counts of ``exception_ids`` up to date, their rows being
    locked: occurrences (failure rows: distinct run, entity, record_id) move
    by the rows each gained or lost; records (distinct entity, record_id)
    by the records that appeared in or vanished from it, read from the
    failures of just those records; first_seen and last_seen are the ends of
    the (exception, occurred_at) index. Returns {(exception id, entity,
    record_id): failure rows now} of the records that gained or lost rows
    (``sync_exceptions.money`` reads no further for a record seen once)."""
    occurrences = defaultdict(int)
    after = defaultdict(int)
    for (exc_id, _entity, _record_id), delta in gained.items():
        occurrences[exc_id] += delta
    records = defaultdict(int)
    touched = {k: d for k, d in gained.items() if d}
    if touched:
        record_ids = sorted({k[2] for k in touched})
        exc_ids = sorted({k[0] for k in touched})
        for chunk in chunks(record_ids, 5000):
            record_in, p1 = in_("record_id", chunk, "text")
            exc_in, p2 = in_("exception_id", exc_ids, "bigint")
            cursor.execute(
                f"SELECT exception_id, entity, record_id, COUNT(*) FROM {FAILURE}"  # noqa: S608
                f" WHERE tenant_id = %s AND {record_in} AND {exc_in}"
                " GROUP BY exception_id, entity, record_id",
                [tenant.pk, *p1, *p2],
            )
            for exc_id, entity, record_id, n in cursor.fetchall():
                after[(exc_id, entity, record_id)] = n
        for k, delta in touched.items():
            now_has = after[k] > 0
            had = after[k] - delta > 0
            records[k[0]] += int(now_has) - int(had)
    ids = sorted(exception_ids)
    for chunk in chunks(ids, 1000):
        occ_case = " ".join(["WHEN %s THEN %s"] * len(chunk))
        cursor.execute(
            f"UPDATE {EXC} SET"  # noqa: S608
            f" occurrences = occurrences + (CASE id {occ_case} ELSE 0 END),"
            f" records = records + (CASE id {occ_case} ELSE 0 END),"
            f" first_seen = (SELECT MIN(f.occurred_at) FROM {FAILURE} f WHERE f.exception_id = {EXC}.id),"
            f" last_seen = (SELECT MAX(f.occurred_at) FROM {FAILURE} f WHERE f.exception_id = {EXC}.id)"
            f" WHERE id IN ({', '.join(['%s'] * len(chunk))})",
            [v for i in chunk for v in (i, occurrences[i])] + [v for i in chunk for v in (i, records[i])] + chunk,
        )
    return after


@transaction.atomic
def recount(exception_ids):
    """Set occurrences (failures), records (distinct entity, record_id) and
    first/last seen of these exceptions from the failures that remain. With
    none left, the counts are 0 and first/last seen keep their history.

    The rows are locked first, so an ingest adding a failure meanwhile either
    is counted here or adds its own increment after this commits."""
    exceptions = {e.pk: e for e in SyncException.objects.select_for_update().filter(pk__in=exception_ids)}
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
