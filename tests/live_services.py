"""Private PostgreSQL and Redis servers for fault tests: each test may stop,
restart or break its own instance without touching the shared servers on
5432 and 6379. Ports come from OPSCONSOLE_TEST_PG_PORTS and
OPSCONSOLE_TEST_REDIS_PORTS (ranges such as ``5440-5449``); the first free
one of this pytest-xdist worker's share is taken. Each worker has its own
ports (every n-th of the range): a test that stops its server frees the
port, and another worker's test must not take it before the server comes
back."""

import glob
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path


def _port_range(variable, default):
    low, high = os.environ.get(variable, default).split("-")
    worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw")
    count = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1"))
    return range(int(low) + (int(worker) if worker.isdigit() else 0), int(high) + 1, count)


def free_port_in(variable, default):
    for port in _port_range(variable, default):
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError(f"no free port in {os.environ.get(variable, default)} ({variable})")


def wait_for(predicate, seconds, step=0.1):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(step)
    return False


class PrivateRedis:
    """A redis-server that keeps nothing on disk, started and stopped at will."""

    def __init__(self, workdir):
        self.port = free_port_in("OPSCONSOLE_TEST_REDIS_PORTS", "6390-6399")
        self.workdir = Path(workdir)
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.process = None
        self.url = f"redis://127.0.0.1:{self.port}/0"

    def start(self):
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
            cwd=self.workdir,
            stdout=open(self.workdir / "redis.log", "a"),
            stderr=subprocess.STDOUT,
        )
        if not wait_for(self.answers, 20):
            raise RuntimeError(f"redis-server did not start on {self.port}")
        return self

    def answers(self):
        import redis

        client = redis.Redis(port=self.port, socket_connect_timeout=1, socket_timeout=1)
        try:
            return client.ping()
        except redis.RedisError:
            return False
        finally:
            client.close()

    def client(self):
        import redis

        return redis.Redis(port=self.port, socket_connect_timeout=2, socket_timeout=5)

    def stop(self):
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        self.process = None


def postgres_bin():
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"))
    if found:
        return Path(found[-1]).parent
    pg_ctl = shutil.which("pg_ctl")
    if pg_ctl:
        return Path(pg_ctl).parent
    raise RuntimeError("pg_ctl not found (install postgresql)")


class PrivatePostgres:
    """A PostgreSQL cluster of its own (initdb in ``workdir``), trusting
    loopback, which a test may stop, restart or make read-only. As root, the
    server runs as the postgres user (PostgreSQL refuses root). ``data``
    places the data directory elsewhere (on a small disk of the test's own);
    the server's log stays in ``workdir``."""

    def __init__(self, data=None):
        self.port = free_port_in("OPSCONSOLE_TEST_PG_PORTS", "5440-5449")
        self.bin = postgres_bin()
        # Not under pytest's tmp_path: that is private to root, and the server
        # runs as postgres. The temporary directory itself is traversable.
        self.workdir = Path(tempfile.mkdtemp(prefix="opsconsole-pg-"))
        self.workdir.chmod(0o755)
        self.data = Path(data) if data else self.workdir / "data"
        self.log = self.workdir / "postgres.log"
        self.as_postgres = os.geteuid() == 0
        self.url_base = f"postgres://postgres@127.0.0.1:{self.port}"

    def _run(self, *args, check=True, timeout=120):
        command = [str(a) for a in args]
        if self.as_postgres:
            command = ["runuser", "-u", "postgres", "--", *command]
        return subprocess.run(command, check=check, timeout=timeout, capture_output=True, text=True)

    def init(self):
        if self.as_postgres:
            shutil.chown(self.workdir, "postgres")
            if self.data.exists():
                shutil.chown(self.data, "postgres")
        self._run(self.bin / "initdb", "-D", self.data, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync")
        with open(self.data / "postgresql.conf", "a") as conf:
            conf.write(
                f"\nport = {self.port}\nlisten_addresses = '127.0.0.1'\nunix_socket_directories = ''\n"
                "fsync = off\nsynchronous_commit = off\nfull_page_writes = off\nmax_connections = 60\n"
            )
        return self.start()

    def start(self):
        self._run(self.bin / "pg_ctl", "-D", self.data, "-l", self.log, "-w", "-t", "60", "start")
        return self

    def stop(self, mode="fast"):
        self._run(self.bin / "pg_ctl", "-D", self.data, "-m", mode, "-w", "-t", "60", "stop", check=False)

    def destroy(self):
        self.stop(mode="immediate")
        shutil.rmtree(self.workdir, ignore_errors=True)

    def url(self, database):
        return f"{self.url_base}/{database}"

    def psql(self, database, sql):
        return self._run(
            self.bin / "psql",
            "-h",
            "127.0.0.1",
            "-p",
            self.port,
            "-U",
            "postgres",
            "-d",
            database,
            "-v",
            "ON_ERROR_STOP=1",
            "-Atc",
            sql,
        ).stdout.strip()

    def copy_database(self, source_url, database):
        """A copy of ``source_url`` (schema and rows) as ``database`` here."""
        self.psql("postgres", f'CREATE DATABASE "{database}"')
        dump = subprocess.run(
            [str(self.bin / "pg_dump"), "--no-owner", "--no-privileges", source_url],
            check=True,
            capture_output=True,
            timeout=300,
        ).stdout
        restore = [
            "psql",
            "-h",
            "127.0.0.1",
            "-p",
            str(self.port),
            "-U",
            "postgres",
            "-d",
            database,
            "-q",
            "-v",
            "ON_ERROR_STOP=1",
        ]
        subprocess.run(
            [str(self.bin / restore[0]), *restore[1:]], input=dump, check=True, capture_output=True, timeout=300
        )
