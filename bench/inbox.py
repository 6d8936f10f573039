"""Benchmark of the inbox and the exception page on PostgreSQL.

Seeds a database of its own (default ``oc_triage_bench``) by COPY with
100,000 exceptions and 2,000,000 failures (in 200,000 runs) across 20
tenants, then measures with Django's test client:

1. the inbox's first page (``/inbox/``) for a support user, by urgency and
   by money (``order=amount``: 70% of the failures carry an amount, and the
   exceptions' open amounts and book-close deadlines are computed by the
   console's own ``sync_exceptions.money``);
2. the page of the exception with the most occurrences (``/exceptions/<id>/``);
3. the number of queries of the inbox at page_size 25 and 100.

Prints the median and 95th percentile of each (and of a few other inbox
views, for information) and fails (exit status 1) when the 95th percentile
of the inbox's first page (by urgency or by amount) or of an exception page
is over 150 ms, or when the query count grows with page size. The load
average is printed with the figures.

    .venv/bin/python bench/inbox.py [--reseed] [--requests 60] [--scale 1]
        [--database-url postgres://postgres@127.0.0.1:5432/oc_triage_bench]

``--scale 10`` seeds ten times as much (1,000,000 exceptions, 20,000,000
failures in 2,000,000 runs, the heaviest exception with 500,000
occurrences) into ``oc_triage_bench_x10`` unless ``--database-url`` names
another database. Every figure line carries the machine's load average.
"""

import argparse
import datetime as dt
import json
import os
import random
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

EXCEPTIONS = 100_000
FAILURES = 2_000_000
RUNS = 200_000
HEAVY = 50_000  # occurrences of the heaviest exception
TENANTS = 20
INTEGRATIONS_PER_TENANT = 5
P95_LIMIT_MS = 150.0


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--reseed", action="store_true", help="drop and seed the database again")
    parser.add_argument("--requests", type=int, default=60, help="timed requests per page")
    parser.add_argument("--scale", type=int, default=1, help="multiply the seeded volumes (10: 1M exceptions)")
    args = parser.parse_args()
    if args.scale < 1:
        parser.error("--scale must be at least 1")
    if args.database_url is None:
        suffix = "" if args.scale == 1 else f"_x{args.scale}"
        args.database_url = f"postgres://postgres@127.0.0.1:5432/oc_triage_bench{suffix}"
    return args


def scale_volumes(factor):
    global EXCEPTIONS, FAILURES, RUNS, HEAVY
    EXCEPTIONS, FAILURES, RUNS, HEAVY = (n * factor for n in (EXCEPTIONS, FAILURES, RUNS, HEAVY))


def load():
    return f"[load average {os.getloadavg()[0]:.1f}]"


def ensure_database(url, reseed):
    """Create (or with --reseed recreate) the benchmark database."""
    import psycopg

    base, name = url.rsplit("/", 1)
    with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if exists and reseed:
            conn.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
            exists = None
        if not exists:
            conn.execute(f'CREATE DATABASE "{name}"')


def setup_django(url):
    os.environ["DATABASE_URL"] = url
    os.environ["DJANGO_SETTINGS_MODULE"] = "opsconsole.settings"
    os.environ.setdefault("OPSCONSOLE_PLAIN_STATIC", "1")
    os.environ.setdefault("OPSCONSOLE_Q_SYNC", "1")
    os.environ.setdefault("OPSCONSOLE_INSECURE_HTTP", "1")
    os.environ.setdefault("DJANGO_SECRET_KEY", "bench-secret-key-not-for-production-0123456789")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def _ts(value):
    return value.strftime("%Y-%m-%d %H:%M:%S.%f+00")


