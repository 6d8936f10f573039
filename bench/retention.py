"""Retention at scale, and what monthly partitions would change (not a test).

    .venv/bin/python bench/retention.py [--runs 20000000] [--months 13]
                                        [--failure-every 10] [--log-every 4] [--reuse]

1. creates its own PostgreSQL database (``oc_retention_bench``, dropped
   first unless ``--reuse``) and migrates it; one partner, one tenant with
   ten integrations;
2. seeds ``--runs`` runs spread evenly over ``--months`` months ending now,
   a failure for every ``--failure-every``-th run and a log line for every
   ``--log-every``-th, by INSERT ... SELECT inside PostgreSQL (the product's
   tables, keys and indexes as migrated), then VACUUM ANALYZE;
3. times the product's own purge (``integrations.retention.purge_tenant``)
   of the oldest month, and prints rows per second, the table sizes and the
   dead rows it leaves, before and after a VACUUM (plain VACUUM does not give
   space back: the pages stay allocated and are reused by new rows);
4. builds a copy of the runs table partitioned by month on ``started_at``
   (declarative range partitions, with the same indexes; the unique key has
   to include ``started_at``) and times removing the same month there:
   DETACH PARTITION + DROP TABLE;
5. times, on both tables, the reads the product makes of runs: one
   integration's runs of a month (the integration page and SLA rebuilds) and
   the upsert key (integration, run_id), which a partitioned table can only
   answer by probing every partition.

Every figure line carries the machine's load average.
"""

import argparse
import os
import statistics
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

DB = os.environ.get("BENCH_DB", "oc_retention_bench")
BASE_URL = os.environ.get("BENCH_PG", "postgres://postgres@127.0.0.1:5432")
os.environ["DATABASE_URL"] = f"{BASE_URL}/{DB}"
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "opsconsole.settings")
os.environ.setdefault("OPSCONSOLE_INSECURE_HTTP", "1")
os.environ.setdefault("DJANGO_SECRET_KEY", "bench-secret-key-not-for-production-0123456789")

TABLES = ("integrations_run", "integrations_failure", "integrations_runlog")


def say(text):
    print(f"{text}  [load average {os.getloadavg()[0]:.1f}]", flush=True)


