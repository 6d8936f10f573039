"""Storing reported runs (contract 3.1, 3.2) and the exception states they
drive (4.1).

One transaction per request, a constant number of statements whatever the
number of runs, failures and logs:

1. validate every document in plain Python (``validate.py``);
2. upsert the runs, sorted by (integration, run_id), which locks their rows
   and so serialises concurrent re-posts of one run;
3. read the failures those runs already had (re-posts) in one query;
4. insert the exceptions new grouping keys need (conflicts ignored), then
   lock every exception involved with ``SELECT … FOR UPDATE`` ordered by id,
   an order every request shares, so concurrent requests cannot deadlock;
5. upsert the failures on (run, entity, record_id), never touching ``state``;
   insert log lines, ignoring those already stored (same digest);
6. open, reopen (regression) or leave each exception as its new failures say;
7. mark ``recovered`` records and resolve exceptions left fully remediated;
8. recount occurrences, records, first_seen and last_seen of every exception
   involved with one UPDATE, while its row lock is held: counts are exact
   whatever runs concurrently and whatever is posted twice;
9. call the listeners (``RUN_LISTENERS``, ``OPENING_LISTENERS``).
"""

import datetime as dt
import logging
import uuid
from collections import defaultdict

from django.db import OperationalError, connection, transaction
from django.utils import timezone

from integrations.ingest import scrub as scrubbing
from integrations.ingest.validate import Context, Invalid, replay_ids_in, validate_run
from integrations.models import (
    DEFAULT_PRIORITY,
    ExceptionOpening,
    ExceptionStatus,
    Failure,
    FailureState,
    Integration,
    Replay,
    RoutingRule,
    Run,
    RunLog,
    SyncException,
)
from opsconsole import metrics
from opsconsole.models import AuditEntry

log = logging.getLogger(__name__)

# Callables ``(tenant_id, run_pks)`` run inside the ingest transaction after
# the runs, failures and logs are written (SLA rollups register here).
RUN_LISTENERS = []

# Callables ``(tenant_id, openings)`` run inside the transaction, where
# ``openings`` lists ``(exception_id, kind)`` with kind ``opened`` (a new
# exception), ``regressed`` (a resolved one reopened) or ``reopened`` (an
# ignored one whose ``until`` had passed). Alerts register here.
OPENING_LISTENERS = []

UNREMEDIATED_STATES = (FailureState.FAILED, FailureState.REPLAY_REQUESTED, FailureState.REPLAY_FAILED)

RUN = Run._meta.db_table
LOG = RunLog._meta.db_table
FAILURE = Failure._meta.db_table
EXC = SyncException._meta.db_table
OPENING = ExceptionOpening._meta.db_table

CHUNK = 500  # rows per multi-row INSERT (SQLite allows 32,766 parameters)


# --- entry points -------------------------------------------------------------------------------


def ingest_runs(tenant, documents, actor=None, *, now=None, strings_clean=False):
    """Validate and store ``documents`` (decoded run documents) for
    ``tenant``; return one result per document, in order:
    ``{"index", "run_id", "result": "created"|"updated"|"rejected", "errors"?}``
    (stored runs also carry ``"id"``, the Run's primary key). Valid runs are
    stored even when others are rejected. ``strings_clean`` says the caller
    has checked the JSON text for NUL and surrogate escapes."""
    now = now or timezone.now()
    ctx = _context(tenant, documents, now)
    ctx.strings_clean = strings_clean
    results = []
    valid = []
    for index, doc in enumerate(documents):
        try:
            cleaned = validate_run(doc, ctx)
        except Invalid as exc:
            run_id = doc.get("run_id") if isinstance(doc, dict) else None
            results.append(
                {
                    "index": index,
                    "run_id": run_id if isinstance(run_id, str) else None,
                    "result": "rejected",
                    "errors": exc.errors,
                }
            )
            continue
        results.append({"index": index, "run_id": cleaned["run_id"], "result": None})
        valid.append((index, cleaned))

    if valid:
        outcome = _store_with_retry(tenant, [c for _, c in valid], now)
        for (index, _), (pk, created) in zip(valid, outcome, strict=True):
            results[index]["result"] = "created" if created else "updated"
            results[index]["id"] = pk

    created = sum(1 for r in results if r["result"] == "created")
    updated = sum(1 for r in results if r["result"] == "updated")
    rejected = len(results) - created - updated
    if created:
        metrics.inc("opsconsole_ingest_runs_total", created, result="created")
    if updated:
        metrics.inc("opsconsole_ingest_runs_total", updated, result="updated")
    if rejected:
        metrics.inc("opsconsole_ingest_rejected_total", rejected, reason="invalid_run")
    failures = sum(len(c["failures"]) for _, c in valid)
    if failures:
        metrics.inc("opsconsole_ingest_failures_total", failures)
    return results


