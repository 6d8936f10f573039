"""Benchmark of GET /api/v1/sla over a month of runs (not a test).

    /work/main/.venv/bin/python bench/sla.py [--runs 1000000] [--more 4000000] [--calls 15]

1. creates its own PostgreSQL database (``oc_sla_bench``, dropped first) and
   migrates it;
2. one tenant (America/Chicago) on a plan with every objective, 20 scheduled
   integrations, two maintenance windows, 2,000 exception openings;
3. seeds ``--runs`` runs over October 2026 by COPY (timed), then builds the
   rollups with ``sla.rollups.rebuild`` as the product does (timed apart);
4. times ``--calls`` calls of GET /api/v1/sla?period=2026-10 (median, p95)
   and checks every row against a full scan of the raw rows (SQL + Python,
   written here independently of the product's code);
5. seeds ``--more`` further runs into the same month and does 3-4 again.
"""

import argparse
import io
import os
import random
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

DB = "oc_sla_bench"
BASE_URL = os.environ.get("BENCH_PG", "postgres://postgres@127.0.0.1:5432")
os.environ["DATABASE_URL"] = f"{BASE_URL}/{DB}"
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "opsconsole.settings")
os.environ.setdefault("OPSCONSOLE_KEY_RATE", "1000000/min")
os.environ.setdefault("OPSCONSOLE_INSECURE_HTTP", "1")
os.environ.setdefault("DJANGO_SECRET_KEY", "bench-secret-key-not-for-production-0123456789")

MONTH_START = datetime(2026, 10, 1, 5, tzinfo=UTC)  # Oct 1 00:00 CDT
MONTH_END = datetime(2026, 11, 1, 5, tzinfo=UTC)  # Nov 1 00:00 CDT
N_INTEGRATIONS = 20
PLAN = [
    {"objective": "run_success", "target": 99.0},
    {"objective": "record_success", "target": 99.5},
    {"objective": "freshness", "target": 95.0, "threshold_minutes": 30},
    {"objective": "timeliness", "target": 99.5},
    {"objective": "acknowledge", "priority": "P1", "target": 95.0, "within_business_minutes": 30},
    {"objective": "resolve", "priority": "P1", "target": 90.0, "within_business_minutes": 480},
]


def create_database():
    import psycopg

    with psycopg.connect(f"{BASE_URL}/postgres", autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {DB}")
        conn.execute(f"CREATE DATABASE {DB}")


def setup():
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)

    from integrations.keys import create_key
    from integrations.models import Integration, System
    from opsconsole.models import Partner, Tenant
    from sla.models import MaintenanceWindow, Objective, Plan

    partner = Partner.objects.create(slug="bench", name="Bench Partners")
    plan = Plan.objects.create(partner=partner, name="gold")
    for o in PLAN:
        Objective.objects.create(plan=plan, **o)
    tenant = Tenant.objects.create(partner=partner, slug="acme", name="Acme", timezone="America/Chicago", plan=plan)
    src = System.objects.create(tenant=tenant, slug="psa", kind="psa")
    dst = System.objects.create(tenant=tenant, slug="erp", kind="erp")
    integrations = [
        Integration.objects.create(
            tenant=tenant,
            slug=f"flow-{i:02d}",
            name=f"Flow {i}",
            source=src,
            target=dst,
            every_minutes=2,
            grace_minutes=1,
        )
        for i in range(N_INTEGRATIONS)
    ]
    # One integration overrides freshness (its own threshold).
    Objective.objects.create(integration=integrations[0], objective="freshness", target=90.0, threshold_minutes=10)
    MaintenanceWindow.objects.create(
        tenant=tenant, start=datetime(2026, 10, 10, 2, tzinfo=UTC), end=datetime(2026, 10, 10, 4, tzinfo=UTC)
    )
    w = MaintenanceWindow.objects.create(
        tenant=tenant, start=datetime(2026, 10, 20, 10, tzinfo=UTC), end=datetime(2026, 10, 20, 16, tzinfo=UTC)
    )
    w.integrations.set(integrations[:3])
    _, raw_key = create_key(name="bench-read", tenant=tenant, scopes=["read"])
    seed_openings(tenant, integrations)
    return tenant, integrations, raw_key


