"""Benchmark of big replays on PostgreSQL (not a test).

    .venv/bin/python bench/replays.py [--sizes 1000,10000] [--database oc_replay_bench]

1. creates its own database (dropped first) and migrates it;
2. for each size N: an exception of N records (one failure each, bulk
   inserted) on an integration that needs approval;
3. times a replay request naming all N records, and one of "every record
   not yet remediated" on a second exception of the same size;
4. times the approvals page and the replay page (first page) for the
   pending replay and prints their size in bytes.

Selection must grow linearly: the time per record at 10,000 stays near the
time per record at 1,000 (the issue measured 8 s for 10,000, quadratic);
pages stay the same size whatever N.
"""

import argparse
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

BASE_URL = os.environ.get("BENCH_PG", "postgres://postgres@127.0.0.1:5432")


def create_database(name):
    import psycopg

    with psycopg.connect(f"{BASE_URL}/postgres", autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name}")
        conn.execute(f"CREATE DATABASE {name}")


def setup():
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)
    from integrations.models import Integration, System
    from opsconsole.models import Partner, Tenant, User
    from opsconsole.roles import Role

    partner = Partner.objects.create(slug="bench", name="Bench")
    tenant = Tenant.objects.create(partner=partner, slug="contoso", name="Contoso", timezone="America/Chicago")
    source = System.objects.create(tenant=tenant, slug="kantata", kind=System.Kind.PSA)
    target = System.objects.create(tenant=tenant, slug="netsuite", kind=System.Kind.ERP)
    integration = Integration.objects.create(
        tenant=tenant,
        slug="te",
        name="Time entries",
        source=source,
        target=target,
        pattern=Integration.Pattern.TIME_EXPENSE_POSTING,
        entities=["time_entry"],
        approval_required=True,
    )
    support = User.objects.create_user("support@bench.example", "pw", partner=partner, role=Role.SUPPORT)
    manager = User.objects.create_user("manager@bench.example", "pw", partner=partner, role=Role.MANAGER)
    return integration, support, manager


def exception_of(integration, n, label):
    from django.utils import timezone

    from integrations.models import Failure, Run, SyncException

    now = timezone.now()
    exception = SyncException.objects.create(
        tenant=integration.tenant,
        integration=integration,
        key_hash=f"bench-{label}-{n}",
        fingerprint=f"bench-{label}-{n}",
        title="Project P-<n> is closed",
        entity="time_entry",
        error_code="ERP-4001",
        grouped_by="error_code",
        opened_at=now,
        first_seen=now,
        last_seen=now,
        occurrences=n,
        records=n,
    )
    run = Run.objects.create(
        tenant=integration.tenant, integration=integration, run_id=f"bench-{label}-{n}", status="partial",
        started_at=now, finished_at=now, processed=n, succeeded=0, failed=n,
    )  # fmt: skip
    Failure.objects.bulk_create(
        [
            Failure(
                run=run,
                tenant=integration.tenant,
                integration=integration,
                exception=exception,
                entity="time_entry",
                record_id=f"TE-{i:06d}",
                operation="create",
                error_code="ERP-4001",
                message=f"Project P-{i} is closed",
                payload={"employee": f"E-{i}", "hours": 7.5, "project": f"P-{i}"},
                occurred_at=now,
            )
            for i in range(n)
        ],
        batch_size=2000,
    )
    return exception


def timed(fn):
    start = time.perf_counter()
    result = fn()
    return result, time.perf_counter() - start


def page(client, url):
    start = time.perf_counter()
    response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    return time.perf_counter() - start, len(response.content)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="1000,10000")
    parser.add_argument("--database", default="oc_replay_bench")
    args = parser.parse_args()
    os.environ["DATABASE_URL"] = f"{BASE_URL}/{args.database}"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "opsconsole.settings")
    os.environ.setdefault("DJANGO_ALLOWED_HOSTS", "testserver")
    os.environ.setdefault("OPSCONSOLE_PLAIN_STATIC", "1")
    os.environ.setdefault("OPSCONSOLE_INSECURE_HTTP", "1")
    os.environ.setdefault("DJANGO_SECRET_KEY", "bench-secret-key-not-for-production-0123456789")
    create_database(args.database)
    integration, support, manager = setup()

    from django.test import Client

    from integrations import replays

    client = Client()
    client.force_login(manager)
    print(f"{'records':>8} {'named (s)':>10} {'µs/rec':>7} {'all (s)':>8} {'approvals':>18} {'replay page':>18}")
    for n in [int(s) for s in args.sizes.split(",")]:
        named = exception_of(integration, n, "named")
        ids = [f"TE-{i:06d}" for i in range(n)]
        replay, t_named = timed(lambda e=named, ids=ids: replays.request_replay(support, e, records=ids))
        every = exception_of(integration, n, "all")
        _, t_all = timed(lambda e=every: replays.request_replay(support, e))
        t_queue, size_queue = page(client, "/approvals/")
        t_page, size_page = page(client, f"/replays/{replay.pk}/")
        print(
            f"{n:>8} {t_named:>10.3f} {t_named / n * 1e6:>7.0f} {t_all:>8.3f} "
            f"{t_queue * 1000:>7.0f} ms {size_queue / 1024:>6.0f} KiB "
            f"{t_page * 1000:>7.0f} ms {size_page / 1024:>6.0f} KiB"
        )
        # Decide, so that the next size's approvals page holds one pending replay of each size.
        replays.reject(manager, replay)


if __name__ == "__main__":
    main()