def run_document(run_pk):
    """The stored-run answer of ``POST /api/v1/runs`` (contract 3.1)."""
    run = Run.objects.select_related("integration").get(pk=run_pk)
    touched = sorted(set(Failure.objects.filter(run_id=run_pk).values_list("exception_id", flat=True).order_by()))
    return {
        "id": run.pk,
        "integration": run.integration.slug,
        "run_id": run.run_id,
        "status": run.status,
        "trigger": run.trigger,
        "started_at": iso(run.started_at),
        "finished_at": iso(run.finished_at),
        "replay_id": str(run.replay_id) if run.replay_id else None,
        "records": {
            "processed": run.processed,
            "succeeded": run.succeeded,
            "failed": run.failed,
            "skipped": run.skipped,
        },
        "lag_seconds": run.lag_seconds,
        "worker": run.worker,
        "received_at": iso(run.received_at),
        "updated_at": iso(run.updated_at),
        "failures": len_failures(run_pk),
        "exceptions": touched,
    }


def len_failures(run_pk):
    return Failure.objects.filter(run_id=run_pk).count()


def iso(value):
    """UTC with ``Z`` (contract 8)."""
    if value is None:
        return None
    return value.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")


def resolve_if_remediated(exception_ids, reason, *, now=None):
    """Resolve those of ``exception_ids`` that are open, acknowledged or
    ignored, have failures, and have none left in failed, replay_requested or
    replay_failed (every record replayed, recovered or discarded). Closes the
    current opening as resolved and writes a ``system`` audit entry saying
    ``reason``. Returns the ids resolved. Call inside a transaction."""
    ids = sorted({int(i) for i in exception_ids})
    if not ids:
        return []
    now = now or timezone.now()
    ts = connection.ops.adapt_datetimefield_value
    marks = ", ".join(["%s"] * len(ids))
    states = ", ".join(["%s"] * len(UNREMEDIATED_STATES))
    with connection.cursor() as cursor:
        # A conditional UPDATE: concurrent ingests or replays cannot slip a
        # failing record in between the check and the change.
        cursor.execute(
            f"UPDATE {EXC} SET status = %s, resolved_at = %s"  # noqa: S608 - table names, placeholders
            f" WHERE id IN ({marks}) AND status IN (%s, %s, %s)"
            f" AND EXISTS (SELECT 1 FROM {FAILURE} f WHERE f.exception_id = {EXC}.id)"
            f" AND NOT EXISTS (SELECT 1 FROM {FAILURE} f WHERE f.exception_id = {EXC}.id AND f.state IN ({states}))"
            f" RETURNING id, tenant_id, title",
            [
                ExceptionStatus.RESOLVED,
                ts(now),
                *ids,
                ExceptionStatus.OPEN,
                ExceptionStatus.ACKNOWLEDGED,
                ExceptionStatus.IGNORED,
                *UNREMEDIATED_STATES,
            ],
        )
        resolved = sorted(cursor.fetchall())
        if not resolved:
            return []
        done = [row[0] for row in resolved]
        marks = ", ".join(["%s"] * len(done))
        cursor.execute(
            f"UPDATE {OPENING} SET resolved_at = %s, acknowledged_at = COALESCE(acknowledged_at, %s)"  # noqa: S608
            f" WHERE exception_id IN ({marks}) AND closed_at IS NULL AND resolved_at IS NULL",
            [ts(now), ts(now), *done],
        )
    _audit(
        [
            (tenant_id, exc_id, "exception.resolve", f"Resolved automatically: {reason}", {"reason": reason})
            for exc_id, tenant_id, _title in resolved
        ],
        now,
    )
    return done


# --- context and retries ------------------------------------------------------------------------


def _context(tenant, documents, now):
    integrations = dict(Integration.objects.filter(tenant=tenant).values_list("slug", "id"))
    wanted = replay_ids_in(documents)
    replays = set()
    if wanted:
        replays = {str(pk) for pk in Replay.objects.filter(tenant=tenant, id__in=wanted).values_list("id", flat=True)}
    return Context(
        integrations=integrations,
        replays=replays,
        scrub_fields=scrubbing.fields_for(tenant.scrub_fields),
        now=now,
    )


