"""A key's request rate is one limit however many web processes answer
(contract 8): the count lives in the database by default, in Redis when
REDIS_URL is set, never in each process's memory; and it is counted in one
atomic step, so a burst arriving at two processes at once passes exactly the
rate."""

import os
import sqlite3
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from tests import factories as f
from tests import live_web
from tests.integrations.live_database import Database
from tests.live_web import ROOT, gunicorn

RATE = 6


def statuses_across_two_processes(env, key, tmp_path):
    """Status codes of 2 × RATE requests sent alternately to two gunicorns."""
    log = tmp_path / "web.log"
    with gunicorn(env, log) as first, gunicorn(env, log) as second:
        headers = {"Authorization": f"Bearer {key}"}
        return [
            requests.get(f"{(first, second)[n % 2]}/api/v1/integrations", headers=headers, timeout=30).status_code
            for n in range(2 * RATE)
        ]


def live_env(database, **extra):
    return live_web.live_env(OPSCONSOLE_KEY_RATE=f"{RATE}/min", **database.env(), **extra)


@pytest.mark.django_db(transaction=True)
def test_two_web_processes_share_one_limit_in_the_database(contoso, tmp_path):
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


BURST_RATE = 10
BURST = 48


def burst_across_two_processes(env, key, tmp_path):
    """Status codes of BURST requests sent at once, 16 at a time, to two
    gunicorns of four threads each: many requests of one key are counted at
    the same moment in different processes."""
    log = tmp_path / "web.log"
    env = {**env, "OPSCONSOLE_KEY_RATE": f"{BURST_RATE}/min"}
    with gunicorn(env, log, threads=4) as first, gunicorn(env, log, threads=4) as second:
        headers = {"Authorization": f"Bearer {key}"}

        def get(n):
            url = f"{(first, second)[n % 2]}/api/v1/integrations"
            return requests.get(url, headers=headers, timeout=60)

        with ThreadPoolExecutor(16) as pool:
            return list(pool.map(get, range(BURST)))


def assert_exactly_the_rate_passed(responses):
    codes = sorted(r.status_code for r in responses)
    assert codes == [200] * BURST_RATE + [429] * (BURST - BURST_RATE), codes
    assert all(1 <= int(r.headers["Retry-After"]) <= 60 for r in responses if r.status_code == 429)


@pytest.mark.django_db(transaction=True)
def test_a_simultaneous_burst_on_two_processes_passes_exactly_the_rate_in_the_database(contoso, tmp_path):
    key = f.make_key(contoso, ["read"])
    database = Database(tmp_path)
    assert_exactly_the_rate_passed(burst_across_two_processes(live_env(database), key, tmp_path))


@pytest.mark.django_db(transaction=True)
def test_a_simultaneous_burst_on_two_processes_passes_exactly_the_rate_in_redis(contoso, tmp_path):
    key = f.make_key(contoso, ["read"])
    env = live_env(Database(tmp_path), REDIS_URL="redis://127.0.0.1:6379/9")
    assert_exactly_the_rate_passed(burst_across_two_processes(env, key, tmp_path))


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
