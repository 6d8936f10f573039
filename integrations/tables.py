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


def aware(value):
    """Raw SQLite rows hold naive UTC values; PostgreSQL gives aware datetimes."""
    if value is None:
        return None
    if isinstance(value, str):
        from django.utils.dateparse import parse_datetime

        value = parse_datetime(value)
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)
