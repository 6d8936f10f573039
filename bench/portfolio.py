"""Benchmark of GET /api/v1/portfolio over a month of runs (not a test).

    .venv/bin/python bench/portfolio.py [--tenants 100] [--integrations 10]
                                        [--runs 1000000] [--more 10000000] [--calls 10]

1. creates its own PostgreSQL database (``oc_governance_bench``, dropped
   first) and migrates it;
2. one partner with ``--tenants`` tenants in four time zones (whole-hour
   offsets), each on a plan with every objective, ``--integrations``
   scheduled integrations each, 30 exception openings in the month and a
   few exceptions open now;
3. seeds ``--runs`` runs over October 2026 by COPY, and with them the SLA
   rollups (hour, day and month rows) by COPY, built from the same runs with
   the product's own aggregates (``sla.compute``): a rebuild from the raw
   runs would take longer than the benchmark may;
4. checks that the seeded rollups of one tenant equal what
   ``sla.rollups.rebuild`` builds from its raw runs;
5. times GET /api/v1/sla for one tenant's October and GET /api/v1/portfolio
   for October (medians of ``--calls`` calls), and checks the portfolio's
   rows against GET /api/v1/sla for a few tenants;
6. starts over with ``--more`` runs (10 million by default) and does 3-5
   again; the portfolio must answer in under 1 s and one tenant's SLA may
   be at most 1.2x slower than at the first stage.

``--reuse`` skips the seeding: it migrates the database an earlier run left
(stage 2's runs), rebuilds the month rows when the migration found none,
checks one tenant's rollups against a rebuild and times the APIs again.
Every figure line carries the load average of the machine.
"""

import argparse
import io
import json
import os
import random
import statistics
import sys
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

# BENCH_DB: another database name, e.g. to keep a seeded one apart.
DB = os.environ.get("BENCH_DB", "oc_governance_bench")
BASE_URL = os.environ.get("BENCH_PG", "postgres://postgres@127.0.0.1:5432")
os.environ["DATABASE_URL"] = f"{BASE_URL}/{DB}"
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "opsconsole.settings")
os.environ.setdefault("OPSCONSOLE_INSECURE_HTTP", "1")
os.environ.setdefault("DJANGO_SECRET_KEY", "bench-secret-key-not-for-production-0123456789")
os.environ.setdefault("OPSCONSOLE_KEY_RATE", "1000000/min")

# Runs fall between these instants: inside October in every zone below.
SPAN_START = datetime(2026, 10, 1, 12, tzinfo=UTC)
SPAN_END = datetime(2026, 10, 31, 12, tzinfo=UTC)
PERIOD = "2026-10"
# Whole-hour offsets: a local day is a whole number of UTC hour buckets.
ZONES = ("America/Chicago", "Europe/Berlin", "Asia/Singapore", "UTC")
EVERY, GRACE = 5, 2
PLAN = [
    {"objective": "run_success", "target": 99.0},
    {"objective": "record_success", "target": 99.5},
    {"objective": "freshness", "target": 95.0, "threshold_minutes": 30},
    {"objective": "timeliness", "target": 99.5},
    {"objective": "acknowledge", "priority": "P1", "target": 95.0, "within_business_minutes": 30},
    {"objective": "resolve", "priority": "P1", "target": 90.0, "within_business_minutes": 480},
]
HOURS = {"days": ["mon", "tue", "wed", "thu", "fri"], "start": "08:00", "end": "18:00", "holidays": ["2026-10-12"]}