def seed_openings(tenant, integrations):
    from integrations.models import ExceptionOpening, SyncException

    rnd = random.Random(7)
    excs = [
        SyncException(
            tenant=tenant,
            integration=integrations[i % N_INTEGRATIONS],
            key_hash=f"{i:064x}",
            fingerprint=f"fp{i}",
            grouped_by="message",
            title=f"Failure {i}",
            entity="time_entry",
            priority="P1",
        )
        for i in range(2000)
    ]
    SyncException.objects.bulk_create(excs)
    openings = []
    for i, exc in enumerate(excs):
        opened = MONTH_START + timedelta(seconds=rnd.randrange(31 * 86400))
        ack = opened + timedelta(minutes=rnd.expovariate(1 / 20)) if rnd.random() < 0.9 else None
        res = opened + timedelta(minutes=rnd.expovariate(1 / 300)) if rnd.random() < 0.8 else None
        ign = opened + timedelta(minutes=5) if (res is None and rnd.random() < 0.2) else None
        openings.append(
            ExceptionOpening(
                exception=exc,
                tenant=tenant,
                priority="P1" if i % 3 else "P2",
                opened_at=opened,
                acknowledged_at=ack,
                resolved_at=res,
                ignored_at=ign,
            )
        )
    ExceptionOpening.objects.bulk_create(openings)


def seed_runs(tenant, integrations, n, tag, seed):
    """``n`` runs spread evenly over the month and the integrations, by COPY."""
    from django.db import connection

    rnd = random.Random(seed)
    per = n // len(integrations)
    span = (MONTH_END - MONTH_START).total_seconds()
    t0 = MONTH_START.timestamp()
    now = datetime.now(UTC).isoformat()
    statuses = ["succeeded"] * 90 + ["partial"] * 6 + ["failed"] * 3 + ["running"]
    columns = (
        "tenant_id, integration_id, run_id, status, trigger, started_at, finished_at, processed, succeeded, "
        "failed, skipped, lag_seconds, received_at, updated_at"
    )
    with connection.cursor() as cur:
        raw = cur.connection
        with raw.cursor() as c, c.copy(f"COPY integrations_run ({columns}) FROM STDIN") as copy:
            for integ in integrations:
                # Evenly spaced with jitter, and a few outages (skipped slots).
                step = span / per
                buf = io.StringIO()
                outage = 0
                for k in range(per):
                    if outage:
                        outage -= 1
                        continue
                    if rnd.random() < 0.0005:
                        outage = 5  # an outage: six slots without a run
                        continue
                    t = t0 + k * step + rnd.random() * step * 0.5
                    started = datetime.fromtimestamp(t, UTC)
                    status = rnd.choice(statuses)
                    trigger = "replay" if rnd.random() < 0.01 else "schedule"
                    fin = "\\N" if status == "running" else (started + timedelta(seconds=30)).isoformat()
                    ok = rnd.randrange(0, 200)
                    bad = 0 if status == "succeeded" else rnd.randrange(1, 20)
                    skip = rnd.randrange(0, 3)
                    lag = "\\N" if rnd.random() < 0.1 else str(int(rnd.expovariate(1 / 600)))
                    buf.write(
                        f"{tenant.pk}\t{integ.pk}\t{tag}-{k}\t{status}\t{trigger}\t{started.isoformat()}\t{fin}\t"
                        f"{ok + bad + skip}\t{ok}\t{bad}\t{skip}\t{lag}\t{now}\t{now}\n"
                    )
                    if buf.tell() > 4_000_000:
                        copy.write(buf.getvalue())
                        buf = io.StringIO()
                copy.write(buf.getvalue())
        cur.execute("ANALYZE integrations_run")


# --- the reference: a full scan of the raw rows ------------------------------------


