"""SQLite named by DATABASE_URL gets the same WAL mode, IMMEDIATE
transactions and busy timeout as the embedded default, so concurrent staff
actions never answer 500 "database is locked"."""

import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from django.db import connection

from opsconsole.roles import Role
from tests import factories as f
from tests.integrations.live_database import Database
from tests.live_web import ROOT, gunicorn

PROBE = (
    "from django.conf import settings as s; d = s.DATABASES['default']; "
    "print(d['OPTIONS']['transaction_mode'], d['OPTIONS']['timeout'], 'WAL' in d['OPTIONS']['init_command'])"
)


def test_a_sqlite_database_url_gets_wal_immediate_transactions_and_a_timeout(tmp_path):
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "opsconsole.settings", "DATABASE_URL": f"sqlite:///{tmp_path}/x"}
    command = [sys.executable, "manage.py", "shell", "-v", "0", "-c", PROBE]
    out = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert out.stdout.split() == ["IMMEDIATE", "20", "True"], out.stderr


@pytest.mark.django_db(transaction=True)
def test_concurrent_comment_assign_and_reopen_never_answer_500(northwind, integration, tmp_path):
    support = f.make_user(northwind, Role.SUPPORT, "ana@northwind.example")
    exceptions = [f.make_exception(integration) for _ in range(4)]
    token = f.make_token(support)
    database = Database(tmp_path)
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "opsconsole.settings", **database.env()}
    if connection.vendor == "sqlite":
        env["DATABASE_URL"] = f"sqlite:///{database.sqlite_file}"  # by URL, as the finding had it
        env.pop("OPSCONSOLE_SQLITE_PATH")
    actions = [
        ("comment", {"body": "looking"}),
        ("assign", {"assignee": "ana@northwind.example"}),
        ("reopen", {}),
        ("acknowledge", {}),
    ]
    with gunicorn(env, tmp_path / "web.log", workers=2, threads=4) as url:
        session = requests.Session()
        session.headers["Authorization"] = f"Bearer {token}"

        def act(n):
            name, body = actions[n % len(actions)]
            exc = exceptions[n % len(exceptions)]
            return session.post(f"{url}/api/v1/exceptions/{exc.pk}/{name}", json=body, timeout=60).status_code

        with ThreadPoolExecutor(max_workers=16) as pool:
            codes = list(pool.map(act, range(80)))
    assert all(code < 500 for code in codes), sorted(codes)
    assert sum(code in (200, 201) for code in codes) >= 40  # comments, assignments, first acknowledgements