def create_database():
    import psycopg

    with psycopg.connect(f"{BASE_URL}/postgres", autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {DB}")
        conn.execute(f"CREATE DATABASE {DB}")


def setup(n_tenants, n_integrations):
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)

    from integrations.keys import create_key
    from integrations.models import Integration, System
    from opsconsole.models import Partner, Tenant, User
    from opsconsole.roles import Role
    from sla.models import Objective, Plan

    partner = Partner.objects.create(slug="bench", name="Bench Partners")
    plan = Plan.objects.create(partner=partner, name="gold")
    Objective.objects.bulk_create([Objective(plan=plan, **o) for o in PLAN])
    tenants = Tenant.objects.bulk_create(
        [
            Tenant(
                partner=partner,
                slug=f"t{k:03d}",
                name=f"Tenant {k:03d}",
                timezone=ZONES[k % len(ZONES)],
                plan=plan,
                business_hours=HOURS if k % 2 else None,
            )
            for k in range(n_tenants)
        ]
    )
    systems = System.objects.bulk_create([System(tenant=t, slug=s, kind=s) for t in tenants for s in ("psa", "erp")])
    by_tenant = {}
    for s in systems:
        by_tenant.setdefault(s.tenant_id, {})[s.slug] = s
    Integration.objects.bulk_create(
        [
            Integration(
                tenant=t,
                slug=f"flow-{i:02d}",
                name=f"Flow {i}",
                source=by_tenant[t.pk]["psa"],
                target=by_tenant[t.pk]["erp"],
                every_minutes=EVERY,
                grace_minutes=GRACE,
            )
            for t in tenants
            for i in range(n_integrations)
        ]
    )
    manager = User.objects.create_user("max@bench.example", "x", partner=partner, role=Role.MANAGER)
    _, token = create_key(name="bench", user=manager)
    tenants = list(Tenant.objects.filter(partner=partner).order_by("slug"))
    integrations = list(Integration.objects.filter(tenant__partner=partner).select_related("tenant").order_by("pk"))
    seed_exceptions(tenants, integrations)
    return tenants, integrations, token


def seed_exceptions(tenants, integrations):
    """30 openings per tenant in October (most acknowledged and resolved),
    and 5 exceptions per tenant still open now."""
    from integrations.models import ExceptionOpening, SyncException

    rnd = random.Random(11)
    first = {}
    for i in integrations:
        first.setdefault(i.tenant_id, i)
    excs, meta = [], []
    for t in tenants:
        for k in range(35):
            still_open = k >= 30
            opened = SPAN_START + timedelta(seconds=rnd.randrange(int((SPAN_END - SPAN_START).total_seconds())))
            excs.append(
                SyncException(
                    tenant=t,
                    integration=first[t.pk],
                    key_hash=f"{t.pk:08d}{k:056d}",
                    fingerprint=f"fp{t.pk}-{k}",
                    grouped_by="message",
                    title=f"Failure {k}",
                    entity="time_entry",
                    priority="P1" if k % 3 else "P2",
                    status="open" if still_open else "resolved",
                    opened_at=opened,
                )
            )
            ack = opened + timedelta(minutes=rnd.expovariate(1 / 20)) if not still_open else None
            res = opened + timedelta(minutes=rnd.expovariate(1 / 300)) if not still_open else None
            meta.append((opened, ack, res))
    SyncException.objects.bulk_create(excs, batch_size=2000)
    ExceptionOpening.objects.bulk_create(
        [
            ExceptionOpening(
                exception=e, tenant_id=e.tenant_id, priority=e.priority, opened_at=o, acknowledged_at=a, resolved_at=r
            )
            for e, (o, a, r) in zip(excs, meta, strict=True)
        ],
        batch_size=2000,
    )


# --- runs and rollups, by COPY ------------------------------------------------------

RUN_COLUMNS = (
    "tenant_id, integration_id, run_id, status, trigger, started_at, finished_at, processed, succeeded, "
    "failed, skipped, lag_seconds, received_at, updated_at"
)
ROLLUP_FIELDS = (
    "succeeded, partial, failed, running, rec_succeeded, rec_failed, rec_skipped, lag_hist, "
    "hb_first, hb_last, hb_late, basis, updated"
)
STATUSES = ["succeeded"] * 90 + ["partial"] * 6 + ["failed"] * 3 + ["running"]


def _rollup_values(agg, sk, basis, now):
    hist = json.dumps({str(k): v for k, v in sorted(agg.lag_hist.items())})
    first = "\\N" if sk.first is None else repr(sk.first)
    last = "\\N" if sk.last is None else repr(sk.last)
    return (
        f"{agg.succeeded}\t{agg.partial}\t{agg.failed}\t{agg.running}\t{agg.rec_succeeded}\t{agg.rec_failed}\t"
        f"{agg.rec_skipped}\t{hist}\t{first}\t{last}\t{sk.late!r}\t{basis}\t{now}"
    )