def _store_with_retry(tenant, runs, now):
    """``_store`` in its own transaction; a deadlock or serialisation failure
    (possible only between requests recovering the same records) is retried."""
    nested = connection.in_atomic_block
    for attempt in range(3):
        try:
            with transaction.atomic():
                return _store(tenant, runs, now)
        except OperationalError as exc:
            text = str(exc).lower()
            if nested or attempt == 2 or not ("deadlock" in text or "could not serialize" in text):
                raise
            log.warning("ingest retried after %s", exc)
    raise AssertionError("unreachable")


# --- the write path -----------------------------------------------------------------------------


def _merge(runs):
    """Runs keyed by (integration_id, run_id); a run twice in one request is
    applied in order, as two posts would be: the last one's fields win, its
    failures update the earlier ones', logs and recoveries add up. Returns
    (merged by key, key per input run)."""
    merged = {}
    keys = []
    for run in runs:
        key = (run["integration_id"], run["run_id"])
        keys.append(key)
        earlier = merged.get(key)
        if earlier is None:
            merged[key] = run
            continue
        failures = {(f["entity"], f["record_id"]): f for f in earlier["failures"]}
        for f in run["failures"]:
            failures.pop((f["entity"], f["record_id"]), None)
            failures[(f["entity"], f["record_id"])] = f
        logs = {entry[4]: entry for entry in earlier["logs"]}
        logs.update({entry[4]: entry for entry in run["logs"]})
        recovered = dict.fromkeys(earlier["recovered"])
        recovered.update(dict.fromkeys(run["recovered"]))
        merged[key] = {
            **run,
            "failures": list(failures.values()),
            "logs": list(logs.values()),
            "recovered": list(recovered),
        }
    return merged, keys


def _store(tenant, runs, now):
    """Write ``runs`` (validated, possibly repeating a key); return
    (run pk, created) per input run."""
    merged, keys = _merge(runs)
    ordered = sorted(merged)
    ts = connection.ops.adapt_datetimefield_value
    json_mark = "%s::jsonb" if connection.vendor == "postgresql" else "%s"
    native_uuid = connection.features.has_native_uuid_field

    with connection.cursor() as cursor:
        # 2. Runs.
        run_pks, inserted = _upsert_runs(cursor, tenant, merged, ordered, now, ts, json_mark, native_uuid)

        # 3. Failures these runs already had (only re-posted runs can have any).
        existing = {}
        reposted = [run_pks[key] for key in ordered if key not in inserted]
        for chunk in _chunks(reposted, 1000):
            run_in, params = _in("run_id", chunk, "bigint")
            cursor.execute(
                f"SELECT run_id, entity, record_id, exception_id FROM {FAILURE} WHERE {run_in}",  # noqa: S608
                params,
            )
            for run_pk, entity, record_id, exception_id in cursor.fetchall():
                existing[(run_pk, entity, record_id)] = exception_id

        # 4. Exceptions.
        first_of_key = {}
        for key in ordered:
            for f in merged[key]["failures"]:
                first_of_key.setdefault((key[0], f["key_hash"]), f)
        exceptions, created_exc = _lock_exceptions(cursor, tenant, first_of_key, set(existing.values()), now, ts)

        # 5. Failures and logs.
        failure_rows = []
        new_in = set()  # exceptions receiving a failure not stored before
        moved_from = set()
        # +1 per failure row an exception gains, -1 per row it loses, by
        # (exception id, entity, record_id): the deltas of the counts.
        gained = defaultdict(int)
        for key in ordered:
            run_pk = run_pks[key]
            for f in merged[key]["failures"]:
                exc_id = exceptions[(key[0], f["key_hash"])][0]
                before = existing.get((run_pk, f["entity"], f["record_id"]))
                if before is None:
                    new_in.add(exc_id)
                    gained[(exc_id, f["entity"], f["record_id"])] += 1
                elif before != exc_id:
                    moved_from.add(before)
                    gained[(exc_id, f["entity"], f["record_id"])] += 1
                    gained[(before, f["entity"], f["record_id"])] -= 1
                failure_rows.append(
                    (
                        run_pk,
                        tenant.pk,
                        key[0],
                        exc_id,
                        f["entity"],
                        f["record_id"],
                        f["operation"],
                        f["error_code"],
                        f["error_class"],
                        f["message"],
                        f["fingerprint"],
                        ts(f["occurred_at"]),
                        ts(f["source_changed_at"]) if f["source_changed_at"] else None,
                        f["payload"],
                        f["response"],
                        FailureState.FAILED,
                        ts(now),
                    )
                )
        fresh = {run_pks[key] for key in inserted}
        _upsert_failures(cursor, failure_rows, json_mark, fresh)
        log_rows = [
            (run_pks[key], ts(at), level, message, context, digest)
            for key in ordered
            for at, level, message, context, digest in merged[key]["logs"]
        ]
        _insert_logs(cursor, log_rows, json_mark, fresh)

        # 6. Openings and reopenings.
        openings = _open_and_reopen(cursor, tenant, exceptions, created_exc, new_in, now, ts)

        # 7. Recoveries.
        recovered_in = _recover(cursor, merged, ordered, run_pks, keys)

        # 8. Counts of every exception involved.
        involved = {exc_id for exc_id, *_ in exceptions.values()} | moved_from
        _count(cursor, tenant, involved, gained)

    if recovered_in:
        resolve_if_remediated(recovered_in, "every record was recovered by a later run", now=now)

    run_pk_list = [run_pks[key] for key in ordered]
    for listener in RUN_LISTENERS:
        listener(tenant.pk, run_pk_list)
    if openings:
        for listener in OPENING_LISTENERS:
            listener(tenant.pk, openings)

    # Per input run: the first of a repeated key reports what the database
    # said, the later ones are updates of it.
    seen = set()
    outcome = []
    for key in keys:
        outcome.append((run_pks[key], key in inserted and key not in seen))
        seen.add(key)
    return outcome


