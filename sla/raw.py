"""Reading many timestamps cheaply: on PostgreSQL as integer microseconds
since the epoch (``EpochMicros``), exact and far cheaper to read than
timestamps when a day holds tens of thousands of rows; elsewhere as
timestamps. Used wherever the SLA code reads runs the rollups do not hold yet
(``sla.engine``) or rebuilds rollups from them (``sla.rollups``), and for the
openings of exceptions (``sla.engine``, ``sla.batch``)."""

from datetime import UTC, datetime, timedelta

from django.db import connection
from django.db.models import BigIntegerField, Func

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class EpochMicros(Func):
    """A timestamp as integer microseconds since the epoch (PostgreSQL): exact,
    and far cheaper to read than timestamps when there are thousands."""

    template = "(EXTRACT(EPOCH FROM %(expressions)s) * 1000000)::bigint"
    output_field = BigIntegerField()


def seconds_of_micros(micros):
    """Epoch seconds of integer epoch microseconds: the same float as
    ``datetime.timestamp()`` of that instant (both are the exact value,
    correctly rounded)."""
    return micros / 1_000_000


def rows_with_start_seconds(runs, fields):
    """(rows, seconds): ``runs.values_list(*fields)`` with ``started_at`` read
    as cheaply as the database allows, and the function giving epoch seconds
    of that column's values."""
    if connection.vendor == "postgresql":
        named = [f if f != "started_at" else "started_us" for f in fields]
        return runs.annotate(started_us=EpochMicros("started_at")).values_list(*named), seconds_of_micros
    return runs.values_list(*fields), datetime.timestamp


def rows_with_instants(qs, leading, instants):
    """``qs.values_list(*leading, *instants)`` as a list, the timestamp
    columns ``instants`` read as integer microseconds on PostgreSQL and
    turned back into the same aware datetimes (None stays None)."""
    if connection.vendor != "postgresql":
        return list(qs.values_list(*leading, *instants))
    rows = qs.annotate(**{f"{f}_us": EpochMicros(f) for f in instants}).values_list(
        *leading, *[f"{f}_us" for f in instants]
    )
    n = len(leading)
    return [(*row[:n], *[None if us is None else EPOCH + timedelta(microseconds=us) for us in row[n:]]) for row in rows]