def seed():
    """Partner, tenants, integrations and users by the ORM; runs, exceptions,
    openings and failures by COPY. Skipped when already seeded."""
    from django.db import connection

    from integrations.models import Failure, Integration, SyncException
    from opsconsole.models import Partner, Tenant, User
    from opsconsole.roles import Role
    from sla.models import Objective, Plan

    if SyncException.objects.count() >= EXCEPTIONS and Failure.objects.count() >= FAILURES:
        print("database already seeded")
        if SyncException.objects.open().filter(due_at__isnull=True).exists():
            from integrations.sync_exceptions.deadlines import refresh_due_of_tenants

            filled = refresh_due_of_tenants(Tenant.objects.values_list("pk", flat=True))
            print(f"deadlines computed: {filled:,}")
        return
    rnd = random.Random(42)  # noqa: S311 - benchmark data
    started = time.perf_counter()
    partner = Partner.objects.create(slug="bench", name="Bench Partners")
    plan = Plan.objects.create(partner=partner, name="gold")
    for priority, ack, res in (("P1", 30, 480), ("P2", 120, 960), ("P3", 480, 2400)):
        Objective.objects.create(
            plan=plan, objective="acknowledge", priority=priority, target=95, within_business_minutes=ack
        )
        Objective.objects.create(
            plan=plan, objective="resolve", priority=priority, target=90, within_business_minutes=res
        )
    hours = {"days": ["mon", "tue", "wed", "thu", "fri"], "start": "08:00", "end": "18:00", "holidays": ["2026-12-25"]}
    zones = ["America/Chicago", "Europe/Berlin", "America/New_York", "Asia/Tokyo", "UTC"]
    tenants = [
        Tenant.objects.create(
            partner=partner,
            slug=f"tenant-{n:02d}",
            name=f"Tenant {n:02d}",
            timezone=zones[n % len(zones)],
            business_hours=hours if n % 3 else None,
            plan=plan,
            close_business_day=3 if n % 2 else None,
        )
        for n in range(TENANTS)
    ]
    staff = [
        User.objects.create_user(f"staff{n}@bench.example", "pw", partner=partner, role=Role.SUPPORT, name=f"Staff {n}")
        for n in range(10)
    ]
    from integrations.models import System

    integrations = []
    for tenant in tenants:
        src = System.objects.create(tenant=tenant, slug="kantata", kind="psa", product="Kantata")
        dst = System.objects.create(tenant=tenant, slug="netsuite", kind="erp", product="NetSuite")
        for k in range(INTEGRATIONS_PER_TENANT):
            integrations.append(
                Integration.objects.create(
                    tenant=tenant,
                    slug=f"flow-{k}",
                    name=f"Flow {k}",
                    source=src,
                    target=dst,
                    every_minutes=15,
                    grace_minutes=10,
                )
            )
    now = dt.datetime.now(dt.UTC)
    start = now - dt.timedelta(days=60)
    raw = connection.connection  # the psycopg connection
    with connection.cursor() as cursor:
        cursor.execute("SELECT COALESCE(MAX(id), 0) FROM integrations_run")
        run_base = cursor.fetchone()[0]
        cursor.execute("SELECT COALESCE(MAX(id), 0) FROM integrations_syncexception")
        exc_base = cursor.fetchone()[0]

    # Runs: spread over the integrations and 60 days.
    run_rows = []
    with (
        raw.cursor() as cur,
        cur.copy(
            "COPY integrations_run (id, tenant_id, integration_id, run_id, status, trigger, started_at, finished_at, "
            "processed, succeeded, failed, skipped, lag_seconds, received_at, updated_at) FROM STDIN"
        ) as copy,
    ):
        for n in range(RUNS):
            integ = integrations[n % len(integrations)]
            at = start + dt.timedelta(seconds=n * (60 * 86400 / RUNS))
            run_rows.append((run_base + n + 1, integ))
            copy.write_row(
                (
                    run_base + n + 1,
                    integ.tenant_id,
                    integ.pk,
                    f"run-{n}",
                    rnd.choice(["succeeded", "partial", "failed"]),
                    "schedule",
                    _ts(at),
                    _ts(at + dt.timedelta(seconds=90)),
                    120,
                    110,
                    10,
                    0,
                    rnd.randint(0, 3600),
                    _ts(at),
                    _ts(at),
                )
            )
    print(f"runs copied: {RUNS:,} ({time.perf_counter() - started:.1f}s)")

    # Exceptions: 45% open, 15% acknowledged, the rest resolved or ignored.
    statuses = ["open"] * 45 + ["acknowledged"] * 15 + ["resolved"] * 35 + ["ignored"] * 5
    exc_rows = []
    with (
        raw.cursor() as cur,
        cur.copy(
            "COPY integrations_syncexception (id, tenant_id, integration_id, key_hash, fingerprint, grouped_by, "
            "title, entity, error_code, error_class, status, priority, assignee_id, runbook, occurrences, records, "
            "first_seen, last_seen, opened_at, acknowledged_at, resolved_at, ignored_until, regressed, created) "
            "FROM STDIN"
        ) as copy,
    ):
        for n in range(EXCEPTIONS):
            integ = integrations[n % len(integrations)]
            pk = exc_base + n + 1
            status = rnd.choice(statuses)
            opened = start + dt.timedelta(seconds=rnd.randint(0, 60 * 86400))
            ack = opened + dt.timedelta(minutes=20) if status != "open" else None
            res = opened + dt.timedelta(hours=5) if status == "resolved" else None
            assignee = rnd.choice(staff).pk if rnd.random() < 0.4 else None
            exc_rows.append((pk, integ, opened))
            key = f"{n:064x}"
            copy.write_row(
                (
                    pk,
                    integ.tenant_id,
                    integ.pk,
                    key,
                    key,
                    "error_code",
                    f"Project P-<n> is closed in the ERP ({n})",
                    "time_entry",
                    f"ERP-{n}",
                    rnd.choice(["validation", "mapping", "reference", "timeout"]),
                    status,
                    rnd.choice(["P1", "P2", "P3", "P3", "P4"]),
                    assignee,
                    "",
                    0,
                    0,
                    _ts(opened),
                    _ts(opened),
                    _ts(opened),
                    _ts(ack) if ack else None,
                    _ts(res) if res else None,
                    None,
                    False,
                    _ts(opened),
                )
            )
    print(f"exceptions copied: {EXCEPTIONS:,} ({time.perf_counter() - started:.1f}s)")

    with (
        raw.cursor() as cur,
        cur.copy(
            "COPY integrations_exceptionopening (exception_id, tenant_id, priority, opened_at, regressed, "
            "acknowledged_at, resolved_at, ignored_at, closed_at) FROM STDIN"
        ) as copy,
    ):
        for pk, integ, opened in exc_rows:
            copy.write_row((pk, integ.tenant_id, "P3", _ts(opened), False, None, None, None, None))

    # Failures: one exception (the first) has 50,000; the rest share the remainder.
    payload = json.dumps({"employee": "E-17", "hours": 7.5, "project": "P-77", "ssn": "[redacted]"})
    response = json.dumps({"status": 400, "body": '{"code":"ERP-4001"}'})
    heavy = HEAVY
    runs_by_integration = {}
    for run_pk, integ in run_rows:
        runs_by_integration.setdefault(integ.pk, []).append(run_pk)
    with (
        raw.cursor() as cur,
        cur.copy(
            "COPY integrations_failure (run_id, tenant_id, integration_id, exception_id, entity, record_id, "
            "operation, error_code, error_class, message, fingerprint, occurred_at, payload, response, state, "
            "received_at, amount) FROM STDIN"
        ) as copy,
    ):
        for n in range(FAILURES):
            if n < heavy:
                pk, integ, opened = exc_rows[0]
            else:
                pk, integ, opened = exc_rows[n % EXCEPTIONS]
            runs = runs_by_integration[integ.pk]
            run_pk = runs[n % len(runs)]
            at = opened + dt.timedelta(minutes=n % 997)
            copy.write_row(
                (
                    run_pk,
                    integ.tenant_id,
                    integ.pk,
                    pk,
                    "time_entry",
                    f"TE-{n}",
                    "create",
                    "ERP-4001",
                    "validation",
                    "Project P-77 is closed in the ERP",
                    "",
                    _ts(at),
                    payload,
                    response,
                    "failed",
                    _ts(at),
                    f"{(n * 7919) % 2_000_000 / 100:.2f}" if n % 10 < 7 else None,
                )
            )
            if n and n % 500_000 == 0:
                print(f"  failures: {n:,} ({time.perf_counter() - started:.1f}s) {load()}", flush=True)
    print(f"failures copied: {FAILURES:,} ({time.perf_counter() - started:.1f}s)")
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE integrations_syncexception e SET occurrences = c.n, records = c.n "
            "FROM (SELECT exception_id, COUNT(*) AS n FROM integrations_failure GROUP BY exception_id) c "
            "WHERE c.exception_id = e.id"
        )
    # The next SLA deadline (due_at) of the open exceptions, as ingest would have set it.
    from integrations.sync_exceptions.deadlines import refresh_due_of_tenants
    from opsconsole.models import Tenant

    filled = refresh_due_of_tenants(Tenant.objects.values_list("pk", flat=True))
    print(f"deadlines computed: {filled:,} ({time.perf_counter() - started:.1f}s)")
    # Open amounts and close deadlines, as ingest would have kept them.
    from django.db import transaction

    from integrations.sync_exceptions import money

    ids = list(SyncException.objects.order_by("pk").values_list("pk", flat=True))
    priced = 0
    for i in range(0, len(ids), 5000):
        with transaction.atomic():
            money.lock(ids[i : i + 5000])
            priced += money.recompute(ids[i : i + 5000])
    print(f"open amounts computed: {priced:,} ({time.perf_counter() - started:.1f}s)")
    with connection.cursor() as cursor:
        for table in (
            "integrations_run",
            "integrations_syncexception",
            "integrations_failure",
            "integrations_exceptionopening",
        ):
            cursor.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT MAX(id) FROM {table}))")
        # As autovacuum would by the time anyone looks: statistics for the
        # planner, the visibility map for index-only counts.
        cursor.execute("VACUUM ANALYZE")
    print(f"seeded in {time.perf_counter() - started:.1f}s {load()}")


