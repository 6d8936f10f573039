"""Soak: the console as a cluster (scripts/cluster: 2 web nodes, 2 queue
workers, Redis, PostgreSQL, nginx) under steady ingest and people paging
through it, for 10 minutes by default. Not a test: it prints figures.

1. Measures ingest capacity briefly (batches of runs, flat out, from several
   threads), then ingests at half of it for the whole soak.
2. Meanwhile 20 simulated users (the demo's staff, signed in through the
   login page) page through the inbox, exception pages, SLA, trends, report
   and portfolio pages, with a short think time.
3. Every 15 s it samples the resident memory of every web and queue process
   of the cluster (from its state file) and the load average.
4. At the end: p50/p95/p99 and errors per endpoint, memory over time per
   process (flagging growth beyond 10 % from the first minute to the end), and
   runs stored (counted in PostgreSQL) against runs sent.

    scripts/cluster --seed &          # DATABASE_URL, REDIS_URL as for the cluster
    .venv/bin/python bench/soak.py [--minutes 10] [--users 20] [--state FILE]

DATABASE_URL must name the cluster's database (runs are counted there; an
ingest key for a demo tenant is created with manage.py create_api_key).
"""

import argparse
import json
import os
import random
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
import requests

ROOT = Path(__file__).resolve().parents[1]
STAFF = ["admin@northwind.example", "max@northwind.example", "ana@northwind.example", "tom@northwind.example"]
# The portfolio is for partner admins and managers (support gets 403 there).
PORTFOLIO_ROLES = {"admin@northwind.example", "max@northwind.example"}
PASSWORD = "demo"  # noqa: S105 - the demo users' published password (seed_demo)
BATCH = 50


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--minutes", type=float, default=10)
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--ingest-threads", type=int, default=4)
    parser.add_argument("--capacity-seconds", type=float, default=30)
    parser.add_argument("--sample-seconds", type=float, default=15)
    parser.add_argument("--state", default=str(Path(tempfile.gettempdir()) / "opsconsole-cluster.json"))
    parser.add_argument("--url", help="the console's URL (default: from the state file)")
    return parser.parse_args()


class Stats:
    def __init__(self):
        self.lock = threading.Lock()
        self.times = defaultdict(list)
        self.errors = defaultdict(list)

    def record(self, endpoint, seconds, error=None):
        with self.lock:
            self.times[endpoint].append(seconds)
            if error:
                self.errors[endpoint].append(error)


def percentile(values, p):
    values = sorted(values)
    if not values:
        return float("nan")
    k = (len(values) - 1) * p / 100
    lo, hi = int(k), min(int(k) + 1, len(values) - 1)
    return values[lo] + (values[hi] - values[lo]) * (k - lo)


# --- the cluster's processes and their memory -------------------------------


def children(pid):
    found = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            found += [int(c) for c in (task / "children").read_text().split()]
        except OSError:
            pass
    return found


def rss_kib(pid):
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        return None
    return None


def process_tree(state):
    """{label: [pids]} of every web and queue process: each Python process
    (gunicorn master and workers, qcluster and its sentinel, pusher, workers,
    monitor) on its own, and per node the other processes it started (the
    Chromium that draws report charts) together."""
    found = {}
    for proc in state["processes"]:
        if proc["role"] == "proxy":
            continue
        stack = [proc["pid"]]
        while stack:
            pid = stack.pop()
            try:
                cmd = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
            except OSError:
                continue
            if "python" in cmd.split(" ")[0]:
                kind = "master" if pid == proc["pid"] else "worker"
                found[f"{proc['name']} {kind} {pid}"] = [pid]
            else:
                found.setdefault(f"{proc['name']} chromium (all)", []).append(pid)
            stack += children(pid)
    return found


class MemorySampler(threading.Thread):
    def __init__(self, state, every, stop):
        super().__init__(daemon=True)
        self.state, self.every, self.stop = state, every, stop
        self.samples = []  # (elapsed seconds, loadavg, {label: kib})

    def run(self):
        start = time.monotonic()
        while True:
            tree = process_tree(self.state)
            rss = {label: sum(rss_kib(pid) or 0 for pid in pids) for label, pids in tree.items()}
            load = os.getloadavg()
            self.samples.append((time.monotonic() - start, load, {k: v for k, v in rss.items() if v}))
            if self.stop.wait(self.every):
                return


# --- ingest ------------------------------------------------------------------


