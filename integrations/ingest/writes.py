"""The bulk writes of the ingest path (contract 3.1): runs, failures, log
lines and exceptions, as a constant number of statements per request.

PostgreSQL takes rows by COPY (into the tables for runs this request
inserted, else into session-local staging tables followed by one
INSERT … SELECT … ON CONFLICT each) and lists as array parameters; SQLite
takes multi-row VALUES statements."""

import datetime as dt
import uuid

from django.db import connection

from integrations.models import (
    DEFAULT_PRIORITY,
    ExceptionOpening,
    ExceptionStatus,
    Failure,
    Integration,
    RoutingRule,
    Run,
    RunLog,
    SyncException,
)
from sla.clock import TenantClocks, opening_deadline

RUN = Run._meta.db_table
LOG = RunLog._meta.db_table
FAILURE = Failure._meta.db_table
EXC = SyncException._meta.db_table
OPENING = ExceptionOpening._meta.db_table

CHUNK = 500  # rows per multi-row INSERT (SQLite allows 32,766 parameters)


def chunks(items, size=CHUNK):
    for start in range(0, len(items), size):
        yield items[start : start + size]


RUN_COLS = (
    "tenant_id, integration_id, run_id, status, trigger, started_at, finished_at, replay_id, processed,"
    " succeeded, failed, skipped, lag_seconds, worker, received_at, updated_at"
)
FAILURE_COLS = (
    "run_id, tenant_id, integration_id, exception_id, entity, record_id, operation, error_code, error_class,"
    " message, fingerprint, occurred_at, source_changed_at, payload, response, state, received_at"
)
LOG_COLS = "run_id, at, level, message, context, digest"

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
    source_changed_at timestamptz, payload jsonb, response jsonb, state text, received_at timestamptz)
    ON COMMIT DELETE ROWS;
CREATE TEMP TABLE IF NOT EXISTS ingest_stage_log (
    run_id bigint, at timestamptz, level text, message text, context jsonb, digest text) ON COMMIT DELETE ROWS;
DELETE FROM ingest_stage_run; DELETE FROM ingest_stage_failure; DELETE FROM ingest_stage_log;
"""


def copy(cursor, table, cols, rows):
    """COPY ``rows`` into a staging table through the driver's cursor."""
    with cursor.cursor.copy(f"COPY {table} ({cols}) FROM STDIN") as copy:
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
        copy(cursor, "ingest_stage_run", RUN_COLS, run_rows(tenant, merged, ordered, now, ts, native_uuid))
        cursor.execute(
            f"SELECT r.integration_id, r.started_at FROM {RUN} r JOIN ingest_stage_run s"  # noqa: S608
            " ON s.integration_id = r.integration_id AND s.run_id = r.run_id WHERE s.started_at <> r.started_at"
        )
        moved = cursor.fetchall()
        cursor.execute(
            f"INSERT INTO {RUN} ({RUN_COLS}) SELECT {RUN_COLS} FROM ingest_stage_run"  # noqa: S608
            f" ORDER BY integration_id, run_id ON CONFLICT (integration_id, run_id) DO UPDATE SET {RUN_UPDATES}"
            " RETURNING id, integration_id, run_id, (xmax = 0)"
        )
        pks = {}
        for pk, integration_id, run_id, fresh in cursor.fetchall():
            pks[(integration_id, run_id)] = pk
            if fresh:
                inserted.add((integration_id, run_id))
        return pks, inserted, moved
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


