"""Exception states driven by ingest (contract 4.1): openings and
reopenings, recoveries, auto-resolution and the counts of exceptions."""

from collections import defaultdict

from django.db import connection
from django.utils import timezone

from integrations.ingest.writes import EXC, FAILURE, OPENING, chunks, in_
from integrations.models import ExceptionOpening, ExceptionStatus, FailureState, SyncException
from opsconsole.models import AuditEntry
from sla.clock import TenantClocks, opening_deadline

UNREMEDIATED_STATES = (FailureState.FAILED, FailureState.REPLAY_REQUESTED, FailureState.REPLAY_FAILED)


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
            f"UPDATE {EXC} SET status = %s, resolved_at = %s, due_at = NULL"  # noqa: S608 - table names, placeholders
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
    audit(
        [
            (tenant_id, exc_id, "exception.resolve", f"Resolved automatically: {reason}", {"reason": reason})
            for exc_id, tenant_id, _title in resolved
        ],
        now,
    )
    return done


# --- context and retries ------------------------------------------------------------------------


def open_and_reopen(cursor, tenant, exceptions, created_exc, new_in, now, ts, clocks=None):
    """Openings for new exceptions; a new failure reopens a resolved
    exception (a regression) or an ignored one whose ``until`` has passed,
    and restarts its SLA clock (``due_at``, from ``clocks``, a
    :class:`sla.clock.TenantClocks`). Returns [(exception id, kind)]."""
    regressed, reopened = [], []
    priority_of = {}
    for pk, status, ignored_until, priority in exceptions.values():
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
        clocks = clocks if clocks is not None else TenantClocks()
        dues = []
        for priority in sorted({priority_of[pk] for pk in ids}):
            due = opening_deadline(tenant, priority, now, clocks)
            dues += [priority, ts(due) if due else None]
        # Typed, so that a CASE of NULLs alone is still a timestamp on PostgreSQL.
        then = "%s::timestamptz" if connection.vendor == "postgresql" else "%s"
        due_case = " ".join([f"WHEN %s THEN {then}"] * (len(dues) // 2))
        marks = ", ".join(["%s"] * len(ids))
        cursor.execute(
            f"UPDATE {EXC} SET status = %s, regressed = %s, opened_at = %s, acknowledged_at = NULL,"  # noqa: S608
            f" resolved_at = NULL, ignored_until = NULL, due_at = (CASE priority {due_case} ELSE NULL END)"
            f" WHERE id IN ({marks})",
            [ExceptionStatus.OPEN, flag, stamp, *dues, *ids],
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
    audit(
        [
            (tenant.pk, pk, summaries[kind][0], summaries[kind][1], {"priority": priority_of[pk]})
            for pk, kind in openings
        ],
        now,
    )
    return openings


def recover(cursor, merged, ordered, run_pks, keys):
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
    for chunk in chunks(conditions, 300):
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


def count(cursor, tenant, exception_ids, gained):
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
    for chunk in chunks(ids, 1000):
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


def audit(entries, now):
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
