"""Run opsconsole as a small cluster on this machine (see docs/deploy.md):
N gunicorn web nodes and M queue workers (``manage.py qcluster``) sharing one
PostgreSQL and one Redis, with nginx in front when it is installed.

Started by ``scripts/cluster``; prints the URLs, writes the process ids to a
state file (bench/soak.py reads it to follow each process's memory), and
stops everything cleanly on Ctrl-C or SIGTERM."""

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PYTHON = str(ROOT / ".venv" / "bin" / "python")

NGINX_CONF = """\
worker_processes 1;
{user}
pid {prefix}/nginx.pid;
error_log {prefix}/error.log warn;
events {{ worker_connections 1024; }}
http {{
    access_log off;
    server_tokens off;
    client_body_temp_path {prefix}/body;
    proxy_temp_path {prefix}/proxy;
    fastcgi_temp_path {prefix}/fastcgi;
    uwsgi_temp_path {prefix}/uwsgi;
    scgi_temp_path {prefix}/scgi;
    # The console refuses bodies over 10 MiB itself (413 with a JSON body).
    client_max_body_size 11m;
    client_body_buffer_size 1m;
    upstream opsconsole {{
        least_conn;
{servers}
        keepalive 32;
    }}
    server {{
        listen 127.0.0.1:{port};
        location / {{
            proxy_pass http://opsconsole;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header Host $http_host;
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
            proxy_set_header X-Forwarded-Proto $scheme;
            proxy_read_timeout 120s;
            # A node that is down or restarting: try the next one (idempotent requests only).
            proxy_next_upstream error timeout http_502 http_503;
        }}
    }}
}}
"""


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--web", type=int, default=int(os.environ.get("CLUSTER_WEB", "2")), help="gunicorn nodes")
    parser.add_argument(
        "--queue", type=int, default=int(os.environ.get("CLUSTER_QUEUE", "2")), help="qcluster processes"
    )
    parser.add_argument(
        "--port",
        type=int,
        default=int(os.environ.get("CLUSTER_PORT", "8400")),
        help="the proxy's port; the web nodes take the next ones (default 8400: nodes 8401, 8402)",
    )
    parser.add_argument("--web-workers", type=int, default=int(os.environ.get("CLUSTER_WEB_WORKERS", "2")))
    parser.add_argument("--web-threads", type=int, default=int(os.environ.get("CLUSTER_WEB_THREADS", "4")))
    parser.add_argument("--no-proxy", action="store_true", help="do not start nginx even when it is installed")
    parser.add_argument("--seed", action="store_true", help="add the demo data when the database has no partner")
    parser.add_argument(
        "--state",
        default=os.environ.get("CLUSTER_STATE", str(Path(tempfile.gettempdir()) / "opsconsole-cluster.json")),
        help="where the process ids and URLs are written",
    )
    return parser.parse_args()


def manage(*args):
    subprocess.run([PYTHON, "manage.py", *args], cwd=ROOT, check=True)


def start(command, log_path, env=None):
    # A session of its own: a Ctrl-C in the terminal reaches this script only,
    # which then stops each process in order.
    log = open(log_path, "a")  # noqa: SIM115 - kept open for the child's life
    return subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)


def wait_until_up(url, process, seconds=90):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            return False
        try:
            with urllib.request.urlopen(f"{url}/healthz", timeout=10):
                return True
        except urllib.error.HTTPError:
            return True  # it answers (a 503 names what is missing)
        except OSError:
            time.sleep(0.3)
    return False


