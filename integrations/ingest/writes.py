"""The bulk writes of the ingest path (contract 3.1): runs, failures and log
lines, as a constant number of statements per request (exceptions are
``integrations.sync_exceptions.ingested``).

PostgreSQL takes rows by binary COPY (into the tables for runs this request
inserted, else into session-local staging tables followed by one
INSERT … SELECT … ON CONFLICT each) and lists as array parameters; SQLite
takes multi-row VALUES statements."""

import datetime as dt
import uuid

from django.db import OperationalError, connection
from psycopg.adapt import Dumper
from psycopg.postgres import types as pg_types
from psycopg.pq import Format

from integrations.models import Run
from integrations.tables import FAILURE, LOG, RUN, chunks

RUN_COLS = (
    "tenant_id, integration_id, run_id, status, trigger, started_at, finished_at, replay_id, processed,"
    " succeeded, failed, skipped, lag_seconds, worker, received_at, updated_at"
)
FAILURE_COLS = (
    "run_id, tenant_id, integration_id, exception_id, entity, record_id, operation, error_code, error_class,"
    " message, fingerprint, occurred_at, source_changed_at, payload, response, state, received_at, amount, currency"
)
LOG_COLS = "run_id, at, level, message, context, digest"

# The PostgreSQL types of those columns, in order, for binary COPY: each value
# goes in the database's own wire format (integers and instants as such, no
# text to write here or parse there), five times cheaper to send per row
# than text. Text columns take varchar too.
TZ, INT, TEXT, JSONB = "timestamptz", "int8", "text", "jsonb"
RUN_TYPES = [INT, INT, TEXT, TEXT, TEXT, TZ, TZ, "uuid", INT, INT, INT, INT, INT, JSONB, TZ, TZ]
FAILURE_TYPES = [INT, INT, INT, INT, *[TEXT] * 7, TZ, TZ, JSONB, JSONB, TEXT, TZ, "numeric", TEXT]
LOG_TYPES = [INT, TZ, TEXT, TEXT, JSONB, TEXT]


class JsonTextBinaryDumper(Dumper):
    """Stored JSON text (scrubbed and bounded, ``integrations.scrub.stored_text``)
    as a binary ``jsonb`` value: the format's version byte, then the text."""

    format = Format.BINARY
    oid = pg_types["jsonb"].oid

    def dump(self, obj):
        return b"\x01" + obj.encode()


# PostgreSQL: rows travel by COPY into session-local staging tables, then one
# INSERT … SELECT … ON CONFLICT each; ten times cheaper than binding a large
# multi-row VALUES statement.
STAGING = """
CREATE TEMP TABLE IF NOT EXISTS ingest_stage_run (
    tenant_id bigint, integration_id bigint, run_id text, status text, trigger text, started_at timestamptz,
    finished_at timestamptz, replay_id uuid, processed bigint, succeeded bigint, failed bigint, skipped bigint,
    lag_seconds bigint, worker jsonb, received_at timestamptz, updated_at timestamptz) ON COMMIT DELETE ROWS;
CREATE TEMP TABLE IF NOT EXISTS ingest_stage_failure (
    run_id bigint, tenant_id bigint, integration_id bigint, exception_id bigint, entity text, record_id text,
    operation text, error_code text, error_class text, message text, fingerprint text, occurred_at timestamptz,
    source_changed_at timestamptz, payload jsonb, response jsonb, state text, received_at timestamptz,
    amount numeric(16, 4), currency text) ON COMMIT DELETE ROWS;
CREATE TEMP TABLE IF NOT EXISTS ingest_stage_log (
    run_id bigint, at timestamptz, level text, message text, context jsonb, digest text) ON COMMIT DELETE ROWS;
DELETE FROM ingest_stage_run; DELETE FROM ingest_stage_failure; DELETE FROM ingest_stage_log;
"""


def copy(cursor, table, cols, types, rows):
    """Binary COPY of ``rows`` into ``table`` through the driver's cursor;
    ``types``: the PostgreSQL type of each of ``cols``. JSON columns take
    stored JSON text (``JsonTextBinaryDumper``, for this cursor only)."""
    raw = cursor.cursor
    raw.adapters.register_dumper(None, JsonTextBinaryDumper)
    with raw.copy(f"COPY {table} ({cols}) FROM STDIN (FORMAT BINARY)") as copy:
        copy.set_types(types)
        for row in rows:
            copy.write_row(row)


