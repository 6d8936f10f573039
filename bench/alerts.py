"""Benchmark of the minute alert evaluation (not a test).

    /work/main/.venv/bin/python bench/alerts.py [--tenants 20] [--per-tenant 50] [--runs-per-hour 4]

1. creates its own PostgreSQL database (``oc_alerts_bench``, dropped first)
   and migrates it;
2. ``--tenants`` tenants with a run_success objective, each with
   ``--per-tenant`` integrations scheduled every 15 minutes (grace 10), runs
   every 15 minutes over the last 6 hours (a tenth of them failed), the last
   heartbeat of one integration in ten 30 minutes old (late) and of one in
   ten 2 hours old (down);
3. times ``alerts.heartbeats.evaluate`` (first pass: every state new, alerts
   raised; then a steady pass with nothing to change), the burn-rate and
   breach check of one tenant (``alerts.budgets.evaluate_tenant``), and the
   whole minute task ``alerts.tasks.evaluate`` with its per-tenant checks run
   inline. The reference is the schedule itself: one pass must end well
   within its minute.
4. checks the answers: the late and down integrations raised exactly one
   alert each, the steady pass raised none.
"""

import argparse
import os
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

DB = "oc_alerts_bench"
BASE_URL = os.environ.get("BENCH_PG", "postgres://postgres@127.0.0.1:5432")
os.environ["DATABASE_URL"] = f"{BASE_URL}/{DB}"
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "opsconsole.settings")
os.environ.setdefault("OPSCONSOLE_INSECURE_HTTP", "1")
os.environ.setdefault("DJANGO_SECRET_KEY", "bench-secret-key-not-for-production-0123456789")
os.environ["OPSCONSOLE_Q_SYNC"] = "1"  # the per-tenant checks run inline, timed with the pass


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


def seed(args, now):
    from integrations.models import Integration, Run, System
    from opsconsole.models import Partner, Tenant
    from sla.models import Objective

    partner = Partner.objects.create(slug="bench", name="Bench Partners")
    late, down, runs = set(), set(), []
    for t in range(args.tenants):
        tenant = Tenant.objects.create(partner=partner, slug=f"t{t}", name=f"Tenant {t}", timezone="America/Chicago")
        Objective.objects.create(tenant=tenant, objective="run_success", target=99)
        src = System.objects.create(tenant=tenant, slug="psa", kind="psa")
        dst = System.objects.create(tenant=tenant, slug="erp", kind="erp")
        for i in range(args.per_tenant):
            integration = Integration.objects.create(
                tenant=tenant,
                slug=f"i{i}",
                name=f"Flow {i}",
                source=src,
                target=dst,
                every_minutes=15,
                grace_minutes=10,
            )
            gap = {0: 30, 1: 120}.get(i % 10, 5)
            (late if gap == 30 else down if gap == 120 else set()).add(integration.pk)
            start = now - timedelta(minutes=gap)
            for n in range(args.runs_per_hour * 6):
                at = start - timedelta(minutes=15 * n)
                status = "failed" if n % 10 == 3 else "succeeded"
                runs.append(
                    Run(
                        tenant=tenant,
                        integration=integration,
                        run_id=f"r{integration.pk}-{n}",
                        status=status,
                        started_at=at,
                        finished_at=at + timedelta(seconds=30),
                    )
                )
    Run.objects.bulk_create(runs, batch_size=5000)
    from sla.rollups import rebuild

    for tenant in Tenant.objects.all():
        rebuild(tenant)
    return late, down, len(runs)


def timed(fn, *args):
    started = time.perf_counter()
    result = fn(*args)
    return time.perf_counter() - started, result


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--tenants", type=int, default=20)
    parser.add_argument("--per-tenant", type=int, default=50)
    parser.add_argument("--runs-per-hour", type=int, default=4)
    args = parser.parse_args()
    create_database()
    setup()
    from django.utils import timezone

    from alerts import budgets, heartbeats, tasks
    from alerts.models import Alert
    from opsconsole.models import Tenant

    now = timezone.now()
    late, down, n_runs = seed(args, now)
    n = args.tenants * args.per_tenant
    print(f"seeded {args.tenants} tenants, {n} scheduled integrations, {n_runs} runs")

    first, _ = timed(heartbeats.evaluate, now)
    raised = dict(Alert.objects.filter(event__startswith="integration.").values_list("integration_id", "event"))
    assert set(raised) == late | down, "every late or down integration raises one alert"
    assert all(raised[pk] == "integration.down" for pk in down)
    steady = [timed(heartbeats.evaluate, now + timedelta(seconds=s))[0] for s in (60, 120, 180)]
    assert Alert.objects.count() == len(raised), "a steady pass raises nothing"
    tenant = Tenant.objects.order_by("pk").first()
    budget = [timed(budgets.evaluate_tenant, tenant.pk, now)[0] for _ in range(5)]
    whole, _ = timed(tasks.evaluate)

    print(f"heartbeats, first pass ({len(raised)} alerts raised): {first * 1000:.0f} ms")
    print(f"heartbeats, steady pass: median {statistics.median(steady) * 1000:.0f} ms over {n} integrations")
    median_budget = statistics.median(budget) * 1000
    print(f"burn rate + breach of one tenant ({args.per_tenant} integrations): median {median_budget:.0f} ms")
    print(f"whole minute task with {args.tenants} tenant checks inline: {whole:.2f} s (budget: 60 s)")


if __name__ == "__main__":
    main()
