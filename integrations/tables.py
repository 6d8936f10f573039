"""Table names and SQL helpers of the bulk writers (ingest and the
exceptions writer), which write with a constant number of statements."""

import datetime as dt

from django.db import connection

from integrations.models import ExceptionOpening, Failure, Run, RunLog, SyncException

RUN = Run._meta.db_table
LOG = RunLog._meta.db_table
FAILURE = Failure._meta.db_table
EXC = SyncException._meta.db_table
OPENING = ExceptionOpening._meta.db_table

CHUNK = 500  # rows per multi-row INSERT (SQLite allows 32,766 parameters)


def chunks(items, size=CHUNK):
    for start in range(0, len(items), size):
        yield items[start : start + size]


def in_(column, values, cast):
    """``column`` IN ``values``: one array parameter on PostgreSQL (cheap to
    bind however many values), a list of placeholders on SQLite."""
    values = list(values)
    if connection.vendor == "postgresql":
        return f"{column} = ANY(%s::{cast}[])", [values]
    return f"{column} IN ({', '.join(['%s'] * len(values))})", values


def failures_of_records(cursor, keys, exception_ids, fields=None):
    """The failures in ``exception_ids`` of the records ``keys``
    ((integration_id, entity, record_id)), as rows (exception_id, entity,
    record_id, *fields), or with ``fields`` None one row per exception and
    record: (exception_id, entity, record_id, number of failures).

    On PostgreSQL each record is one index probe by its exact key
    (``failure_integration_record``, a lateral subquery): a join or an
    ``= ANY`` list would let stale statistics (a tenant's first burst of
    failures, before any ANALYZE) choose a scan of every failure of the
    tenant. SQLite reads by integration and record id, and may answer rows of
    other records too: callers look up the records they asked for."""
    keys = sorted(set(keys))
    exc_ids = sorted(exception_ids)
    if not keys or not exc_ids:
        return []
    picked = "COUNT(*) AS n" if fields is None else ", ".join(f"f.{name}" for name in fields)
    grouped = " GROUP BY f.exception_id" if fields is None else ""
    if fields is None and connection.vendor != "postgresql":
        grouped = " GROUP BY f.exception_id, f.entity, f.record_id"
    rows = []
    for chunk in chunks(keys, 5000):
        if connection.vendor == "postgresql":
            outer = "c.n" if fields is None else ", ".join(f"c.{name}" for name in fields)
            cursor.execute(
                f"SELECT c.exception_id, k.entity, k.record_id, {outer}"  # noqa: S608 - names, placeholders
                " FROM unnest(%s::bigint[], %s::text[], %s::text[]) AS k (integration_id, entity, record_id)"
                f" CROSS JOIN LATERAL (SELECT f.exception_id, {picked} FROM {FAILURE} f"
                " WHERE f.integration_id = k.integration_id AND f.entity = k.entity AND f.record_id = k.record_id"
                f" AND f.exception_id = ANY(%s::bigint[]){grouped}) c",
                [[k[0] for k in chunk], [k[1] for k in chunk], [k[2] for k in chunk], exc_ids],
            )
        else:
            integration_in, p1 = in_("f.integration_id", sorted({k[0] for k in chunk}), "bigint")
            record_in, p2 = in_("f.record_id", sorted({k[2] for k in chunk}), "text")
            exc_in, p3 = in_("f.exception_id", exc_ids, "bigint")
            cursor.execute(
                f"SELECT f.exception_id, f.entity, f.record_id, {picked} FROM {FAILURE} f"  # noqa: S608
                f" WHERE {integration_in} AND {record_in} AND {exc_in}{grouped}",
                [*p1, *p2, *p3],
            )
        rows += cursor.fetchall()
    return rows


def aware(value):
    """Raw SQLite rows hold naive UTC values; PostgreSQL gives aware datetimes."""
    if value is None:
        return None
    if isinstance(value, str):
        from django.utils.dateparse import parse_datetime

        value = parse_datetime(value)
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)