def upsert_runs(cursor, tenant, merged, ordered, now, ts, json_mark, native_uuid):
    """Insert or update the runs; return ({key: pk}, set of keys inserted,
    [(integration_id, started_at before)] of re-posted runs whose started_at
    moved, so the SLA rollups can rebuild the bucket such a run left)."""
    postgres = connection.vendor == "postgresql"
    inserted = set()
    moved = []
    if postgres:
        cursor.execute(STAGING)
        copy(cursor, "ingest_stage_run", RUN_COLS, RUN_TYPES, run_rows(tenant, merged, ordered, now, ts, native_uuid))
        pks = {}
        for _attempt in range(3):
            inserted.update(_insert_new_runs(cursor, pks))
            if len(pks) < len(ordered):
                moved += _update_reposted_runs(cursor, pks)
            if len(pks) == len(ordered):
                return pks, inserted, moved
        # A re-posted run deleted (retention) between the two statements,
        # three times over.
        raise OperationalError("could not serialize the re-posted runs")
    if not postgres:
        # SQLite serialises writers (IMMEDIATE transactions): a read first is exact.
        for chunk in chunks(ordered, 400):
            cursor.execute(
                f"SELECT integration_id, run_id, started_at FROM {RUN} WHERE "  # noqa: S608
                + " OR ".join(["(integration_id = %s AND run_id = %s)"] * len(chunk)),
                [v for key in chunk for v in key],
            )
            known = {}
            for integration_id, run_id, started_at in cursor.fetchall():
                known[(integration_id, run_id)] = started_at
            inserted.update(key for key in chunk if key not in known)
            for key, started_at in known.items():
                # The SQLite cursor answers naive UTC datetimes.
                before = started_at.replace(tzinfo=dt.UTC) if started_at.tzinfo is None else started_at
                if before != merged[key]["started_at"]:
                    moved.append((key[0], before))
    row_marks = f"(%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, {json_mark}, %s, %s)"
    rows = run_rows(tenant, merged, ordered, now, ts, native_uuid)
    pks = {}
    for chunk in chunks(rows):
        cursor.execute(
            f"INSERT INTO {RUN} ({RUN_COLS}) VALUES {', '.join([row_marks] * len(chunk))}"  # noqa: S608
            f" ON CONFLICT (integration_id, run_id) DO UPDATE SET {RUN_UPDATES} RETURNING id, integration_id, run_id",
            [v for row in chunk for v in row],
        )
        for pk, integration_id, run_id in cursor.fetchall():
            pks[(integration_id, run_id)] = pk
    return pks, inserted, moved


RUN_UPDATED = (
    "status",
    "trigger",
    "started_at",
    "finished_at",
    "replay_id",
    "processed",
    "succeeded",
    "failed",
    "skipped",
    "lag_seconds",
    "worker",
    "updated_at",
)
RUN_UPDATES = ", ".join(f"{c} = excluded.{c}" for c in RUN_UPDATED)
STAGED_RUN_UPDATES = ", ".join(f"{c} = s.{c}" for c in RUN_UPDATED)


def _insert_new_runs(cursor, pks):
    """PostgreSQL: insert the staged runs not stored yet, in key order (a
    run being inserted by another request is waited for); add their keys to
    ``pks`` ({key: pk}) and return those keys. Nothing is looked up before:
    a new run costs the one probe of the unique key the insert makes."""
    cursor.execute(
        f"INSERT INTO {RUN} ({RUN_COLS}) SELECT {RUN_COLS} FROM ingest_stage_run"  # noqa: S608
        " ORDER BY integration_id, run_id ON CONFLICT (integration_id, run_id) DO NOTHING"
        " RETURNING id, integration_id, run_id"
    )
    fresh = []
    for pk, integration_id, run_id in cursor.fetchall():
        pks[(integration_id, run_id)] = pk
        fresh.append((integration_id, run_id))
    return fresh


def _update_reposted_runs(cursor, pks):
    """PostgreSQL: the staged runs already stored (re-posts): lock them in key
    order, read where they started, update them; add their keys to ``pks``
    and return [(integration_id, started_at before)] of those whose
    started_at moved."""
    cursor.execute(
        f"SELECT r.id, r.integration_id, r.run_id, r.started_at <> s.started_at, r.started_at"  # noqa: S608
        f" FROM {RUN} r JOIN ingest_stage_run s ON s.integration_id = r.integration_id AND s.run_id = r.run_id"
        " WHERE r.id <> ALL(%s::bigint[]) ORDER BY r.integration_id, r.run_id FOR UPDATE OF r",
        [list(pks.values())],
    )
    rows = cursor.fetchall()
    if not rows:
        return []
    cursor.execute(
        f"UPDATE {RUN} r SET {STAGED_RUN_UPDATES} FROM ingest_stage_run s"  # noqa: S608
        " WHERE s.integration_id = r.integration_id AND s.run_id = r.run_id AND r.id = ANY(%s::bigint[])",
        [[row[0] for row in rows]],
    )
    for pk, integration_id, run_id, _moved, _before in rows:
        pks[(integration_id, run_id)] = pk
    return [(integration_id, before) for _pk, integration_id, _run_id, moved, before in rows if moved]