def _chunks(items, size=CHUNK):
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


def _copy(cursor, table, cols, rows):
    """COPY ``rows`` into a staging table through the driver's cursor."""
    with cursor.cursor.copy(f"COPY {table} ({cols}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)


def _upsert_runs(cursor, tenant, merged, ordered, now, ts, json_mark, native_uuid):
    """Insert or update the runs; return ({key: pk}, set of keys inserted)."""
    postgres = connection.vendor == "postgresql"
    inserted = set()
    if postgres:
        cursor.execute(STAGING)
        _copy(cursor, "ingest_stage_run", RUN_COLS, _run_rows(tenant, merged, ordered, now, ts, native_uuid))
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
        return pks, inserted
    if not postgres:
        # SQLite serialises writers (IMMEDIATE transactions): a read first is exact.
        for chunk in _chunks(ordered, 400):
            cursor.execute(
                f"SELECT integration_id, run_id FROM {RUN} WHERE "  # noqa: S608
                + " OR ".join(["(integration_id = %s AND run_id = %s)"] * len(chunk)),
                [v for key in chunk for v in key],
            )
            known = set(cursor.fetchall())
            inserted.update(key for key in chunk if key not in known)
    row_marks = f"(%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, {json_mark}, %s, %s)"
    rows = _run_rows(tenant, merged, ordered, now, ts, native_uuid)
    pks = {}
    for chunk in _chunks(rows):
        cursor.execute(
            f"INSERT INTO {RUN} ({RUN_COLS}) VALUES {', '.join([row_marks] * len(chunk))}"  # noqa: S608
            f" ON CONFLICT (integration_id, run_id) DO UPDATE SET {RUN_UPDATES} RETURNING id, integration_id, run_id",
            [v for row in chunk for v in row],
        )
        for pk, integration_id, run_id in cursor.fetchall():
            pks[(integration_id, run_id)] = pk
    return pks, inserted


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


def _run_rows(tenant, merged, ordered, now, ts, native_uuid):
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


def _route(rules, slug_of, integration_id, f):
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


def _in(column, values, cast):
    """``column`` IN ``values``: one array parameter on PostgreSQL (cheap to
    bind however many values), a list of placeholders on SQLite."""
    values = list(values)
    if connection.vendor == "postgresql":
        return f"{column} = ANY(%s::{cast}[])", [values]
    return f"{column} IN ({', '.join(['%s'] * len(values))})", values


def _lock_exceptions(cursor, tenant, first_of_key, also_ids, now, ts):
    """Create the exceptions missing for ``first_of_key`` ((integration id,
    key hash) -> its first failure) and lock them and ``also_ids`` in id
    order. Returns ({(integration id, key hash): (id, status, ignored_until,
    priority)} also holding ``also_ids`` under (None, id), set of ids created).

    1. read which keys exist (no lock): usually all, so nothing is inserted;
    2. insert the missing ones, ignoring conflicts (a concurrent request
       inserting the same key makes this wait for it, in key order);
    3. lock every exception involved with SELECT … FOR UPDATE ORDER BY id."""
    created = set()
    hashes = sorted({h for _, h in first_of_key})
    integration_ids = sorted({i for i, _ in first_of_key})
    known = set()
    for chunk in _chunks(hashes, 5000):
        integration_in, p1 = _in("integration_id", integration_ids, "bigint")
        hash_in, p2 = _in("key_hash", chunk, "text")
        cursor.execute(f"SELECT integration_id, key_hash FROM {EXC} WHERE {integration_in} AND {hash_in}", p1 + p2)  # noqa: S608
        known.update(cursor.fetchall())
    missing = sorted(k for k in first_of_key if k not in known)
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
            " status, priority, assignee_id, runbook, occurrences, records, opened_at, regressed, created"
        )
        row_marks = "(" + ", ".join(["%s"] * 18) + ")"
        stamp = ts(now)
        for chunk in _chunks(missing):
            params = []
            for integration_id, hashed in chunk:
                f = first_of_key[(integration_id, hashed)]
                priority, assign_id, runbook = _route(rules, slug_of, integration_id, f)
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
                ]
            cursor.execute(
                f"INSERT INTO {EXC} ({cols}) VALUES {', '.join([row_marks] * len(chunk))}"  # noqa: S608
                " ON CONFLICT (integration_id, key_hash) DO NOTHING RETURNING id",
                params,
            )
            created.update(row[0] for row in cursor.fetchall())

    found = {}
    lock = " FOR UPDATE" if connection.features.has_select_for_update else ""
    also = sorted(also_ids)
    select = f"SELECT id, integration_id, key_hash, status, ignored_until, priority FROM {EXC}"  # noqa: S608
    for chunk in _chunks(hashes, 5000) if hashes else [[]]:
        where = []
        params = []
        if chunk:
            integration_in, p1 = _in("integration_id", integration_ids, "bigint")
            hash_in, p2 = _in("key_hash", chunk, "text")
            where.append(f"({integration_in} AND {hash_in})")
            params += p1 + p2
        if also:
            id_in, p3 = _in("id", also, "bigint")
            where.append(id_in)
            params += p3
            also = []  # once is enough
        if not where:
            continue
        cursor.execute(f"{select} WHERE {' OR '.join(where)} ORDER BY id{lock}", params)
        for pk, integration_id, hashed, status, ignored_until, priority in cursor.fetchall():
            row = (pk, status, _aware(ignored_until), priority)
            if (integration_id, hashed) in first_of_key:
                found[(integration_id, hashed)] = row
            found[(None, pk)] = row
    return found, created