def recreate_database():
    import psycopg

    with psycopg.connect(f"{BASE_URL}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{DB}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{DB}"')


def setup_django():
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def month_starts(now, months):
    """The first instant (UTC) of each of the last ``months`` months, oldest first, and the next one's."""
    year, month = now.year, now.month
    starts = []
    for _ in range(months + 1):
        starts.append(datetime(year, month, 1, tzinfo=UTC))
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    starts.reverse()  # months back ... this month
    nxt = datetime(now.year + (now.month == 12), now.month % 12 + 1, 1, tzinfo=UTC)
    return starts, nxt


def sizes(cursor):
    """Per table: total and heap bytes, rows (counted) and dead rows (from the statistics)."""
    cursor.execute("SELECT pg_stat_force_next_flush()")
    out = {}
    for table in TABLES:
        cursor.execute(
            "SELECT pg_total_relation_size(%s), pg_relation_size(%s), "
            f"(SELECT count(*) FROM {table}), n_dead_tup FROM pg_stat_user_tables WHERE relname = %s",  # noqa: S608
            [table, table, table],
        )
        out[table] = cursor.fetchone()
    return out


def print_sizes(label, cursor):
    for table, (total, heap, live, dead) in sizes(cursor).items():
        say(
            f"{label:>18} {table:22} total {total / 2**20:9,.0f} MiB  heap {heap / 2**20:9,.0f} MiB  "
            f"live {live:12,}  dead {dead:11,}"
        )


def seed(cursor, args, first, end):
    from integrations.models import Integration, SyncException, System
    from opsconsole.models import Partner, Tenant

    partner = Partner.objects.create(slug="bench", name="Bench")
    tenant = Tenant.objects.create(partner=partner, slug="bench", name="Bench", retention_days=395)
    src = System.objects.create(tenant=tenant, slug="psa", kind="psa")
    dst = System.objects.create(tenant=tenant, slug="erp", kind="erp")
    integrations = [
        Integration.objects.create(tenant=tenant, slug=f"flow-{k}", name=f"Flow {k}", source=src, target=dst)
        for k in range(10)
    ]
    exceptions = [
        SyncException.objects.create(
            tenant=tenant,
            integration=integ,
            key_hash=f"k{integ.pk}",
            fingerprint=f"f{integ.pk}",
            grouped_by="error_code",
            title="Project P-<n> is closed in the ERP",
            entity="time_entry",
            error_code="ERP-4001",
        )
        for integ in integrations
    ]
    ids = [i.pk for i in integrations]
    span = (end - first).total_seconds()
    started = time.perf_counter()
    # Runs: n = 0 .. runs-1, integration n % 10, started evenly over the span.
    cursor.execute(
        "INSERT INTO integrations_run (tenant_id, integration_id, run_id, status, trigger, started_at, "
        "finished_at, processed, succeeded, failed, skipped, lag_seconds, worker, received_at, updated_at) "
        "SELECT %s, (%s::bigint[])[1 + n %% 10], 'run-' || n, "
        "CASE WHEN n %% %s = 0 THEN 'partial' ELSE 'succeeded' END, 'schedule', "
        "%s + make_interval(secs => n * %s), %s + make_interval(secs => n * %s + 90), "
        "120, 120 - (n %% %s = 0)::int, (n %% %s = 0)::int, 0, n %% 3600, NULL, "
        "%s + make_interval(secs => n * %s), %s + make_interval(secs => n * %s) "
        "FROM generate_series(0, %s - 1) AS n",
        [
            tenant.pk,
            ids,
            args.failure_every,
            first,
            span / args.runs,
            first,
            span / args.runs,
            args.failure_every,
            args.failure_every,
            first,
            span / args.runs,
            first,
            span / args.runs,
            args.runs,
        ],
    )
    say(f"runs inserted: {args.runs:,} in {time.perf_counter() - started:.0f} s")
    exc_by_integration = {e.integration_id: e.pk for e in exceptions}
    cursor.execute(
        "INSERT INTO integrations_failure (run_id, tenant_id, integration_id, exception_id, entity, record_id, "
        "operation, error_code, error_class, message, fingerprint, occurred_at, payload, response, state, "
        "received_at) "
        "SELECT r.id, r.tenant_id, r.integration_id, (%s::jsonb ->> r.integration_id::text)::bigint, "
        "'time_entry', 'TE-' || r.id, 'create', 'ERP-4001', 'validation', 'Project P-77 is closed in the ERP', "
        "'', r.started_at + interval '10 seconds', '{\"hours\": 7.5, \"project\": \"P-77\"}', "
        "'{\"status\": 400}', 'failed', r.received_at "
        "FROM integrations_run r WHERE r.status = 'partial'",
        [__import__("json").dumps({str(k): v for k, v in exc_by_integration.items()})],
    )
    say(f"failures inserted: {cursor.rowcount:,} in {time.perf_counter() - started:.0f} s")
    cursor.execute(
        "INSERT INTO integrations_runlog (run_id, at, level, message, context, digest) "
        "SELECT r.id, r.started_at, 'info', 'fetched 120 entries', NULL, md5(r.id::text) "
        "FROM integrations_run r WHERE r.id %% %s = 0",
        [args.log_every],
    )
    say(f"log lines inserted: {cursor.rowcount:,} in {time.perf_counter() - started:.0f} s")
    cursor.execute(
        "UPDATE integrations_syncexception e SET occurrences = c.n, records = c.n "
        "FROM (SELECT exception_id, COUNT(*) AS n FROM integrations_failure GROUP BY exception_id) c "
        "WHERE c.exception_id = e.id"
    )
    cursor.execute("VACUUM ANALYZE")
    say(f"seeded and vacuumed in {time.perf_counter() - started:.0f} s")
    return tenant


def timed(cursor, sql, params, n=7):
    times = []
    for _ in range(n):
        t0 = time.perf_counter()
        cursor.execute(sql, params)
        cursor.fetchall()
        times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times)


def reads(cursor, table, integration_id, month_start, month_end, run_id):
    by_month = timed(
        cursor,
        f"SELECT count(*), sum(failed) FROM {table} WHERE integration_id = %s AND started_at >= %s AND started_at < %s",  # noqa: S608
        [integration_id, month_start, month_end],
    )
    by_key = timed(
        cursor,
        f"SELECT id FROM {table} WHERE integration_id = %s AND run_id = %s",  # noqa: S608
        [integration_id, run_id],
        n=50,
    )
    return by_month, by_key