def run_doc(prefix, n, integration):
    started = datetime.now(UTC) - timedelta(seconds=90)
    doc = {
        "integration": integration,
        "run_id": f"{prefix}-{n}",
        "status": "succeeded",
        "started_at": started.isoformat().replace("+00:00", "Z"),
        "finished_at": (started + timedelta(seconds=60)).isoformat().replace("+00:00", "Z"),
        "records": {"processed": 20, "succeeded": 20, "failed": 0},
    }
    if n % 5 == 0:
        doc["status"] = "partial"
        doc["records"] = {"processed": 20, "succeeded": 18, "failed": 2}
        doc["failures"] = [
            {
                "entity": "time_entry",
                "record_id": f"SOAK-{n}-{i}",
                "error_code": f"SOAK-{n % 7}",
                "error_class": "validation",
                "message": f"Project P-{n % 13} is closed in the ERP",
            }
            for i in range(2)
        ]
    return doc


class Ingest:
    def __init__(self, targets, keys, integration, stats):
        self.targets, self.keys, self.integration, self.stats = targets, keys, integration, stats
        self.prefix = f"soak-{datetime.now(UTC):%Y%m%d%H%M%S}-{uuid.uuid4().hex[:6]}"
        self.counter = 0
        self.lock = threading.Lock()
        self.sent = 0  # runs the console accepted
        self.rejected = 0

    def next_batch(self):
        with self.lock:
            first = self.counter
            self.counter += BATCH
        return {"runs": [run_doc(self.prefix, n, self.integration) for n in range(first, first + BATCH)]}

    def post(self, session, i, endpoint="ingest: POST /api/v1/runs/batch"):
        key = self.keys[i % len(self.keys)]
        url = self.targets[i % len(self.targets)]
        document = self.next_batch()
        while True:
            t0 = time.perf_counter()
            try:
                response = session.post(
                    f"{url}/api/v1/runs/batch",
                    json=document,
                    headers={"Authorization": f"Bearer {key}"},
                    timeout=120,
                )
            except requests.RequestException as exc:
                self.stats.record(endpoint, time.perf_counter() - t0, f"no answer: {type(exc).__name__}")
                time.sleep(1)
                continue
            elapsed = time.perf_counter() - t0
            if response.status_code in (429, 503):
                self.stats.record(endpoint, elapsed, str(response.status_code))
                time.sleep(float(response.headers.get("Retry-After", "1")))
                continue  # the same batch again: stored once however often it is sent
            if response.status_code != 200:
                self.stats.record(endpoint, elapsed, f"{response.status_code}: {response.text[:200]}")
                return 0
            body = response.json()
            self.stats.record(endpoint, elapsed)
            with self.lock:
                self.sent += body["accepted"]
                self.rejected += body["rejected"]
            return body["accepted"]


def measure_capacity(ingest, threads, seconds):
    stop = time.monotonic() + seconds
    counted = [0] * threads

    def worker(i):
        session = requests.Session()
        while time.monotonic() < stop:
            counted[i] += ingest.post(session, i, "ingest (capacity probe)")

    pool = [threading.Thread(target=worker, args=(i,)) for i in range(threads)]
    t0 = time.monotonic()
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    return sum(counted) / (time.monotonic() - t0)


def paced_ingest(ingest, threads, runs_per_second, stop):
    interval = threads * BATCH / runs_per_second  # each thread posts one batch per interval

    def worker(i):
        session = requests.Session()
        next_at = time.monotonic() + random.uniform(0, interval)
        while not stop.is_set():
            delay = next_at - time.monotonic()
            if delay > 0 and stop.wait(delay):
                return
            ingest.post(session, i)
            next_at += interval

    pool = [threading.Thread(target=worker, args=(i,), daemon=True) for i in range(threads)]
    for t in pool:
        t.start()
    return pool


# --- people ------------------------------------------------------------------


def sign_in(url, email):
    session = requests.Session()
    page = session.get(f"{url}/login/", timeout=60)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
    answer = session.post(
        f"{url}/login/",
        data={"username": email, "password": PASSWORD, "csrfmiddlewaretoken": token},
        headers={"Referer": f"{url}/login/"},
        timeout=60,
        allow_redirects=False,
    )
    if answer.status_code != 302:
        raise RuntimeError(f"sign-in of {email} failed: {answer.status_code}")
    return session