def timed(client, url, n):
    client.get(url)  # warm caches
    times = []
    for _ in range(n):
        t0 = time.perf_counter()
        response = client.get(url)
        times.append((time.perf_counter() - t0) * 1000)
        assert response.status_code == 200, (url, response.status_code)
    times.sort()
    p95 = times[min(len(times) - 1, int(round(0.95 * len(times))) - 1)]
    return statistics.median(times), p95


def queries(client, url):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx.captured_queries)


def main():
    args = parse_args()
    scale_volumes(args.scale)
    ensure_database(args.database_url, args.reseed)
    setup_django(args.database_url)
    seed()

    from django.db.models import Count
    from django.test import Client

    from integrations.models import SyncException
    from opsconsole.models import User

    user = User.objects.get(email="staff0@bench.example")
    client = Client()
    client.force_login(user)
    counts = SyncException.objects.aggregate(total=Count("id"))
    heaviest = SyncException.objects.order_by("-occurrences").values_list("pk", "occurrences").first()
    print(f"exceptions: {counts['total']:,}; heaviest #{heaviest[0]} with {heaviest[1]:,} occurrences")

    failures = []
    # (label, url, gated): the gated pages must keep their p95 under the limit.
    pages = [
        ("inbox, first page (25)", "/inbox/", True),
        ("exception page (heaviest)", f"/exceptions/{heaviest[0]}/", True),
        ("exception page (typical)", f"/exceptions/{heaviest[0] + EXCEPTIONS // 20}/", True),
        ("inbox, order=amount", "/inbox/?order=amount", True),
        ("inbox, order=close", "/inbox/?order=close", False),
        ("inbox, blocking close", "/inbox/?view=blocking-close", False),
        ("API exceptions, open, order=amount", "/api/v1/exceptions?status=open,acknowledged&order=amount", False),
        ("inbox, first page (100)", "/inbox/?page_size=100", False),
        ("inbox, P1 filter", "/inbox/?priority=P1", False),
        ("inbox, one tenant", "/inbox/?tenant=tenant-03", False),
        ("inbox, search a record id", f"/inbox/?q=TE-{FAILURES - 1}", False),
        ("inbox, breaching within 2 hours", "/inbox/?view=breaching", False),
        ("API exceptions, every status", "/api/v1/exceptions?page_size=25", False),
        ("API exceptions, open", "/api/v1/exceptions?status=open,acknowledged&page_size=25", False),
        ("API occurrences (heaviest)", f"/api/v1/exceptions/{heaviest[0]}/occurrences?page_size=25", False),
        ("API runs, one tenant", "/api/v1/runs?tenant=tenant-03&page_size=25", False),
    ]
    print("load average (1, 5, 15 min): {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))
    print(f"{'page':34} {'median ms':>10} {'p95 ms':>10}")
    for label, url, gated in pages:
        median, p95 = timed(client, url, args.requests)
        print(f"{label:34} {median:10.1f} {p95:10.1f}{'' if gated else '  (not gated)'} {load()}", flush=True)
        if gated and p95 > P95_LIMIT_MS:
            failures.append(f"{label}: p95 {p95:.1f} ms > {P95_LIMIT_MS} ms")
    small, large = queries(client, "/inbox/?page_size=25"), queries(client, "/inbox/?page_size=100")
    print(f"queries: inbox page_size=25 -> {small}, page_size=100 -> {large}")
    if large > small:
        failures.append("the inbox's query count grows with its page size")
    exc_small = queries(client, f"/exceptions/{heaviest[0]}/")
    print(f"queries: exception page -> {exc_small}")
    print("load average (1, 5, 15 min): {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))
    for line in failures:
        print(f"FAIL {line}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