def _aware(value):
    """Raw SQLite rows hold naive UTC values; PostgreSQL gives aware datetimes."""
    if value is None:
        return None
    if isinstance(value, str):
        from django.utils.dateparse import parse_datetime

        value = parse_datetime(value)
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


def _split_fresh(rows, fresh):
    """(rows of runs this request inserted, the others). A run just inserted
    is locked by this transaction and has no failures or logs yet, so its
    rows cannot conflict and go straight into the table by COPY."""
    direct, other = [], []
    for row in rows:
        (direct if row[0] in fresh else other).append(row)
    return direct, other


def _upsert_failures(cursor, rows, json_mark, fresh):
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
        direct, rows = _split_fresh(rows, fresh)
        if direct:
            _copy(cursor, FAILURE, cols, direct)
        if not rows:
            return
        _copy(cursor, "ingest_stage_failure", cols, rows)
        cursor.execute(
            f"INSERT INTO {FAILURE} ({cols}) SELECT {cols} FROM ingest_stage_failure"  # noqa: S608
            f" ORDER BY run_id, entity, record_id ON CONFLICT (run_id, entity, record_id) DO UPDATE SET {updates}"
        )
        return
    for chunk in _chunks(rows):
        cursor.execute(
            f"INSERT INTO {FAILURE} ({cols}) VALUES {', '.join([row_marks] * len(chunk))}"  # noqa: S608
            f" ON CONFLICT (run_id, entity, record_id) DO UPDATE SET {updates}",
            [v for row in chunk for v in row],
        )


