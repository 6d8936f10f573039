"""A key's request rate is one limit however many web processes answer
(contract 8): the count lives in the shared cache (the database by default,
Redis when REDIS_URL is set), not in each process's memory."""

import os
import socket
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from tests import factories as f
from tests.integrations.live_database import Database

ROOT = Path(__file__).resolve().parents[2]
RATE = 6


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_web(env, log):
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "opsconsole.wsgi:application", "--bind", f"127.0.0.1:{port}", "-w", "1"],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            requests.get(f"http://127.0.0.1:{port}/healthz", timeout=10)
            return process, f"http://127.0.0.1:{port}"
        except (requests.ConnectionError, requests.Timeout):
            time.sleep(0.2)
    process.kill()
    raise AssertionError(f"the web process did not start: {log.name}")


def statuses_across_two_processes(env, key, tmp_path):
    """Status codes of 2 × RATE requests sent alternately to two gunicorns."""
    with open(tmp_path / "web.log", "w") as log:
        webs = [start_web(env, log), start_web(env, log)]
        try:
            headers = {"Authorization": f"Bearer {key}"}
            return [
                requests.get(f"{webs[n % 2][1]}/api/v1/integrations", headers=headers, timeout=10).status_code
                for n in range(2 * RATE)
            ]
        finally:
            for process, _ in webs:
                process.terminate()
                process.wait(timeout=10)


def live_env(database, **extra):
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "opsconsole.settings",
        "OPSCONSOLE_KEY_RATE": f"{RATE}/min",
        "REDIS_URL": "",
        **database.env(),
        **extra,
    }


@pytest.mark.django_db(transaction=True)
def test_two_web_processes_share_one_limit_in_the_database_cache(contoso, tmp_path):
    key = f.make_key(contoso, ["read"])
    codes = statuses_across_two_processes(live_env(Database(tmp_path)), key, tmp_path)
    assert codes[:RATE] == [200] * RATE
    assert codes[RATE:] == [429] * RATE


@pytest.mark.django_db(transaction=True)
def test_two_web_processes_share_one_limit_in_redis(contoso, tmp_path):
    key = f.make_key(contoso, ["read"])
    env = live_env(Database(tmp_path), REDIS_URL="redis://127.0.0.1:6379/9")
    codes = statuses_across_two_processes(env, key, tmp_path)
    assert codes[:RATE] == [200] * RATE
    assert codes[RATE:] == [429] * RATE


def test_migrate_alone_creates_the_cache_table(tmp_path):
    path = tmp_path / "fresh.sqlite3"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "opsconsole.settings",
        "DATABASE_URL": f"sqlite:///{path}",
        "REDIS_URL": "",
    }
    subprocess.run([sys.executable, "manage.py", "migrate", "--noinput"], cwd=ROOT, env=env, check=True, timeout=300)
    tables = {row[0] for row in sqlite3.connect(path).execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert "opsconsole_cache" in tables