def main():
    args = parse_args()
    if not os.environ.get("REDIS_URL"):
        sys.exit("REDIS_URL is not set: the cluster shares its cache and queue through Redis (docs/deploy.md).")
    if not os.environ.get("DATABASE_URL", "").startswith(("postgres://", "postgresql://")):
        sys.exit("DATABASE_URL must name a PostgreSQL database: several processes write to it (docs/deploy.md).")
    run_dir = Path(tempfile.mkdtemp(prefix="opsconsole-cluster-"))
    run_dir.chmod(0o755)

    manage("migrate", "--noinput", "-v0")
    manage("ensure_schedules")
    if args.seed:
        manage("seed_demo", "--if-empty")
        manage("refresh_due")

    processes = []  # (role, name, Popen, url or None)
    stopping = False

    def stop_all(signum=None, frame=None):
        nonlocal stopping
        if stopping:
            return
        stopping = True
        print("\nStopping the cluster ...", flush=True)
        # The proxy first (no new requests), then the web nodes (they finish
        # their requests), then the queue workers (they finish their tasks).
        for role in ("proxy", "web", "queue"):
            for r, _name, process, _url in processes:
                if r == role and process.poll() is None:
                    process.send_signal(signal.SIGQUIT if role == "proxy" else signal.SIGTERM)
            for r, name, process, _url in processes:
                if r != role:
                    continue
                try:
                    process.wait(timeout=60)
                except subprocess.TimeoutExpired:
                    print(f"  {name} did not stop within 60 s: killed", flush=True)
                    os.killpg(process.pid, signal.SIGKILL)
                    process.wait(timeout=10)
        Path(args.state).unlink(missing_ok=True)
        print("The cluster has stopped.", flush=True)

    signal.signal(signal.SIGINT, stop_all)
    signal.signal(signal.SIGTERM, stop_all)

    try:
        for n in range(args.queue):
            name = f"queue-{n + 1}"
            process = start([PYTHON, "manage.py", "qcluster"], run_dir / f"{name}.log")
            processes.append(("queue", name, process, None))
        nodes = []
        for n in range(args.web):
            name = f"web-{n + 1}"
            port = args.port + 1 + n
            url = f"http://127.0.0.1:{port}"
            command = [
                PYTHON, "-m", "gunicorn", "opsconsole.wsgi:application",
                "--bind", f"127.0.0.1:{port}",
                "--workers", str(args.web_workers),
                "--threads", str(args.web_threads),
                "--max-requests", "5000", "--max-requests-jitter", "500",
                "--graceful-timeout", "30",
                "--log-level", "warning",
            ]  # fmt: skip
            process = start(command, run_dir / f"{name}.log")
            processes.append(("web", name, process, url))
            nodes.append((name, process, url))
        for name, process, url in nodes:
            if not wait_until_up(url, process):
                print(f"{name} did not start; see {run_dir / (name + '.log')}", file=sys.stderr)
                stop_all()
                return 1

        proxy_url = None
        nginx = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None)
        if nginx and not args.no_proxy:
            prefix = run_dir / "nginx"
            for sub in ("body", "proxy", "fastcgi", "uwsgi", "scgi"):
                (prefix / sub).mkdir(parents=True, exist_ok=True)
            servers = "\n".join(
                f"        server {url[len('http://') :]} max_fails=2 fail_timeout=5s;" for *_, url in nodes
            )
            conf = prefix / "nginx.conf"
            conf.write_text(
                NGINX_CONF.format(
                    prefix=prefix,
                    port=args.port,
                    servers=servers,
                    user="user root;" if os.geteuid() == 0 else "",
                )
            )
            process = start([nginx, "-p", str(prefix), "-c", str(conf), "-g", "daemon off;"], run_dir / "proxy.log")
            proxy_url = f"http://127.0.0.1:{args.port}"
            processes.append(("proxy", "proxy", process, proxy_url))
            if not wait_until_up(proxy_url, process, 30):
                print(f"nginx did not start; see {run_dir / 'proxy.log'}", file=sys.stderr)
                stop_all()
                return 1

        state = {
            "url": proxy_url or nodes[0][2],
            "proxy": proxy_url,
            "nodes": [url for *_, url in nodes],
            "processes": [{"role": r, "name": n, "pid": p.pid} for r, n, p, _ in processes],
            "logs": str(run_dir),
        }
        Path(args.state).write_text(json.dumps(state, indent=2))
        print()
        if proxy_url:
            print(f"  The console is running at {proxy_url}/ (nginx in front of {len(nodes)} web nodes)")
        else:
            print("  No proxy (nginx is not installed): spread requests over the web nodes yourself.")
        for name, process, url in nodes:
            print(f"    {name}: {url}/  (gunicorn pid {process.pid})")
        for r, name, process, _ in processes:
            if r == "queue":
                print(f"    {name}: qcluster pid {process.pid} on {os.environ['REDIS_URL']}")
        print(f"  Health: {state['url']}/healthz   Metrics: {state['url']}/metrics")
        print(f"  Logs: {run_dir}   State: {args.state}")
        print("  Soak test: .venv/bin/python bench/soak.py --state " + args.state)
        print("  Ctrl-C stops the cluster.\n", flush=True)

        while not stopping:
            for r, name, process, _ in processes:
                if process.poll() is not None and not stopping:
                    print(f"  {name} ({r}) exited with status {process.returncode}; see {run_dir}", flush=True)
                    stop_all()
                    return 1
            time.sleep(1)
    except BaseException:
        stop_all()
        raise
    return 0


if __name__ == "__main__":
    sys.exit(main())