def person(url, email, tenants, exceptions, stats, stop, seed):
    rng = random.Random(seed)
    try:
        session = sign_in(url, email)
    except Exception as exc:  # noqa: BLE001 - reported with the figures
        stats.record("sign in", 0, str(exc))
        return
    month = (datetime.now(UTC).replace(day=1) - timedelta(days=1)).strftime("%Y-%m")

    def visit(endpoint, path):
        t0 = time.perf_counter()
        try:
            response = session.get(f"{url}{path}", timeout=120)
        except requests.RequestException as exc:
            stats.record(endpoint, time.perf_counter() - t0, type(exc).__name__)
            return
        error = None if response.status_code == 200 else str(response.status_code)
        stats.record(endpoint, time.perf_counter() - t0, error)

    while not stop.is_set():
        tenant = rng.choice(tenants)
        choice = rng.random()
        if choice < 0.30:
            visit("inbox", f"/inbox/?page={rng.randint(1, 3)}")
        elif choice < 0.50:
            visit("exception page", f"/exceptions/{rng.choice(exceptions)}/")
        elif choice < 0.62:
            visit("SLA page", f"/t/{tenant}/sla/")
        elif choice < 0.74:
            visit("trends page", f"/t/{tenant}/trends/")
        elif choice < 0.86:
            visit("report page", f"/reports/{tenant}/{month}/")
        elif email in PORTFOLIO_ROLES:
            visit("portfolio", "/governance/")
        else:
            visit("inbox", f"/inbox/?page={rng.randint(1, 3)}")
        stop.wait(rng.uniform(0.5, 2.0))  # think time


# --- setup and report --------------------------------------------------------


def make_keys(tenant, count):
    keys = []
    for n in range(count):
        out = subprocess.run(
            [
                sys.executable,
                "manage.py",
                "create_api_key",
                "--tenant",
                tenant,
                "--name",
                f"soak-{n}-{uuid.uuid4().hex[:6]}",
            ],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        )
        keys.append(out.stdout.strip().splitlines()[-1])
    return keys


def main():
    args = parse_args()
    state = json.loads(Path(args.state).read_text())
    # Through the proxy; without one, users and ingest threads spread over the nodes.
    targets = [args.url] if args.url else ([state["proxy"]] if state.get("proxy") else state["nodes"])
    # The cluster's defaults (scripts/cluster), for manage.py create_api_key too.
    os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/opsconsole")
    secret = ROOT / ".secret-key"
    if not os.environ.get("DJANGO_SECRET_KEY") and secret.exists():
        os.environ["DJANGO_SECRET_KEY"] = secret.read_text().strip()
    database_url = os.environ["DATABASE_URL"]
    with psycopg.connect(database_url) as db:
        tenants = [r[0] for r in db.execute("SELECT slug FROM opsconsole_tenant ORDER BY slug")]
        tenant, integration = db.execute(
            "SELECT t.slug, i.slug FROM integrations_integration i JOIN opsconsole_tenant t ON t.id = i.tenant_id "
            "ORDER BY t.slug, i.slug LIMIT 1"
        ).fetchone()
        exceptions = [r[0] for r in db.execute("SELECT id FROM integrations_syncexception ORDER BY id LIMIT 500")]
    if not exceptions:
        sys.exit("The database has no exceptions: start the cluster with --seed (demo data).")

    stats = Stats()
    ingest = Ingest(targets, make_keys(tenant, args.ingest_threads), integration, stats)
    print(
        f"Soak against {', '.join(targets)} ({len(state['nodes'])} web nodes, proxy: {bool(state.get('proxy'))}), "
        f"{args.minutes:g} minutes, {args.users} users; ingest into {tenant}/{integration}"
    )
    print(f"load average at start: {' '.join(f'{x:.2f}' for x in os.getloadavg())} (a shared 2-core machine)")

    capacity = measure_capacity(ingest, args.ingest_threads, args.capacity_seconds)
    target = capacity / 2
    print(
        f"ingest capacity: {capacity:.0f} runs/s (batches of {BATCH}, {args.ingest_threads} threads, "
        f"{args.capacity_seconds:g} s); soak ingest at {target:.0f} runs/s"
    )

    stop = threading.Event()
    sampler = MemorySampler(state, args.sample_seconds, stop)
    sampler.start()
    t0 = time.monotonic()
    sent_before = ingest.sent
    ingest_threads = paced_ingest(ingest, args.ingest_threads, target, stop)
    people = [
        threading.Thread(
            target=person,
            args=(targets[i % len(targets)], STAFF[i % len(STAFF)], tenants, exceptions, stats, stop, i),
            daemon=True,
        )
        for i in range(args.users)
    ]
    for p in people:
        p.start()
    deadline = t0 + args.minutes * 60
    while time.monotonic() < deadline:
        time.sleep(min(30, max(0.1, deadline - time.monotonic())))
        done = time.monotonic() - t0
        print(f"  {done / 60:4.1f} min: {ingest.sent} runs accepted, load {os.getloadavg()[0]:.2f}", flush=True)
    stop.set()
    for t in ingest_threads + people:
        t.join(timeout=180)
    elapsed = time.monotonic() - t0
    sampler.join(timeout=30)

    achieved = (ingest.sent - sent_before) / elapsed
    print(
        f"\ningest during the soak: {achieved:.0f} runs/s accepted (target {target:.0f}, half of {capacity:.0f})"
        + ("" if achieved >= 0.9 * target else "; below target: the pages and other work took the CPU")
    )
    report(args, stats, sampler, ingest, elapsed, database_url)


