"""A real gunicorn serving the test database, for tests where several web
processes must share something (a rate limit, a SQLite file)."""

import os
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[1]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def live_env(database_url=None, **extra):
    """The environment of a live web process: production settings on the
    database at ``database_url`` (when given), no Redis unless ``extra``
    says so, a rate limit no test reaches by accident."""
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "opsconsole.settings",
        "REDIS_URL": "",
        "OPSCONSOLE_KEY_RATE": "100000/min",
    }
    if database_url is not None:
        env["DATABASE_URL"] = database_url
    return {**env, **extra}


@contextmanager
def gunicorn(env, log_path, workers=1, threads=1):
    """Yield the base URL of a gunicorn started with ``env``; stop it after."""
    port = free_port()
    args = ["--bind", f"127.0.0.1:{port}", "--workers", str(workers), "--threads", str(threads)]
    with open(log_path, "a") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "opsconsole.wsgi:application", *args],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            _wait_until_up(f"http://127.0.0.1:{port}", process, log_path)
            yield f"http://127.0.0.1:{port}"
        finally:
            process.terminate()
            process.wait(timeout=20)


def _wait_until_up(url, process, log_path):
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"gunicorn exited: {Path(log_path).read_text()[-2000:]}")
        try:
            requests.get(f"{url}/healthz", timeout=10)
            return
        except (requests.ConnectionError, requests.Timeout):
            time.sleep(0.2)
    raise AssertionError(f"gunicorn did not start: {Path(log_path).read_text()[-2000:]}")