def reference(tenant, integrations, now):
    """Every SLA row computed straight from the raw runs and openings."""
    from django.db import connection

    from integrations.models import ExceptionOpening
    from sla.models import MaintenanceWindow

    w_start, w_end = MONTH_START.timestamp(), min(MONTH_END, now).timestamp()
    windows = {i.pk: [] for i in integrations}
    for w in MaintenanceWindow.objects.filter(tenant=tenant).prefetch_related("integrations"):
        for pk in [i.pk for i in w.integrations.all()] or list(windows):
            windows[pk].append((w.start.timestamp(), w.end.timestamp()))
    win_values = ",".join(f"({pk},{a},{b})" for pk, ws in windows.items() for a, b in ws) or "(0,0,0)"
    thresholds = {i.pk: 30 for i in integrations}
    thresholds[integrations[0].pk] = 10
    thr_values = ",".join(f"({pk},{t})" for pk, t in thresholds.items())
    sql_counts = f"""
        WITH win(integration_id, s, e) AS (VALUES {win_values}),
             thr(integration_id, t) AS (VALUES {thr_values})
        SELECT r.integration_id,
               count(*) FILTER (WHERE r.status = 'succeeded'),
               count(*),
               coalesce(sum(r.succeeded), 0), coalesce(sum(r.succeeded + r.failed), 0),
               count(*) FILTER (WHERE r.lag_seconds IS NOT NULL AND r.lag_seconds <= 60 * thr.t),
               count(*) FILTER (WHERE r.lag_seconds IS NOT NULL)
        FROM integrations_run r JOIN thr ON thr.integration_id = r.integration_id
        WHERE r.tenant_id = %s AND r.status IN ('succeeded', 'partial', 'failed')
          AND r.started_at >= to_timestamp(%s) AND r.started_at < to_timestamp(%s)
          AND NOT EXISTS (SELECT 1 FROM win WHERE win.integration_id = r.integration_id
                          AND extract(epoch FROM r.started_at) >= win.s AND extract(epoch FROM r.started_at) < win.e)
        GROUP BY r.integration_id"""
    eg = {i.pk: 60.0 * (i.every_minutes + i.grace_minutes) for i in integrations}
    sql_gaps = f"""
        WITH win(integration_id, s, e) AS (VALUES {win_values}),
        hb AS (
            SELECT r.integration_id, extract(epoch FROM r.started_at)::float8 AS t
            FROM integrations_run r
            WHERE r.tenant_id = %s AND r.trigger <> 'replay' AND r.started_at < to_timestamp(%s)
              AND NOT EXISTS (SELECT 1 FROM win WHERE win.integration_id = r.integration_id
                              AND extract(epoch FROM r.started_at) >= win.s
                              AND extract(epoch FROM r.started_at) < win.e)),
        g AS (SELECT integration_id, t, lead(t) OVER (PARTITION BY integration_id ORDER BY t) AS nxt,
                     min(t) OVER (PARTITION BY integration_id) AS first FROM hb)
        SELECT integration_id, t, coalesce(nxt, %s::float8) AS nxt, first FROM g
        WHERE coalesce(nxt, %s::float8) - t > 180 OR t = first"""
    counts = {}
    late = {i.pk: [] for i in integrations}
    first = {}
    with connection.cursor() as cur:
        cur.execute(sql_counts, [tenant.pk, w_start, w_end])
        for pk, *vals in cur.fetchall():
            counts[pk] = vals
        cur.execute(sql_gaps, [tenant.pk, w_end, w_end, w_end])
        for pk, t, nxt, f in cur.fetchall():
            first[pk] = f
            if nxt - t > eg[pk]:
                late[pk].append((t + eg[pk], nxt))

    def union_len(iv):
        total, end = 0.0, None
        for a, b in sorted(iv):
            if end is None or a > end:
                total += b - a
                end = b
            elif b > end:
                total += b - end
                end = b
        return total

    def inter(iv, lo, hi):
        return [(max(a, lo), min(b, hi)) for a, b in iv if min(b, hi) > max(a, lo)]

    rows = {}
    for integ in integrations:
        c = counts.get(integ.pk, [0] * 6)
        rows[("run_success", integ.slug)] = (c[0], c[1])
        rows[("record_success", integ.slug)] = (c[2], c[3])
        rows[("freshness", integ.slug)] = (c[4], c[5])
        f0 = first.get(integ.pk)
        if f0 is None or f0 >= w_end:
            rows[("timeliness", integ.slug)] = (0.0, 0.0)
            continue
        lo = max(w_start, f0)
        ws = inter(windows[integ.pk], lo, w_end)
        total = (w_end - lo) - union_len(ws)
        lt = inter(late[integ.pk], lo, w_end)
        # late seconds outside the windows = |late| - |late ∩ windows|
        late_in = union_len(lt) - union_len([x for a in lt for x in inter(ws, a[0], a[1])])
        rows[("timeliness", integ.slug)] = (total - late_in, total)
    for kind in ("run_success", "record_success", "freshness", "timeliness"):
        rows[(kind, None)] = tuple(sum(rows[(kind, i.slug)][k] for i in integrations) for k in (0, 1))

    for kind, minutes in (("acknowledge", 30), ("resolve", 480)):
        good = total = 0
        for o in ExceptionOpening.objects.filter(tenant=tenant, priority="P1"):
            if not (MONTH_START <= o.opened_at < min(MONTH_END, now)):
                continue
            deadline = o.opened_at + timedelta(minutes=minutes)
            if kind == "resolve":
                if o.ignored_at:
                    continue
                done = o.resolved_at
            else:
                done = min([t for t in (o.acknowledged_at, o.resolved_at, o.ignored_at) if t], default=None)
            if done is None and now <= deadline:
                continue
            total += 1
            good += int(done is not None and done <= deadline)
        rows[(kind, None)] = (good, total)
    return rows