def report(args, stats, sampler, ingest, elapsed, database_url):
    print(f"\n== Latency per endpoint over {elapsed / 60:.1f} minutes (ms) ==")
    print(f"{'endpoint':38} {'count':>7} {'p50':>8} {'p95':>8} {'p99':>8} {'max':>8} {'errors':>7}")
    for endpoint in sorted(stats.times):
        ms = [t * 1000 for t in stats.times[endpoint]]
        print(
            f"{endpoint:38} {len(ms):7d} {percentile(ms, 50):8.0f} {percentile(ms, 95):8.0f} "
            f"{percentile(ms, 99):8.0f} {max(ms):8.0f} {len(stats.errors[endpoint]):7d}"
        )
    errors = {e: errs for e, errs in stats.errors.items() if errs}
    if errors:
        print("\n== Errors ==")
        for endpoint, errs in errors.items():
            kinds = defaultdict(int)
            for e in errs:
                kinds[e[:120]] += 1
            for kind, n in sorted(kinds.items(), key=lambda kv: -kv[1]):
                print(f"  {endpoint}: {n} × {kind}")
    else:
        print("\nNo errors.")

    print(f"\n== Resident memory (MiB) every {args.sample_seconds:g} s ==")
    samples = sampler.samples
    labels = sorted({label for _, _, rss in samples for label in rss})
    baseline_at = next((i for i, (t, _, _) in enumerate(samples) if t >= 60), 0)
    grew = []
    for label in labels:
        series = [(t, rss.get(label)) for t, _, rss in samples if rss.get(label)]
        if not series:
            continue
        first = next((v for t, v in series if t >= samples[baseline_at][0]), series[0][1])
        last = series[-1][1]
        growth = (last - first) / first * 100
        # Chromium processes (report charts) come and go: shown, not judged.
        judged = "chromium" not in label
        flag = "  << grew over 10 %" if growth > 10 and judged else ""
        if growth > 10 and judged:
            grew.append(label)
        points = " ".join(f"{v / 1024:.0f}" for _, v in series[:: max(1, len(series) // 10)])
        print(f"  {label:34} {points}  | {first / 1024:.0f} -> {last / 1024:.0f} ({growth:+.1f} %){flag}")
    loads = [load[0] for _, load, _ in samples]
    if loads:
        print(
            f"load average (1 min) during the soak: min {min(loads):.2f}, median {statistics.median(loads):.2f}, "
            f"max {max(loads):.2f} (a shared 2-core machine: other work ran too)"
        )
    print(
        "memory: "
        + (
            f"{len(grew)} processes grew over 10 % after the first minute"
            if grew
            else "no process grew over 10 % after the first minute"
        )
    )

    with psycopg.connect(database_url) as db:
        stored, distinct = db.execute(
            "SELECT count(*), count(DISTINCT (integration_id, run_id)) FROM integrations_run WHERE run_id LIKE %s",
            [f"{ingest.prefix}-%"],
        ).fetchone()
    sent = ingest.sent
    print(
        f"\n== Runs ==\nsent and accepted: {sent} (rejected: {ingest.rejected}); stored: {stored} "
        f"(distinct {distinct}) -> {'OK' if stored == sent == distinct else 'MISMATCH'}"
    )
    return 0 if stored == sent == distinct else 1


if __name__ == "__main__":
    sys.exit(main())