def _integration_runs(integ, per, rnd, tag):
    """(run COPY lines, {hour start: (RunAgg, Skeleton)}) of one integration:
    ``per`` runs evenly spread with jitter, at whole seconds."""
    from sla.compute import RunAgg, Skeleton

    eg = 60.0 * (EVERY + GRACE)
    t0, span = int(SPAN_START.timestamp()), int((SPAN_END - SPAN_START).total_seconds())
    step = span / per
    lines, hours = [], {}
    now = datetime.now(UTC).isoformat()
    for k in range(per):
        t = t0 + int(k * step + rnd.random() * step * 0.5)
        status = STATUSES[rnd.randrange(100)]
        trigger = "replay" if rnd.random() < 0.01 else "schedule"
        ok = rnd.randrange(0, 200)
        bad = 0 if status == "succeeded" else rnd.randrange(1, 20)
        skip = rnd.randrange(0, 3)
        lag = None if rnd.random() < 0.1 else int(rnd.expovariate(1 / 600))
        started = datetime.fromtimestamp(t, UTC)
        lag_text = "\\N" if lag is None else str(lag)
        fin = "\\N" if status == "running" else (started + timedelta(seconds=30)).isoformat()
        lines.append(
            f"{integ.tenant_id}\t{integ.pk}\t{tag}-{k}\t{status}\t{trigger}\t{started.isoformat()}\t{fin}\t"
            f"{ok + bad + skip}\t{ok}\t{bad}\t{skip}\t{lag_text}\t{now}\t{now}\n"
        )
        agg, sk = hours.setdefault(t - t % 3600, (RunAgg(), Skeleton()))
        agg.add_run(status, ok, bad, skip, lag)
        if trigger != "replay":
            sk.push(float(t), eg)
    return lines, hours


def seed(integrations, n, tag, seed_value):
    """``n`` runs over the integrations, with their hour and day rollups, by COPY.
    Returns (seconds for runs, seconds for rollups)."""
    from django.db import connection

    from sla.compute import RunAgg, Skeleton
    from sla.rollups import basis_of, day_start

    rnd = random.Random(seed_value)
    per = n // len(integrations)
    eg = 60.0 * (EVERY + GRACE)
    now = datetime.now(UTC).isoformat()
    t_runs = t_roll = 0.0
    with connection.cursor() as cur:
        raw = cur.connection
        for chunk in range(0, len(integrations), 50):
            batch = integrations[chunk : chunk + 50]
            hour_lines, day_lines, month_lines, run_buf = [], [], [], io.StringIO()
            for integ in batch:
                lines, hours = _integration_runs(integ, per, rnd, tag)
                run_buf.write("".join(lines))
                tz = integ.tenant.tzinfo
                tzname = integ.tenant.timezone
                days = {}
                for start in sorted(hours):
                    agg, sk = hours[start]
                    a, b = datetime.fromtimestamp(start, UTC), datetime.fromtimestamp(start + 3600, UTC)
                    day = a.astimezone(tz).date()
                    compact = sk.compact(eg)
                    basis = basis_of(tzname, eg, [], (a, b))
                    hour_lines.append(
                        f"{integ.tenant_id}\t{integ.pk}\t{a.isoformat()}\t{b.isoformat()}\t{day}\t"
                        f"{_rollup_values(agg, compact, basis, now)}\n"
                    )
                    d_agg, d_sk = days.setdefault(day, (RunAgg(), Skeleton()))
                    d_agg.add(agg)
                    days[day] = (d_agg, d_sk.join(Skeleton(compact.first, compact.last, [], compact.late), eg))
                months = {}
                for day, (agg, sk) in sorted(days.items()):
                    span = (day_start(day, tz), day_start(day + timedelta(days=1), tz))
                    basis = basis_of(tzname, eg, [], span)
                    day_lines.append(
                        f"{integ.tenant_id}\t{integ.pk}\t{day}\t{_rollup_values(agg, sk.compact(eg), basis, now)}\n"
                    )
                    months.setdefault(day.replace(day=1), RunAgg()).add(RunAgg(lag_hist=dict(agg.lag_hist)))
                for month, agg in sorted(months.items()):
                    hist = json.dumps({str(k): v for k, v in sorted(agg.lag_hist.items())})
                    month_lines.append(f"{integ.tenant_id}\t{integ.pk}\t{month}\t{hist}\t{now}\n")
            t = time.perf_counter()
            with raw.cursor() as c, c.copy(f"COPY integrations_run ({RUN_COLUMNS}) FROM STDIN") as copy:
                copy.write(run_buf.getvalue())
            t_runs += time.perf_counter() - t
            t = time.perf_counter()
            with raw.cursor() as c:
                with c.copy(
                    f'COPY sla_runhour (tenant_id, integration_id, start, "end", day, {ROLLUP_FIELDS}) FROM STDIN'
                ) as copy:
                    copy.write("".join(hour_lines))
                with c.copy(f"COPY sla_runday (tenant_id, integration_id, day, {ROLLUP_FIELDS}) FROM STDIN") as copy:
                    copy.write("".join(day_lines))
                with c.copy(
                    "COPY sla_lagmonth (tenant_id, integration_id, month, lag_hist, updated) FROM STDIN"
                ) as copy:
                    copy.write("".join(month_lines))
            t_roll += time.perf_counter() - t
        cur.execute("ANALYZE integrations_run")
        cur.execute("ANALYZE sla_runhour")
        cur.execute("ANALYZE sla_runday")
        cur.execute("ANALYZE sla_lagmonth")
    return t_runs, t_roll


