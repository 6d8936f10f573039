"""Storing reported runs (contract 3.1, 3.2) and the exception states they
drive (4.1).

One transaction per request, a constant number of statements whatever the
number of runs, failures and logs:

1. validate every document in plain Python (``validate.py``);
2. insert the new runs, then lock the re-posted ones (reading where they
   started) and update them, both in (integration, run_id) order, which
   serialises concurrent posts of one run;
3. read the failures those runs already had (re-posts) in one query;
4. find or create the exceptions the failures' grouping keys name, each
   with its first SLA deadline (``due_at``: the tenant's objectives are read
   once, only when something opens);
5. write the failures (upsert on run, entity, record_id, never touching
   ``state``) and the log lines (those already stored are skipped); rows of
   runs this request inserted go straight in by binary COPY on PostgreSQL, and the
   foreign keys of all these rows are checked as each statement ends; then
   rebuild the SLA rollups of the runs written (``sla.rollups.runs_written``,
   under its own locks of buckets and days);
6. lock every exception involved with ``SELECT … FOR NO KEY UPDATE`` ordered
   by id, an order every request shares, so concurrent requests cannot
   deadlock; holding the locks only from here to the commit lets concurrent
   requests into the same exceptions overlap in all the work above (the
   foreign key checks take KEY SHARE locks, which this lock lets through);
7. open or reopen (regression) exceptions as their new failures say,
   restarting their deadline; mark ``recovered`` records and resolve
   exceptions left fully remediated (which clears it);
8. move occurrences and records of every exception involved by what this
   request added or moved, and widen first_seen and last_seen (read again
   where rows were rewritten): exact whatever runs concurrently and whatever
   is posted twice; work out the money they hold (``open_amount``,
   ``close_deadline``) where it may move, and write counts and money in one
   UPDATE;
9. say what happened (``integrations.events``: runs stored, exceptions
   opened, regressed or reopened), still inside the transaction.
"""

import logging
from collections import defaultdict

from django.db import OperationalError, connection, transaction
from django.utils import timezone

from integrations import events
from integrations import scrub as scrubbing
from integrations.ingest.recoveries import recover
from integrations.ingest.validate import Context, Invalid, printable, replay_ids_in, validate_run
from integrations.ingest.writes import insert_logs, upsert_failures, upsert_runs
from integrations.models import FailureState, Integration, Replay
from integrations.sync_exceptions import money
from integrations.sync_exceptions.counts import tally
from integrations.sync_exceptions.counts import write as write_counts
from integrations.sync_exceptions.ingested import ensure_exceptions, lock_exceptions, open_and_reopen
from integrations.sync_exceptions.resolution import resolve_if_remediated
from integrations.tables import FAILURE, chunks, in_
from opsconsole import metrics
from sla import rollups
from sla.clock import TenantClocks

