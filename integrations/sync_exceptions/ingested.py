"""Exceptions as ingest drives them (contract 4.1), inside the ingest
transaction and on its cursor, a constant number of statements per request:
find or create the exceptions of the failures' grouping keys (with routing
and the first SLA deadline), lock them, open and reopen them."""

import decimal

from django.db import connection

from integrations.models import DEFAULT_PRIORITY, ExceptionOpening, ExceptionStatus, Integration, RoutingRule
from integrations.sync_exceptions.system_audit import audit
from integrations.tables import EXC, OPENING, aware, chunks, in_
from sla.clock import TenantClocks, opening_deadline


def rule_label(position, match):
    """How a person names a routing rule: ``rule 2: error_class = validation``."""
    terms = ", ".join(f"{k} = {v}" for k, v in sorted(match.items())) or "every failure"
    return f"rule {position}: {terms}"[:500]


def _at_least(amount, minimum):
    """Routing's ``min_amount`` (contract 1, 1.1): the first failure carries
    an amount at least this large; a failure without one never matches."""
    if amount is None:
        return False
    try:
        bound = decimal.Decimal(str(minimum))
    except (decimal.InvalidOperation, ValueError, TypeError):
        return False
    return bound.is_finite() and amount >= bound


def route(rules, slug_of, integration_id, f):
    """(priority, assignee id, runbook, rule label) from the first matching
    routing rule; the default priority and no runbook when none matches.
    Every key a rule gives must match, ``min_amount`` included."""
    facts = {
        "integration": slug_of.get(integration_id),
        "entity": f["entity"],
        "error_class": f["error_class"],
        "error_code": f["error_code"],
    }
    for position, match, priority, assign_id, runbook in rules:
        if "min_amount" in match and not _at_least(f.get("amount"), match["min_amount"]):
            continue
        if all(facts.get(k) == v for k, v in match.items() if k in facts):
            return priority, assign_id, runbook, rule_label(position, match)
    return DEFAULT_PRIORITY, None, "", ""


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
            (r.position, r.match if isinstance(r.match, dict) else {}, r.priority, r.assign_id, r.runbook)
            for r in RoutingRule.objects.filter(tenant=tenant).order_by("position")
        ]
        slug_of = {}
        if rules:
            slug_of = dict(Integration.objects.filter(tenant=tenant).values_list("id", "slug"))
        cols = (
            "tenant_id, integration_id, key_hash, fingerprint, grouped_by, title, entity, error_code, error_class,"
            " status, priority, assignee_id, runbook, routed_by, occurrences, records, opened_at, regressed, created,"
            " due_at"
        )
        row_marks = "(" + ", ".join(["%s"] * 20) + ")"
        clocks = clocks if clocks is not None else TenantClocks()
        due_of = {}
        stamp = ts(now)
        for chunk in chunks(missing):
            params = []
            for integration_id, hashed in chunk:
                f = first_of_key[(integration_id, hashed)]
                priority, assign_id, runbook, routed_by = route(rules, slug_of, integration_id, f)
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
                    routed_by,
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


def lock_exceptions(cursor, exception_ids, money_of=None):
    """Lock ``exception_ids`` with SELECT … FOR NO KEY UPDATE in id order (an order
    every request shares, so none deadlock) and read what the state rules
    need: {id: (id, status, ignored_until, priority)}; and into ``money_of``
    (a dict, when given) {id: (tenant id, open_amount, close_deadline)}, for
    ``sync_exceptions.money``."""
    found = {}
    ids = sorted(exception_ids)
    lock = " FOR NO KEY UPDATE" if connection.features.has_select_for_no_key_update else ""
    for chunk in chunks(ids, 5000):
        id_in, params = in_("id", chunk, "bigint")
        cursor.execute(
            f"SELECT id, status, ignored_until, priority, tenant_id, open_amount, close_deadline FROM {EXC}"  # noqa: S608
            f" WHERE {id_in} ORDER BY id{lock}",
            params,
        )
        for pk, status, ignored_until, priority, tenant_id, amount, close in cursor.fetchall():
            found[pk] = (pk, status, aware(ignored_until), priority)
            if money_of is not None:
                money_of[pk] = (tenant_id, amount, aware(close))
    return found


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