def truncate_runs():
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute("TRUNCATE integrations_run, sla_runhour, sla_runday, sla_lagmonth CASCADE")


# --- checks and timings ----------------------------------------------------------


DAY_COMPARED = (
    "integration_id",
    "day",
    "succeeded",
    "partial",
    "failed",
    "running",
    "rec_succeeded",
    "rec_failed",
    "rec_skipped",
    "lag_hist",
    "hb_first",
    "hb_last",
    "hb_late",
    "basis",
)


def rollups_match_rebuild(tenant):
    """Whether the seeded day and month rows of ``tenant`` equal the product's rebuild."""
    from sla.models import LagMonth, RunDay
    from sla.rollups import rebuild

    def rows():
        out = {}
        for r in RunDay.objects.filter(tenant=tenant).values_list(*DAY_COMPARED):
            r = list(r)
            r[9] = {str(k): v for k, v in (r[9] or {}).items()}
            r[12] = round(r[12], 6)
            out[(r[0], r[1])] = r
        for pk, month, hist in LagMonth.objects.filter(tenant=tenant).values_list(
            "integration_id", "month", "lag_hist"
        ):
            out[("month", pk, month)] = hist
        return out

    before = rows()
    rebuild(tenant, date(2026, 10, 1), date(2026, 10, 31))
    after = rows()
    return before == after, len(after)


def timed(client, url, calls):
    first = client.get(url)
    assert first.status_code == 200, first.content[:500]
    times = []
    for _ in range(calls):
        t = time.perf_counter()
        response = client.get(url)
        times.append((time.perf_counter() - t) * 1000)
        assert response.status_code == 200
    return statistics.median(times), max(times), first.json()


def same_as_sla(client, portfolio_body, slugs):
    """Whether the portfolio's rows equal GET /api/v1/sla's pooled rows for ``slugs``."""
    by_slug = {t["tenant"]: t for t in portfolio_body["tenants"]}
    for slug in slugs:
        sla = client.get(f"/api/v1/sla?tenant={slug}&period={PERIOD}").json()
        pooled = [
            {k: v for k, v in r.items() if k != "integration"} for r in sla["objectives"] if r["integration"] is None
        ]
        if pooled != by_slug[slug]["objectives"]:
            return False
    return True


def say(text):
    """A figure line, with the machine's load average when it was printed."""
    print(f"{text}  [load average {os.getloadavg()[0]:.1f}]", flush=True)


