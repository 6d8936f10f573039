"""Ingest benchmark: runs per second through POST /api/v1/runs/batch against
gunicorn on PostgreSQL, compared with PostgreSQL's own COPY rate for the same
rows. A script, not a test:

    python bench/ingest.py [--runs 40000] [--batch 500] [--clients 4] [--rounds 4]

1. drop and create the database ``oc_bench_ingest`` and migrate it;
2. create a partner, tenant, two integrations and an ingest key through Django;
3. start gunicorn (2 workers x 2 threads) on it;
4. post the runs (3 failures and 5 log lines each) in batches from client
   threads and time them, twice over in the same run: the same documents
   without amounts into one integration and with an ``amount`` on every
   failure (contract 3.1, 1.1) into the other, alternating in ``--rounds``
   rounds so that both see the same machine load; read the workers' peak
   RSS (VmHWM). Each client posts several batches in a round (five with the
   defaults), so that a round measures sustained ingest: every round starts
   all clients at once and ends with the slowest, and with one batch per
   client a round was mostly that start and end (the four requests
   validating together, then meeting the database together, then the last
   one alone), which left a fifth of the machine idle;
5. check that every run sent is stored, and that the open amounts equal
   the amounts sent (exit status 1 if not);
6. after each round, COPY the same rows as that round's runs without
   amounts (1 run, 3 failures, 5 logs per run) into tables with the unique
   keys and indexes an ingest path needs, from one process: the reference
   is measured interleaved with the ingest it is compared with, so that a
   machine whose speed drifts during the run (shared virtual machines do,
   by a third and more) slows both alike;
7. print the rates with and without amounts and their ratio (target: within
   5%), the rate against COPY, the peak RSS and the load average.
"""

import argparse
import datetime as dt
import hashlib
import http.client
import json
import os
import queue
import random
import socket
import subprocess
import sys
import threading
import time
from decimal import Decimal
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
BIN = Path(PYTHON).parent
PG = os.environ.get("BENCH_PG", "postgres://postgres@127.0.0.1:5432")
DB = "oc_bench_ingest"
DATABASE_URL = f"{PG}/{DB}"

ENTITIES = ["time_entry", "expense", "invoice", "project"]
CLASSES = ["validation", "mapping", "reference", "duplicate", "timeout"]


def log(text):
    print(text, flush=True)


def recreate_database():
    with psycopg.connect(f"{PG}/postgres", autocommit=True) as conn:
        conn.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
            [DB],
        )
        conn.execute(f'DROP DATABASE IF EXISTS "{DB}"')
        conn.execute(f'CREATE DATABASE "{DB}"')


def django_env():
    env = dict(os.environ)
    env.update(
        DATABASE_URL=DATABASE_URL,
        DJANGO_SETTINGS_MODULE="opsconsole.settings",
        DJANGO_ALLOWED_HOSTS="127.0.0.1,localhost",
        OPSCONSOLE_KEY_RATE="100000/min",
        OPSCONSOLE_PLAIN_STATIC="1",
        DJANGO_SECRET_KEY="bench-secret-key-not-for-production-0123456789",  # noqa: S106
        OPSCONSOLE_INSECURE_HTTP="1",  # gunicorn on plain HTTP, no proxy in front
    )
    return env