def time_api(client, calls):
    url = "/api/v1/sla?tenant=acme&period=2026-10"
    body = client.get(url).json()  # warm-up
    times = []
    for _ in range(calls):
        t = time.perf_counter()
        response = client.get(url)
        times.append((time.perf_counter() - t) * 1000)
        assert response.status_code == 200, response.content
    times.sort()
    p95 = times[min(len(times) - 1, int(round(0.95 * (len(times) - 1))))]
    return statistics.median(times), p95, body


def check(body, ref):
    got = {(r["objective"], r["integration"]): (r["good"], r["total"]) for r in body["objectives"]}
    bad = []
    for key, (good, total) in ref.items():
        g = got.get(key)
        if g is None or abs(g[0] - good) > 1e-3 or abs(g[1] - total) > 1e-3:
            bad.append((key, g, (good, total)))
    return bad


def stage(label, tenant, integrations, client, calls, seed_n, tag, seed):
    from sla.rollups import rebuild

    t = time.perf_counter()
    seed_runs(tenant, integrations, seed_n, tag, seed)
    seed_s = time.perf_counter() - t
    t = time.perf_counter()
    n_rows = rebuild(tenant, MONTH_START.date() - timedelta(days=1), MONTH_END.date())
    roll_s = time.perf_counter() - t
    from integrations.models import Run

    total_runs = Run.objects.filter(tenant=tenant).count()
    print(f"[{label}] runs in the database: {total_runs:,}")
    print(f"[{label}] seeded {seed_n:,} runs by COPY in {seed_s:.1f} s ({seed_n / seed_s:,.0f} runs/s)")
    print(f"[{label}] rollups rebuilt ({n_rows} day rows) in {roll_s:.1f} s")
    median, p95, body = time_api(client, calls)
    print(f"[{label}] GET /api/v1/sla?period=2026-10: median {median:.1f} ms, p95 {p95:.1f} ms ({calls} calls)")
    t = time.perf_counter()
    ref = reference(tenant, integrations, datetime.now(UTC))
    print(f"[{label}] reference full scan over raw rows: {(time.perf_counter() - t) * 1000:.0f} ms")
    bad = check(body, ref)
    print(f"[{label}] answer equals the full scan: {'yes' if not bad else 'NO'} ({len(ref)} rows compared)")
    for b in bad[:10]:
        print("   mismatch", b)
    return median, bad


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=1_000_000)
    parser.add_argument("--more", type=int, default=4_000_000, help="runs added for the second stage (0: skip)")
    parser.add_argument("--calls", type=int, default=15)
    args = parser.parse_args()

    create_database()
    tenant, integrations, raw_key = setup()
    from rest_framework.test import APIClient

    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw_key}")
    m1, bad1 = stage("1", tenant, integrations, client, args.calls, args.runs, "a", 1)
    ok = not bad1 and m1 < 200
    if args.more:
        m2, bad2 = stage("2", tenant, integrations, client, args.calls, args.more, "b", 2)
        print(f"median at stage 2 / stage 1: {m2 / m1:.2f}x (target: at most 1.5x)")
        ok = ok and not bad2 and m2 <= 1.5 * m1
    print("targets met" if ok else "targets NOT met")


if __name__ == "__main__":
    main()