def stage(label, tenants, integrations, client, calls, n, tag, seed_value):
    from integrations.models import Run

    t_runs, t_roll = seed(integrations, n, tag, seed_value)
    say(f"[{label}] runs in the database: {Run.objects.count():,}")
    say(f"[{label}] COPY of {n:,} runs: {t_runs:.1f} s ({n / t_runs:,.0f} runs/s); rollups COPY: {t_roll:.1f} s")
    t = time.perf_counter()
    ok, n_rows = rollups_match_rebuild(tenants[1])
    say(
        f"[{label}] seeded rollups of {tenants[1].slug} equal sla.rollups.rebuild from its raw runs: "
        f"{'yes' if ok else 'NO'} ({n_rows} day rows, rebuild {time.perf_counter() - t:.1f} s)"
    )
    sla_ms, sla_max, _ = timed(client, f"/api/v1/sla?tenant={tenants[0].slug}&period={PERIOD}", calls)
    say(f"[{label}] GET /api/v1/sla (one tenant, {PERIOD}): median {sla_ms:.1f} ms, max {sla_max:.1f} ms")
    pf_ms, pf_max, body = timed(client, f"/api/v1/portfolio?period={PERIOD}", calls)
    say(
        f"[{label}] GET /api/v1/portfolio ({len(body['tenants'])} tenants, {PERIOD}): "
        f"median {pf_ms:.0f} ms, max {pf_max:.0f} ms ({calls} calls)"
    )
    same = same_as_sla(client, body, [t.slug for t in tenants[:4]])
    say(f"[{label}] portfolio rows equal GET /api/v1/sla pooled rows (4 tenants): {'yes' if same else 'NO'}")
    return sla_ms, pf_ms, ok and same


def reuse(calls):
    """Time the APIs against the database an earlier run left behind."""
    import django

    django.setup()
    from django.core.management import call_command
    from rest_framework.test import APIClient

    from integrations.keys import create_key
    from integrations.models import Run
    from opsconsole.models import Tenant, User
    from sla import lag_months
    from sla.models import LagMonth

    call_command("migrate", verbosity=0)
    if not LagMonth.objects.exists():
        t = time.perf_counter()
        say(
            f"[reuse] month rows rebuilt from the day rows: {lag_months.rebuild():,} in {time.perf_counter() - t:.1f} s"
        )
    tenants = list(Tenant.objects.order_by("slug"))
    t = time.perf_counter()
    ok, n_rows = rollups_match_rebuild(tenants[1])
    say(
        f"[reuse] rollups of {tenants[1].slug} equal sla.rollups.rebuild from its raw runs: "
        f"{'yes' if ok else 'NO'} ({n_rows} day and month rows, rebuild {time.perf_counter() - t:.1f} s)"
    )
    _, token = create_key(name="bench-reuse", user=User.objects.get(email="max@bench.example"))
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    say(f"[reuse] runs in the database: {Run.objects.count():,}")
    sla_ms, sla_max, _ = timed(client, f"/api/v1/sla?tenant={tenants[0].slug}&period={PERIOD}", calls)
    say(f"[reuse] GET /api/v1/sla (one tenant, {PERIOD}): median {sla_ms:.1f} ms, max {sla_max:.1f} ms")
    pf_ms, pf_max, body = timed(client, f"/api/v1/portfolio?period={PERIOD}", calls)
    say(f"[reuse] GET /api/v1/portfolio ({len(body['tenants'])} tenants): median {pf_ms:.0f} ms, max {pf_max:.0f} ms")
    same = same_as_sla(client, body, [t.slug for t in tenants[:4]])
    say(f"[reuse] portfolio rows equal GET /api/v1/sla pooled rows (4 tenants): {'yes' if same else 'NO'}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tenants", type=int, default=100)
    parser.add_argument("--integrations", type=int, default=10)
    parser.add_argument("--runs", type=int, default=1_000_000)
    parser.add_argument("--more", type=int, default=10_000_000)
    parser.add_argument("--calls", type=int, default=10)
    parser.add_argument("--reuse", action="store_true", help="time the database an earlier run left; no seeding")
    args = parser.parse_args()
    if args.reuse:
        return reuse(args.calls)

    started = time.perf_counter()
    create_database()
    tenants, integrations, token = setup(args.tenants, args.integrations)
    from rest_framework.test import APIClient

    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    sla1, _pf1, ok1 = stage("1", tenants, integrations, client, args.calls, args.runs, "a", 1)
    truncate_runs()
    sla2, pf2, ok2 = stage("2", tenants, integrations, client, args.calls, args.more, "b", 2)
    ratio = sla2 / sla1
    say(f"one tenant's SLA month at {args.more:,} / at {args.runs:,} runs: {ratio:.2f}x (target: at most 1.2x)")
    say(f"portfolio median at {args.more:,} runs: {pf2:.0f} ms (target: under 1000 ms)")
    say(f"benchmark took {time.perf_counter() - started:.0f} s")
    say("targets met" if ok1 and ok2 and ratio <= 1.2 and pf2 < 1000 else "targets NOT met")


if __name__ == "__main__":
    main()