def _insert_logs(cursor, rows, json_mark, fresh):
    if not rows:
        return
    if connection.vendor == "postgresql":
        direct, rows = _split_fresh(rows, fresh)
        if direct:
            _copy(cursor, LOG, LOG_COLS, direct)
        if not rows:
            return
        _copy(cursor, "ingest_stage_log", LOG_COLS, rows)
        cursor.execute(
            f"INSERT INTO {LOG} ({LOG_COLS}) SELECT {LOG_COLS} FROM ingest_stage_log"  # noqa: S608
            " ON CONFLICT (run_id, digest) DO NOTHING"
        )
        return
    row_marks = f"(%s, %s, %s, %s, {json_mark}, %s)"
    for chunk in _chunks(rows, 1000):
        cursor.execute(
            f"INSERT INTO {LOG} (run_id, at, level, message, context, digest)"  # noqa: S608
            f" VALUES {', '.join([row_marks] * len(chunk))} ON CONFLICT (run_id, digest) DO NOTHING",
            [v for row in chunk for v in row],
        )


def _open_and_reopen(cursor, tenant, exceptions, created_exc, new_in, now, ts):
    """Openings for new exceptions; a new failure reopens a resolved
    exception (a regression) or an ignored one whose ``until`` has passed.
    Returns [(exception id, kind)]."""
    regressed, reopened = [], []
    priority_of = {}
    for pk, status, ignored_until, priority in {row[0]: row for row in exceptions.values()}.values():
        priority_of[pk] = priority
        if pk not in new_in or pk in created_exc:
            continue
        if status == ExceptionStatus.RESOLVED:
            regressed.append(pk)
        elif status == ExceptionStatus.IGNORED and ignored_until is not None and ignored_until <= now:
            reopened.append(pk)
    stamp = ts(now)
    for ids, flag in ((regressed, True), (reopened, False)):
        if not ids:
            continue
        marks = ", ".join(["%s"] * len(ids))
        cursor.execute(
            f"UPDATE {EXC} SET status = %s, regressed = %s, opened_at = %s, acknowledged_at = NULL,"  # noqa: S608
            f" resolved_at = NULL, ignored_until = NULL WHERE id IN ({marks})",
            [ExceptionStatus.OPEN, flag, stamp, *ids],
        )
    again = sorted(regressed + reopened)
    if again:
        cursor.execute(
            f"UPDATE {OPENING} SET closed_at = %s"  # noqa: S608
            f" WHERE exception_id IN ({', '.join(['%s'] * len(again))}) AND closed_at IS NULL",
            [stamp, *again],
        )
    openings = (
        [(pk, "opened") for pk in sorted(created_exc)]
        + [(pk, "regressed") for pk in sorted(regressed)]
        + [(pk, "reopened") for pk in sorted(reopened)]
    )
    if not openings:
        return []
    ExceptionOpening.objects.bulk_create(
        [
            ExceptionOpening(
                exception_id=pk,
                tenant_id=tenant.pk,
                priority=priority_of[pk],
                opened_at=now,
                regressed=kind == "regressed",
            )
            for pk, kind in openings
        ]
    )
    summaries = {
        "opened": ("exception.opened", "Opened by its first failure"),
        "regressed": ("exception.regressed", "Reopened: a new failure arrived after it was resolved"),
        "reopened": ("exception.reopened", "Reopened: a new failure arrived after its ignore period ended"),
    }
    _audit(
        [
            (tenant.pk, pk, summaries[kind][0], summaries[kind][1], {"priority": priority_of[pk]})
            for pk, kind in openings
        ],
        now,
    )
    return openings