log = logging.getLogger(__name__)

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
                    "run_id": printable(run_id) if isinstance(run_id, str) else None,
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
        currency=tenant.currency,
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
    (run pk, created) per input run. Steps 2 to 9 of the module docstring."""
    merged, keys = _merge(runs)
    ordered = sorted(merged)
    ts = connection.ops.adapt_datetimefield_value
    json_mark = "%s::jsonb" if connection.vendor == "postgresql" else "%s"
    native_uuid = connection.features.has_native_uuid_field

    postgres = connection.vendor == "postgresql"
    with connection.cursor() as cursor:
        if postgres:
            # The foreign keys of the rows written below are checked as each
            # statement ends rather than at the commit, so that the checks run
            # before the exceptions are locked (step 6), not while they are held.
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        # 2. Runs.
        run_pks, inserted, moved = upsert_runs(cursor, tenant, merged, ordered, now, ts, json_mark, native_uuid)
        # 3. Failures these runs already had (only re-posted runs can have any).
        existing = _stored_failures(cursor, [run_pks[key] for key in ordered if key not in inserted])
        # 4. Exceptions. Objectives and business hours are read at most once,
        # for the SLA deadlines (due_at) of exceptions opened or reopened here.
        clocks = TenantClocks()
        first_of_key = {}
        for key in ordered:
            for f in merged[key]["failures"]:
                first_of_key.setdefault((key[0], f["key_hash"]), f)
        exception_ids, created_exc = ensure_exceptions(cursor, tenant, first_of_key, now, ts, clocks)
        # 5. Failures and logs.
        rows, new_in, moved_from, gained, spans = _failure_rows(
            tenant, merged, ordered, run_pks, existing, exception_ids, now, ts
        )
        fresh = {run_pks[key] for key in inserted}
        upsert_failures(cursor, rows, json_mark, fresh)
        log_rows = [
            (run_pks[key], ts(at), level, message, context, digest)
            for key in ordered
            for at, level, message, context, digest in merged[key]["logs"]
        ]
        insert_logs(cursor, log_rows, json_mark, fresh)
        if postgres:
            cursor.execute("SET CONSTRAINTS ALL DEFERRED")
        # The SLA rollups of the runs written, before the exceptions are
        # locked: they depend on the runs only, and take their own locks.
        run_pk_list = [run_pks[key] for key in ordered]
        rollups.runs_written(tenant, [(key[0], merged[key]["started_at"]) for key in ordered], previous=moved)
        # 6. Lock every exception involved, in id order, only now: the bulk
        # writes above need no lock, so concurrent requests into the same
        # exceptions overlap in everything but the counting below.
        held = {}  # the money they hold, for step 8
        exceptions = lock_exceptions(cursor, set(exception_ids.values()) | set(existing.values()), held)
        # 7. Openings and reopenings, then recoveries.
        openings = open_and_reopen(cursor, tenant, exceptions, created_exc, new_in, now, ts, clocks)
        recovered_in = recover(cursor, merged, ordered, run_pks, keys)
        # 8. Counts of every exception involved, and the money they hold.
        integration_of = {exc_id: integration_id for (integration_id, _h), exc_id in exception_ids.items()}
        integration_by_run = {run_pks[key]: key[0] for key in ordered}
        integration_of.update({exc_id: integration_by_run[k[0]] for k, exc_id in existing.items()})
        rewritten = set(existing.values()) | moved_from
        counted = tally(cursor, set(exceptions) | moved_from, gained, integration_of, spans, rewritten)
        fresh, amounts_in, reposted = _new_failures(merged, ordered, run_pks, existing, exception_ids)
        # Recoveries may reach exceptions not locked above: the recomputation
        # locks what it reads.
        recounted = set(existing.values()) | reposted | moved_from | set(recovered_in)
        paid, recompute, closes = money.ingest_changes(
            cursor,
            tenant,
            held,
            recompute_ids=recounted,
            fresh=fresh,
            amounts_in=amounts_in,
            rows_now=counted.after,
            integration_of=integration_of,
        )
        # Counts and money in one UPDATE (one new version of each row).
        write_counts(cursor, counted, money=paid)
        money.recompute(recompute, cursor, closes)

    if recovered_in:
        resolve_if_remediated(recovered_in, "every record was recovered by a later run", now=now)

    # 9. Events, inside the transaction.
    events.runs_stored(tenant.pk, run_pk_list)
    _say_openings(tenant.pk, openings)

    # Per input run: the first of a repeated key reports what the database
    # said, the later ones are updates of it.
    seen = set()
    outcome = []
    for key in keys:
        outcome.append((run_pks[key], key in inserted and key not in seen))
        seen.add(key)
    return outcome


def _new_failures(merged, ordered, run_pks, existing, exception_ids):
    """For the money of exceptions (``sync_exceptions.money``): the failure
    rows this request inserted, {(exception id, entity, record_id): [(run
    pk, occurred_at, amount)]}, the exceptions that received a failure with
    an amount, and those that re-posted rows were rewritten in or moved to
    (recomputed whole)."""
    fresh = defaultdict(list)
    amounts_in = set()
    reposted = set()
    for key in ordered:
        run_pk = run_pks[key]
        for f in merged[key]["failures"]:
            exc_id = exception_ids[(key[0], f["key_hash"])]
            if f["amount"] is not None:
                amounts_in.add(exc_id)
            if (run_pk, f["entity"], f["record_id"]) in existing:
                reposted.add(exc_id)
            else:
                fresh[(exc_id, f["entity"], f["record_id"])].append((run_pk, f["occurred_at"], f["amount"]))
    return fresh, amounts_in, reposted


def _stored_failures(cursor, reposted):
    """{(run pk, entity, record_id): exception id} of the failures the
    re-posted runs ``reposted`` already have."""
    existing = {}
    for chunk in chunks(reposted, 1000):
        run_in, params = in_("run_id", chunk, "bigint")
        cursor.execute(
            f"SELECT run_id, entity, record_id, exception_id FROM {FAILURE} WHERE {run_in}",  # noqa: S608
            params,
        )
        for run_pk, entity, record_id, exception_id in cursor.fetchall():
            existing[(run_pk, entity, record_id)] = exception_id
    return existing


def _failure_rows(tenant, merged, ordered, run_pks, existing, exception_ids, now, ts):
    """The failure rows to upsert, and what they do to the exceptions: those
    receiving a failure not stored before, those a failure moved out of,
    the deltas of the counts (+1 per failure row an exception gains, -1 per
    row it loses, by (exception id, entity, record_id)), and the span of
    occurred_at of the rows each exception gains ({id: (earliest, latest)})."""
    rows = []
    new_in = set()
    moved_from = set()
    gained = defaultdict(int)
    spans = {}
    for key in ordered:
        run_pk = run_pks[key]
        for f in merged[key]["failures"]:
            exc_id = exception_ids[(key[0], f["key_hash"])]
            before = existing.get((run_pk, f["entity"], f["record_id"]))
            if before is None:
                new_in.add(exc_id)
                gained[(exc_id, f["entity"], f["record_id"])] += 1
            elif before != exc_id:
                moved_from.add(before)
                gained[(exc_id, f["entity"], f["record_id"])] += 1
                gained[(before, f["entity"], f["record_id"])] -= 1
            if before != exc_id:
                at = f["occurred_at"]
                span = spans.get(exc_id)
                spans[exc_id] = (min(span[0], at), max(span[1], at)) if span else (at, at)
            rows.append(
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
                    f["amount"],
                    f["currency"],
                )
            )
    return rows, new_in, moved_from, gained, spans


def _say_openings(tenant_id, openings):
    """``openings``: (exception id, kind) with kind ``opened`` (a new
    exception), ``regressed`` (a resolved one reopened) or ``reopened`` (an
    ignored one whose ``until`` had passed); one event call per kind."""
    by_kind = defaultdict(list)
    for exception_id, kind in openings:
        by_kind[kind].append(exception_id)
    if by_kind["opened"]:
        events.exceptions_opened(tenant_id, by_kind["opened"])
    if by_kind["regressed"]:
        events.exceptions_regressed(tenant_id, by_kind["regressed"])
    if by_kind["reopened"]:
        events.exceptions_reopened(tenant_id, by_kind["reopened"])