def setup_tenant():
    """Migrate, then create what the worker posts against; return the raw key."""
    env = django_env()
    subprocess.run([PYTHON, "manage.py", "migrate", "-v", "0"], cwd=ROOT, env=env, check=True)
    script = """
from integrations.keys import create_key
from integrations.models import Integration, System
from opsconsole.models import Partner, Tenant
p = Partner.objects.create(slug="bench", name="Bench")
t = Tenant.objects.create(partner=p, slug="bench", name="Bench", scrub_fields=["iban"])
s = System.objects.create(tenant=t, slug="psa", kind="psa")
e = System.objects.create(tenant=t, slug="erp", kind="erp")
Integration.objects.create(tenant=t, slug="time-expense-posting", name="T&E", source=s, target=e)
Integration.objects.create(tenant=t, slug="billing-money", name="T&E with amounts", source=s, target=e)
print(create_key(name="bench", tenant=t)[1])
"""
    out = subprocess.run(
        [PYTHON, "manage.py", "shell", "-c", script], cwd=ROOT, env=env, check=True, capture_output=True, text=True
    )
    return out.stdout.strip().splitlines()[-1]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_gunicorn(port, workers, threads):
    proc = subprocess.Popen(
        [
            str(BIN / "gunicorn"),
            "opsconsole.wsgi:application",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            str(workers),
            "--threads",
            str(threads),
            "--timeout",
            "120",
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=django_env(),
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/healthz")
            if conn.getresponse().status == 200:
                return proc
        except OSError:
            time.sleep(0.2)
    proc.kill()
    raise SystemExit("gunicorn did not start")


def worker_pids(master):
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        if ppid == master:
            pids.append(int(entry.name))
    return pids


def cpu_seconds(pid):
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def peak_rss_kib(pid):
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return 0


def amount_of(i, j):
    """A deterministic amount with up to two decimals, 0 to 4,999.99."""
    return ((i * 37 + j * 11) % 500_000) / 100


def make_runs(n, seed=7, amounts=False, integration="time-expense-posting"):
    """``n`` run documents, 3 failures and 5 log lines each; failures spread
    over about 200 exceptions (error codes and message shapes); with
    ``amounts``, every failure carries one (the same documents otherwise)."""
    rnd = random.Random(seed)
    start = dt.datetime(2026, 11, 1, tzinfo=dt.UTC)
    runs = []
    for i in range(n):
        began = start + dt.timedelta(seconds=30 * i)
        ended = began + dt.timedelta(seconds=45)
        failures = []
        for j in range(3):
            entity = ENTITIES[rnd.randrange(len(ENTITIES))]
            item = {
                "entity": entity,
                "record_id": f"{entity[:2].upper()}-{i * 3 + j}",
                "operation": "create",
                "error_class": CLASSES[rnd.randrange(len(CLASSES))],
                "message": f"Project P-{rnd.randrange(1000)} is closed in the ERP (line {rnd.randrange(50)})",
                "occurred_at": (began + dt.timedelta(seconds=10 + j)).isoformat().replace("+00:00", "Z"),
                "payload": {"employee": f"E-{rnd.randrange(500)}", "hours": 7.5, "iban": "DE001234"},
                "response": {"status": 400, "body": '{"code":"ERP-4001","token":"x"}'},
            }
            if rnd.random() < 0.7:
                item["error_code"] = f"ERP-{4000 + rnd.randrange(40)}"
            if amounts:
                item["amount"] = amount_of(i, j)
            failures.append(item)
        runs.append(
            {
                "integration": integration,
                "run_id": f"bench-{i}",
                "status": "partial",
                "started_at": began.isoformat().replace("+00:00", "Z"),
                "finished_at": ended.isoformat().replace("+00:00", "Z"),
                "records": {"processed": 120, "succeeded": 117, "failed": 3},
                "lag_seconds": rnd.randrange(3600),
                "worker": {"name": "te-poster", "version": "3.4.1", "host": "w-07"},
                "logs": [
                    {
                        "at": (began + dt.timedelta(seconds=k)).isoformat().replace("+00:00", "Z"),
                        "level": "info",
                        "message": f"step {k}: fetched {rnd.randrange(500)} entries",
                        "context": {"page": k},
                    }
                    for k in range(5)
                ],
                "failures": failures,
            }
        )
    return runs


def post_batches(port, key, bodies, clients):
    work = queue.Queue()
    for body in bodies:
        work.put(body)
    accepted = []
    errors = []
    lock = threading.Lock()

    def client():
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        headers = {"Content-Type": "application/json", "Authorization": f"Bearer {key}"}
        while True:
            try:
                body = work.get_nowait()
            except queue.Empty:
                return
            conn.request("POST", "/api/v1/runs/batch", body=body, headers=headers)
            response = conn.getresponse()
            data = response.read()
            with lock:
                if response.status != 200:
                    errors.append((response.status, data[:500]))
                else:
                    accepted.append(json.loads(data)["accepted"])

    threads = [threading.Thread(target=client) for _ in range(clients)]
    began = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return time.perf_counter() - began, sum(accepted), errors


COPY_SCHEMA = """
DROP SCHEMA IF EXISTS copybench CASCADE;
CREATE SCHEMA copybench;
CREATE TABLE copybench.run (
    id bigint PRIMARY KEY, tenant_id bigint NOT NULL, integration_id bigint NOT NULL, run_id varchar(200) NOT NULL,
    status varchar(16) NOT NULL, trigger varchar(16) NOT NULL, started_at timestamptz NOT NULL,
    finished_at timestamptz, processed bigint NOT NULL, succeeded bigint NOT NULL, failed bigint NOT NULL,
    skipped bigint NOT NULL, lag_seconds bigint, worker jsonb, received_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL, UNIQUE (integration_id, run_id));
CREATE INDEX ON copybench.run (integration_id, started_at DESC);
CREATE INDEX ON copybench.run (tenant_id, started_at DESC);
CREATE TABLE copybench.failure (
    id bigserial PRIMARY KEY, run_id bigint NOT NULL REFERENCES copybench.run (id), tenant_id bigint NOT NULL,
    integration_id bigint NOT NULL, exception_id bigint NOT NULL, entity varchar(200) NOT NULL,
    record_id varchar(200) NOT NULL, operation varchar(200) NOT NULL, error_code varchar(200) NOT NULL,
    error_class varchar(200) NOT NULL, message text NOT NULL, fingerprint varchar(200) NOT NULL,
    occurred_at timestamptz NOT NULL, payload jsonb, response jsonb, state varchar(20) NOT NULL,
    received_at timestamptz NOT NULL, UNIQUE (run_id, entity, record_id));
CREATE INDEX ON copybench.failure (exception_id, occurred_at DESC);
CREATE INDEX ON copybench.failure (integration_id, entity, record_id);
CREATE INDEX ON copybench.failure (tenant_id, record_id);
CREATE TABLE copybench.runlog (
    id bigserial PRIMARY KEY, run_id bigint NOT NULL REFERENCES copybench.run (id), at timestamptz NOT NULL,
    level varchar(8) NOT NULL, message text NOT NULL, context jsonb, digest varchar(32) NOT NULL,
    UNIQUE (run_id, digest));
"""


class CopyReference:
    """PostgreSQL's COPY of the same rows, from one process, into tables with
    the keys and indexes an ingest path needs; ``copy(runs, first)`` copies
    runs numbered from ``first`` and adds to the time taken."""

    def __init__(self):
        self.conn = psycopg.connect(DATABASE_URL)
        self.conn.execute(COPY_SCHEMA)
        self.conn.commit()
        self.seconds = 0.0
        self.runs = 0
        self.rates = []

    def copy(self, runs, first):
        now = dt.datetime.now(dt.UTC)
        began = time.perf_counter()
        with self.conn.cursor() as cur:
            with cur.copy(
                "COPY copybench.run (id, tenant_id, integration_id, run_id, status, trigger, started_at,"
                " finished_at, processed, succeeded, failed, skipped, lag_seconds, worker, received_at, updated_at)"
                " FROM STDIN"
            ) as copy:
                for i, r in enumerate(runs, first):
                    c = r["records"]
                    copy.write_row(
                        (
                            i,
                            1,
                            1,
                            r["run_id"],
                            r["status"],
                            "schedule",
                            r["started_at"],
                            r["finished_at"],
                            c["processed"],
                            c["succeeded"],
                            c["failed"],
                            0,
                            r["lag_seconds"],
                            json.dumps(r["worker"]),
                            now,
                            now,
                        )
                    )
            with cur.copy(
                "COPY copybench.failure (run_id, tenant_id, integration_id, exception_id, entity, record_id,"
                " operation, error_code, error_class, message, fingerprint, occurred_at, payload, response, state,"
                " received_at) FROM STDIN"
            ) as copy:
                for i, r in enumerate(runs, first):
                    for f in r["failures"]:
                        copy.write_row(
                            (
                                i,
                                1,
                                1,
                                1,
                                f["entity"],
                                f["record_id"],
                                f["operation"],
                                f.get("error_code", ""),
                                f["error_class"],
                                f["message"],
                                "",
                                f["occurred_at"],
                                json.dumps(f["payload"]),
                                json.dumps(f["response"]),
                                "failed",
                                now,
                            )
                        )
            with cur.copy("COPY copybench.runlog (run_id, at, level, message, context, digest) FROM STDIN") as copy:
                for i, r in enumerate(runs, first):
                    for entry in r["logs"]:
                        digest = hashlib.md5(  # noqa: S324
                            f"{entry['at']}|{entry['level']}|{entry['message']}".encode(), usedforsecurity=False
                        ).hexdigest()
                        copy.write_row(
                            (i, entry["at"], entry["level"], entry["message"], json.dumps(entry["context"]), digest)
                        )
        # The commit is not timed: in a share this small its flush of the
        # log would weigh more than in one COPY of everything.
        elapsed = time.perf_counter() - began
        self.conn.commit()
        self.seconds += elapsed
        self.runs += len(runs)
        self.rates.append(len(runs) / elapsed)

    def rate(self):
        return self.runs / self.seconds

    def close(self):
        self.conn.execute("DROP SCHEMA copybench CASCADE")
        self.conn.commit()
        self.conn.close()


def machine_ticks():
    """(busy, idle, steal) clock ticks of the whole machine so far."""
    fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    user, nice, system, idle, iowait, irq, softirq, steal = fields[:8]
    return user + nice + system + irq + softirq, idle + iowait, steal


def backend_cpu(conn):
    """{pid: CPU seconds} of the PostgreSQL backends serving the benchmark's
    database (the web workers keep their connections, CONN_MAX_AGE)."""
    rows = conn.execute(
        "SELECT pid FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()", [DB]
    ).fetchall()
    found = {}
    for (pid,) in rows:
        try:
            found[pid] = cpu_seconds(pid)
        except OSError:
            pass
    return found


def post_compared(port, key, plain, money, clients, rounds, workers, runs, reference):
    """Post the two lists of bodies alternately in ``rounds`` rounds (which
    kind goes first alternates too), and after each round COPY that round's
    share of ``runs`` (the documents of ``plain``) into ``reference``; return
    [seconds, accepted, errors, web workers' CPU seconds, PostgreSQL
    backends' CPU seconds] per kind. CPU time is the steadier figure on a
    shared machine: other load stretches wall time, not the work done."""
    totals = {"plain": [0.0, 0, [], 0.0, 0.0], "money": [0.0, 0, [], 0.0, 0.0], "machine": [0, 0, 0]}
    with psycopg.connect(DATABASE_URL, autocommit=True) as conn:
        for r in range(rounds):
            order = ("plain", "money") if r % 2 == 0 else ("money", "plain")
            for kind in order:
                bodies = plain if kind == "plain" else money
                part = bodies[r * len(bodies) // rounds : (r + 1) * len(bodies) // rounds]
                cpu_before = sum(cpu_seconds(pid) for pid in workers)
                db_before = backend_cpu(conn)
                ticks_before = machine_ticks()
                elapsed, accepted, errors = post_batches(port, key, part, clients)
                ticks = [after - before for after, before in zip(machine_ticks(), ticks_before, strict=True)]
                db_after = backend_cpu(conn)
                totals["machine"] = [t + d for t, d in zip(totals["machine"], ticks, strict=True)]
                totals[kind][0] += elapsed
                totals[kind][1] += accepted
                totals[kind][2] += errors
                totals[kind][3] += sum(cpu_seconds(pid) for pid in workers) - cpu_before
                totals[kind][4] += sum(cpu - db_before.get(pid, 0.0) for pid, cpu in db_after.items())
            first = r * len(runs) // rounds
            reference.copy(runs[first : (r + 1) * len(runs) // rounds], first + 1)
    return totals


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=40_000)
    parser.add_argument("--batch", type=int, default=500)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=4)
    args = parser.parse_args()

    log(f"database {DB}: recreating and migrating")
    recreate_database()
    key = setup_tenant()
    runs = make_runs(args.runs)
    money_runs = make_runs(args.runs, amounts=True, integration="billing-money")

    def batches(docs):
        return [json.dumps({"runs": docs[i : i + args.batch]}).encode() for i in range(0, len(docs), args.batch)]

    bodies, money_bodies = batches(runs), batches(money_runs)
    log(
        f"{len(runs)} runs without amounts and {len(money_runs)} with an amount on every failure,"
        f" in batches of {args.batch}, {args.clients} client threads, {args.rounds} alternating rounds"
        f" ({len(bodies) / args.rounds / args.clients:.1f} batches per client in each round)"
    )
    load_before = os.getloadavg()

    port = free_port()
    server = start_gunicorn(port, args.workers, args.threads)
    try:
        workers = workers_or(worker_pids(server.pid), server.pid)
        cpu_before = sum(cpu_seconds(pid) for pid in workers)
        reference = CopyReference()
        totals = post_compared(port, key, bodies, money_bodies, args.clients, args.rounds, workers, runs, reference)
        reference.close()
        cpu = sum(cpu_seconds(pid) for pid in workers) - cpu_before
        rss = max((peak_rss_kib(pid) for pid in workers), default=0)
    finally:
        server.terminate()
        server.wait(timeout=30)
    load_after = os.getloadavg()

    with psycopg.connect(DATABASE_URL) as conn:
        stored = conn.execute("SELECT COUNT(*) FROM integrations_run").fetchone()[0]
        failures = conn.execute("SELECT COUNT(*) FROM integrations_failure").fetchone()[0]
        logs = conn.execute("SELECT COUNT(*) FROM integrations_runlog").fetchone()[0]
        exceptions, occurrences = conn.execute(
            "SELECT COUNT(*), COALESCE(SUM(occurrences), 0) FROM integrations_syncexception"
        ).fetchone()
        open_money = conn.execute("SELECT COALESCE(SUM(open_amount), 0) FROM integrations_syncexception").fetchone()[0]
    sent_money = sum(Decimal(str(amount_of(i, j))) for i in range(args.runs) for j in range(3))

    elapsed, accepted, errors, plain_cpu, plain_db = totals["plain"]
    money_elapsed, money_accepted, money_errors, money_cpu, money_db = totals["money"]
    ingest_rate = accepted / elapsed
    money_rate = money_accepted / money_elapsed
    log(f"ingest without amounts: {accepted} runs accepted in {elapsed:.2f} s = {ingest_rate:,.0f} runs/s")
    log(f"ingest with amounts:    {money_accepted} runs accepted in {money_elapsed:.2f} s = {money_rate:,.0f} runs/s")
    log(f"ratio with / without amounts: {100 * money_rate / ingest_rate:.1f}% (target: at least 95%)")
    plain_us, money_us = 1e6 * plain_cpu / max(accepted, 1), 1e6 * money_cpu / max(money_accepted, 1)
    plain_db_us, money_db_us = 1e6 * plain_db / max(accepted, 1), 1e6 * money_db / max(money_accepted, 1)
    log(f"web workers' CPU per run: without amounts {plain_us:.0f} us, with {money_us:.0f} us")
    log(f"PostgreSQL backends' CPU per run: without amounts {plain_db_us:.0f} us, with {money_db_us:.0f} us")
    busy, idle, steal = (100 * t / max(sum(totals["machine"]), 1) for t in totals["machine"])
    log(f"machine while ingesting: {busy:.0f}% busy, {idle:.0f}% idle, {steal:.0f}% taken by the hypervisor (steal)")
    log(
        f"ratio of CPU per run, without / with amounts (web + database): "
        f"{100 * (plain_us + plain_db_us) / max(money_us + money_db_us, 1e-9):.1f}% (target: at least 95%)"
    )
    log(
        f"stored: {stored} runs, {failures} failures, {logs} log lines, {exceptions} exceptions "
        f"({occurrences} occurrences counted); open amounts {open_money:,} (sent {sent_money:,})"
    )
    total = accepted + money_accepted
    log(f"gunicorn worker peak RSS: {rss / 1024:.1f} MiB; worker CPU {1e6 * cpu / max(total, 1):.0f} us per run")
    log(
        "load average (1, 5, 15 min): before {:.2f} {:.2f} {:.2f}, after {:.2f} {:.2f} {:.2f}".format(
            *load_before, *load_after
        )
    )
    copy = reference.rate()
    log(
        f"PostgreSQL COPY of the same rows, a share after each round: {copy:,.0f} runs/s"
        f" (rounds: {min(reference.rates):,.0f} to {max(reference.rates):,.0f})"
    )
    log(f"ratio ingest (without amounts) / COPY: {100 * ingest_rate / copy:.1f}%")

    ok = True
    errors = errors + money_errors
    if errors:
        log(f"{len(errors)} batches failed, first: {errors[0]}")
        ok = False
    if stored != 2 * len(runs) or total != 2 * len(runs):
        log(f"LOST RUNS: sent {2 * len(runs)}, accepted {total}, stored {stored}")
        ok = False
    if failures != 6 * len(runs) or occurrences != failures or logs != 10 * len(runs):
        log("COUNTS DO NOT MATCH what was sent")
        ok = False
    if open_money != sent_money:
        log("OPEN AMOUNTS DO NOT MATCH what was sent")
        ok = False
    sys.exit(0 if ok else 1)


def workers_or(workers, master):
    return workers or [master]


if __name__ == "__main__":
    main()