def _recover(cursor, merged, ordered, run_pks, keys):
    """Mark the ``recovered`` records' failing failures (failed,
    replay_requested, replay_failed) of earlier runs as recovered; return the
    ids of the exceptions they belong to."""
    # A failure posted in this request by the same run, or by a run that came
    # later in it, is newer than the recovery and stays failed.
    position = {}
    for index, key in enumerate(keys):
        position[key] = index
    failing_later = {}
    for key in ordered:
        for f in merged[key]["failures"]:
            failing_later.setdefault((key[0], f["entity"], f["record_id"]), []).append((position[key], run_pks[key]))
    conditions = []
    for key in ordered:
        for entity, record_id in merged[key]["recovered"]:
            keep = {
                pk
                for pos, pk in failing_later.get((key[0], entity, record_id), ())
                if pos >= position[key] or pk == run_pks[key]
            }
            keep.add(run_pks[key])
            conditions.append((key[0], entity, record_id, sorted(keep)))
    if not conditions:
        return set()
    states = list(UNREMEDIATED_STATES)
    touched = set()
    for chunk in _chunks(conditions, 300):
        clauses = []
        params = [FailureState.RECOVERED, *states]
        for integration_id, entity, record_id, keep in chunk:
            clauses.append(
                f"(integration_id = %s AND entity = %s AND record_id = %s"
                f" AND run_id NOT IN ({', '.join(['%s'] * len(keep))}))"
            )
            params += [integration_id, entity, record_id, *keep]
        cursor.execute(
            f"UPDATE {FAILURE} SET state = %s WHERE state IN (%s, %s, %s)"  # noqa: S608
            f" AND ({' OR '.join(clauses)}) RETURNING exception_id",
            params,
        )
        touched.update(row[0] for row in cursor.fetchall())
    return touched


def _count(cursor, tenant, exception_ids, gained):
    """Bring the counts of ``exception_ids`` up to date, their rows being
    locked: occurrences (failure rows: distinct run, entity, record_id) move
    by the rows each gained or lost; records (distinct entity, record_id)
    by the records that appeared in or vanished from it, read from the
    failures of just those records; first_seen and last_seen are the ends of
    the (exception, occurred_at) index."""
    occurrences = defaultdict(int)
    for (exc_id, _entity, _record_id), delta in gained.items():
        occurrences[exc_id] += delta
    records = defaultdict(int)
    touched = {k: d for k, d in gained.items() if d}
    if touched:
        after = defaultdict(int)
        record_ids = sorted({k[2] for k in touched})
        exc_ids = sorted({k[0] for k in touched})
        for chunk in _chunks(record_ids, 5000):
            record_in, p1 = _in("record_id", chunk, "text")
            exc_in, p2 = _in("exception_id", exc_ids, "bigint")
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
    for chunk in _chunks(ids, 1000):
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


def recount_exceptions(exception_ids):
    """Recount occurrences, records, first_seen and last_seen of
    ``exception_ids`` from their failures, for code that deletes failures
    (retention). Takes the rows' locks in id order; call inside a transaction."""
    ids = sorted({int(i) for i in exception_ids})
    if not ids:
        return
    list(SyncException.objects.select_for_update().filter(pk__in=ids).order_by("pk").values_list("pk"))
    with connection.cursor() as cursor:
        _recount(cursor, ids)


def _recount(cursor, exception_ids):
    """Occurrences (distinct run, entity, record_id: the unique key),
    records (distinct entity, record_id) and the occurred_at range of each
    exception, from all its failures."""
    ids = sorted(exception_ids)
    for chunk in _chunks(ids, 1000):
        cursor.execute(
            f"UPDATE {EXC} SET"  # noqa: S608
            f" occurrences = (SELECT COUNT(*) FROM {FAILURE} f WHERE f.exception_id = {EXC}.id),"
            # length-prefixed, so no two (entity, record_id) pairs concatenate alike
            f" records = (SELECT COUNT(DISTINCT LENGTH(f.entity) || ':' || f.entity || f.record_id)"
            f" FROM {FAILURE} f WHERE f.exception_id = {EXC}.id),"
            f" first_seen = (SELECT MIN(f.occurred_at) FROM {FAILURE} f WHERE f.exception_id = {EXC}.id),"
            f" last_seen = (SELECT MAX(f.occurred_at) FROM {FAILURE} f WHERE f.exception_id = {EXC}.id)"
            f" WHERE id IN ({', '.join(['%s'] * len(chunk))})",
            chunk,
        )


def _audit(entries, now):
    """One ``system`` audit entry per (tenant id, exception id, action,
    summary, data): per opening or resolution, never per failure."""
    if not entries:
        return
    from opsconsole.models import Tenant

    partner_of = dict(Tenant.objects.filter(pk__in={e[0] for e in entries}).values_list("pk", "partner_id"))
    AuditEntry.objects.bulk_create(
        [
            AuditEntry(
                at=now,
                actor="system",
                action=action,
                tenant_id=tenant_id,
                partner_id=partner_of.get(tenant_id),
                object_type="syncexception",
                object_id=str(exc_id),
                summary=summary,
                data=data,
            )
            for tenant_id, exc_id, action, summary, data in entries
        ]
    )