RUN_UPDATES = ", ".join(
    f"{c} = excluded.{c}"
    for c in (
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
)


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


def route(rules, slug_of, integration_id, f):
    """(priority, assignee id, runbook) from the first matching routing rule."""
    facts = {
        "integration": slug_of.get(integration_id),
        "entity": f["entity"],
        "error_class": f["error_class"],
        "error_code": f["error_code"],
    }
    for match, priority, assign_id, runbook in rules:
        if all(facts.get(k) == v for k, v in match.items() if k in facts):
            return priority, assign_id, runbook
    return DEFAULT_PRIORITY, None, ""


def in_(column, values, cast):
    """``column`` IN ``values``: one array parameter on PostgreSQL (cheap to
    bind however many values), a list of placeholders on SQLite."""
    values = list(values)
    if connection.vendor == "postgresql":
        return f"{column} = ANY(%s::{cast}[])", [values]
    return f"{column} IN ({', '.join(['%s'] * len(values))})", values


def ensure_exceptions(cursor, tenant, first_of_key, now, ts, clocks=None):
    """The ids of the exceptions of ``first_of_key`` ((integration id, key
    hash) -> its first failure), creating the missing ones with their
    routing and their first SLA deadline (``due_at``, from ``clocks``, a
    :class:`sla.clock.TenantClocks`). Returns ({(integration id, key hash): id}, set of ids created).

    1. read which keys exist: usually all, so nothing is inserted;
    2. insert the missing ones in key order, ignoring conflicts (a concurrent
       request inserting the same key makes this wait for it);
    3. read the ids of keys another request inserted meanwhile."""
    created = set()
    ids = {}
    hashes = sorted({h for _, h in first_of_key})
    integration_ids = sorted({i for i, _ in first_of_key})
    select = f"SELECT integration_id, key_hash, id FROM {EXC}"  # noqa: S608

    def read(hash_list):
        for chunk in chunks(hash_list, 5000):
            integration_in, p1 = in_("integration_id", integration_ids, "bigint")
            hash_in, p2 = in_("key_hash", chunk, "text")
            cursor.execute(f"{select} WHERE {integration_in} AND {hash_in}", p1 + p2)
            for integration_id, hashed, pk in cursor.fetchall():
                if (integration_id, hashed) in first_of_key:
                    ids[(integration_id, hashed)] = pk

    read(hashes)
    missing = sorted(k for k in first_of_key if k not in ids)
    if missing:
        rules = [
            (r.match if isinstance(r.match, dict) else {}, r.priority, r.assign_id, r.runbook)
            for r in RoutingRule.objects.filter(tenant=tenant).order_by("position")
        ]
        slug_of = {}
        if rules:
            slug_of = dict(Integration.objects.filter(tenant=tenant).values_list("id", "slug"))
        cols = (
            "tenant_id, integration_id, key_hash, fingerprint, grouped_by, title, entity, error_code, error_class,"
            " status, priority, assignee_id, runbook, occurrences, records, opened_at, regressed, created, due_at"
        )
        row_marks = "(" + ", ".join(["%s"] * 19) + ")"
        clocks = clocks if clocks is not None else TenantClocks()
        due_of = {}
        stamp = ts(now)
        for chunk in chunks(missing):
            params = []
            for integration_id, hashed in chunk:
                f = first_of_key[(integration_id, hashed)]
                priority, assign_id, runbook = route(rules, slug_of, integration_id, f)
                if priority not in due_of:
                    due_of[priority] = opening_deadline(tenant, priority, now, clocks)
                params += [
                    tenant.pk,
                    integration_id,
                    hashed,
                    f["fingerprint"] or hashed,
                    f["grouped_by"],
                    f["title"],
                    f["entity"],
                    f["error_code"],
                    f["error_class"],
                    ExceptionStatus.OPEN,
                    priority,
                    assign_id,
                    runbook,
                    0,
                    0,
                    stamp,
                    False,
                    stamp,
                    ts(due_of[priority]) if due_of[priority] else None,
                ]
            cursor.execute(
                f"INSERT INTO {EXC} ({cols}) VALUES {', '.join([row_marks] * len(chunk))}"  # noqa: S608
                " ON CONFLICT (integration_id, key_hash) DO NOTHING RETURNING id, integration_id, key_hash",
                params,
            )
            for pk, integration_id, hashed in cursor.fetchall():
                created.add(pk)
                ids[(integration_id, hashed)] = pk
        raced = sorted({h for k in missing if k not in ids for h in [k[1]]})
        if raced:
            read(raced)
    return ids, created


def lock_exceptions(cursor, exception_ids):
    """Lock ``exception_ids`` with SELECT … FOR UPDATE in id order (an order
    every request shares, so none deadlock) and read what the state rules
    need: {id: (id, status, ignored_until, priority)}."""
    found = {}
    ids = sorted(exception_ids)
    lock = " FOR UPDATE" if connection.features.has_select_for_update else ""
    for chunk in chunks(ids, 5000):
        id_in, params = in_("id", chunk, "bigint")
        cursor.execute(
            f"SELECT id, status, ignored_until, priority FROM {EXC} WHERE {id_in} ORDER BY id{lock}",  # noqa: S608
            params,
        )
        for pk, status, ignored_until, priority in cursor.fetchall():
            found[pk] = (pk, status, aware(ignored_until), priority)
    return found


def aware(value):
    """Raw SQLite rows hold naive UTC values; PostgreSQL gives aware datetimes."""
    if value is None:
        return None
    if isinstance(value, str):
        from django.utils.dateparse import parse_datetime

        value = parse_datetime(value)
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


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
    row_marks = f"(%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, {json_mark}, {json_mark}, %s, %s)"
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
        )
    )
    if connection.vendor == "postgresql":
        direct, rows = split_fresh(rows, fresh)
        if direct:
            copy(cursor, FAILURE, cols, direct)
        if not rows:
            return
        copy(cursor, "ingest_stage_failure", cols, rows)
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
            copy(cursor, LOG, LOG_COLS, direct)
        if not rows:
            return
        copy(cursor, "ingest_stage_log", LOG_COLS, rows)
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