def run_rows(tenant, merged, ordered, now, ts, native_uuid):
    stamp = ts(now)
    rows = []
    for key in ordered:
        r = merged[key]
        replay = r["replay_id"]
        if replay is not None:
            replay = uuid.UUID(replay) if native_uuid else uuid.UUID(replay).hex
        rows.append(
            (
                tenant.pk,
                key[0],
                key[1],
                r["status"],
                r["trigger"],
                ts(r["started_at"]),
                ts(r["finished_at"]) if r["finished_at"] else None,
                replay,
                r["processed"],
                r["succeeded"],
                r["failed"],
                r["skipped"],
                r["lag_seconds"],
                r["worker"],
                stamp,
                stamp,
            )
        )
    return rows


def split_fresh(rows, fresh):
    """(rows of runs this request inserted, the others). A run just inserted
    is locked by this transaction and has no failures or logs yet, so its
    rows cannot conflict and go straight into the table by COPY."""
    direct, other = [], []
    for row in rows:
        (direct if row[0] in fresh else other).append(row)
    return direct, other


def upsert_failures(cursor, rows, json_mark, fresh):
    if not rows:
        return
    cols = FAILURE_COLS
    row_marks = f"(%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, {json_mark}, {json_mark}, %s, %s, %s, %s)"
    # ``state`` is left alone: a re-post does not undo a replay or a recovery.
    updates = ", ".join(
        f"{c} = excluded.{c}"
        for c in (
            "exception_id",
            "operation",
            "error_code",
            "error_class",
            "message",
            "fingerprint",
            "occurred_at",
            "source_changed_at",
            "payload",
            "response",
            "amount",
            "currency",
        )
    )
    if connection.vendor == "postgresql":
        direct, rows = split_fresh(rows, fresh)
        if direct:
            copy(cursor, FAILURE, cols, FAILURE_TYPES, direct)
        if not rows:
            return
        copy(cursor, "ingest_stage_failure", cols, FAILURE_TYPES, rows)
        cursor.execute(
            f"INSERT INTO {FAILURE} ({cols}) SELECT {cols} FROM ingest_stage_failure"  # noqa: S608
            f" ORDER BY run_id, entity, record_id ON CONFLICT (run_id, entity, record_id) DO UPDATE SET {updates}"
        )
        return
    for chunk in chunks(rows):
        cursor.execute(
            f"INSERT INTO {FAILURE} ({cols}) VALUES {', '.join([row_marks] * len(chunk))}"  # noqa: S608
            f" ON CONFLICT (run_id, entity, record_id) DO UPDATE SET {updates}",
            [v for row in chunk for v in row],
        )


def insert_logs(cursor, rows, json_mark, fresh):
    if not rows:
        return
    if connection.vendor == "postgresql":
        direct, rows = split_fresh(rows, fresh)
        if direct:
            copy(cursor, LOG, LOG_COLS, LOG_TYPES, direct)
        if not rows:
            return
        copy(cursor, "ingest_stage_log", LOG_COLS, LOG_TYPES, rows)
        cursor.execute(
            f"INSERT INTO {LOG} ({LOG_COLS}) SELECT {LOG_COLS} FROM ingest_stage_log"  # noqa: S608
            " ON CONFLICT (run_id, digest) DO NOTHING"
        )
        return
    row_marks = f"(%s, %s, %s, %s, {json_mark}, %s)"
    for chunk in chunks(rows, 1000):
        cursor.execute(
            f"INSERT INTO {LOG} (run_id, at, level, message, context, digest)"  # noqa: S608
            f" VALUES {', '.join([row_marks] * len(chunk))} ON CONFLICT (run_id, digest) DO NOTHING",
            [v for row in chunk for v in row],
        )


def link_replay_run(replay, run_id):
    """The run a worker names in a replay's result (contract 3.4) belongs to
    that replay, unless it already belongs to one."""
    Run.objects.filter(integration_id=replay.integration_id, run_id=run_id, replay__isnull=True).update(replay=replay)