def build_partitioned(cursor, starts, nxt):
    """A copy of integrations_run, range-partitioned by month on started_at."""
    started = time.perf_counter()
    cursor.execute("DROP TABLE IF EXISTS bench_run_part CASCADE")
    cursor.execute(
        "CREATE TABLE bench_run_part (LIKE integrations_run INCLUDING DEFAULTS) PARTITION BY RANGE (started_at)"
    )
    bounds = [*starts, nxt]
    for lo, hi in zip(bounds, bounds[1:], strict=False):
        cursor.execute(
            f"CREATE TABLE bench_run_part_{lo:%Y%m} PARTITION OF bench_run_part FOR VALUES FROM (%s) TO (%s)",
            [lo, hi],
        )
    cursor.execute("INSERT INTO bench_run_part SELECT * FROM integrations_run")
    cursor.execute("ALTER TABLE bench_run_part ADD PRIMARY KEY (id, started_at)")
    cursor.execute("CREATE UNIQUE INDEX ON bench_run_part (integration_id, run_id, started_at)")
    cursor.execute("CREATE INDEX ON bench_run_part (integration_id, started_at DESC)")
    cursor.execute("CREATE INDEX ON bench_run_part (tenant_id, started_at DESC)")
    cursor.execute("VACUUM ANALYZE bench_run_part")
    elapsed = time.perf_counter() - started
    say(f"partitioned copy of the runs built ({len(bounds) - 1} monthly partitions) in {elapsed:.0f} s")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=20_000_000)
    parser.add_argument("--months", type=int, default=13)
    parser.add_argument("--failure-every", type=int, default=10)
    parser.add_argument("--log-every", type=int, default=4)
    parser.add_argument("--reuse", action="store_true", help="keep the database an earlier run seeded")
    args = parser.parse_args()
    if min(args.runs, args.months, args.failure_every, args.log_every) < 1:
        parser.error("every number must be at least 1")
    bench_started = time.perf_counter()
    if not args.reuse:
        recreate_database()
    setup_django()

    from django.db import connection

    from integrations.models import Integration, Run
    from integrations.retention import purge_tenant
    from opsconsole.models import Tenant

    now = datetime.now(UTC)
    starts, nxt = month_starts(now, args.months)
    first = starts[0]  # runs start at the first month's first instant
    with connection.cursor() as cursor:
        if args.reuse and Run.objects.exists():
            tenant = Tenant.objects.get(slug="bench")
            say(f"reusing {Run.objects.count():,} runs")
        else:
            tenant = seed(cursor, args, first, now)
        # The oldest month that still has runs (a --reuse after a purge takes the next one).
        first_run = Run.objects.filter(tenant=tenant).order_by("started_at").values_list("started_at", flat=True)[:1]
        oldest = max((m for m in starts if first_run and m <= first_run[0]), default=starts[0])
        oldest_start, oldest_end = oldest, starts[starts.index(oldest) + 1]
        integ = Integration.objects.filter(tenant=tenant).order_by("pk").first()
        sample_run = Run.objects.filter(integration=integ, started_at__gte=starts[-2]).values_list("run_id", flat=True)
        run_id = sample_run.first()
        print_sizes("before purge", cursor)

        build_partitioned(cursor, starts, nxt)
        month_mid = starts[-3]
        plain = reads(cursor, "integrations_run", integ.pk, month_mid, starts[-2], run_id)
        part = reads(cursor, "bench_run_part", integ.pk, month_mid, starts[-2], run_id)
        say(f"read one integration's month: table {plain[0]:.1f} ms, partitioned {part[0]:.1f} ms (median of 7)")
        say(f"read by upsert key (integration, run_id): table {plain[1]:.2f} ms, partitioned {part[1]:.2f} ms")

        doomed = Run.objects.filter(tenant=tenant, started_at__lt=oldest_end).count()
        t0 = time.perf_counter()
        counts = purge_tenant(tenant.pk, oldest_end)
        purge_s = time.perf_counter() - t0
        say(
            f"purge_tenant of the oldest month ({oldest_start:%Y-%m}): {counts['runs']:,} runs, "
            f"{counts['failures']:,} failures, {counts['logs']:,} log lines in {purge_s:.1f} s "
            f"({counts['runs'] / purge_s:,.0f} runs/s; expected {doomed:,} runs)"
        )
        cursor.execute("ANALYZE")
        print_sizes("after purge", cursor)
        t0 = time.perf_counter()
        cursor.execute("VACUUM integrations_run, integrations_failure, integrations_runlog")
        say(f"VACUUM after the purge: {time.perf_counter() - t0:.1f} s")
        print_sizes("after VACUUM", cursor)

        t0 = time.perf_counter()
        cursor.execute(f"ALTER TABLE bench_run_part DETACH PARTITION bench_run_part_{oldest_start:%Y%m}")
        cursor.execute(f"DROP TABLE bench_run_part_{oldest_start:%Y%m}")
        say(f"partitioned: DETACH + DROP of {oldest_start:%Y-%m}: {(time.perf_counter() - t0) * 1000:.0f} ms")
        cursor.execute("DROP TABLE bench_run_part CASCADE")
    say(f"benchmark took {time.perf_counter() - bench_started:.0f} s")


if __name__ == "__main__":
    main()
