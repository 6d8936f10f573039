"""The console as contract section 9 runs it: ``migrate``, then gunicorn on
opsconsole.wsgi:application with DJANGO_DEBUG=0, and nothing else (no
collectstatic). Pages answer, their static files load, and hashed names are
cached for a year."""

import http.cookiejar
import os
import re
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

ROOT = Path(__file__).resolve().parents[2]
YEAR = 365 * 24 * 3600


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def production(tmp_path_factory):
    """A fresh SQLite database prepared by ``migrate`` and the example
    configuration, served by gunicorn with debug off; yields its base URL."""
    tmp = tmp_path_factory.mktemp("production")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "OPSCONSOLE_", "DATABASE_URL"))}
    env.update(
        DJANGO_DEBUG="0",
        DJANGO_SECRET_KEY="a-production-secret-for-this-test-only-0123456789",
        DJANGO_ALLOWED_HOSTS="127.0.0.1,ops.northwind.example",
        OPSCONSOLE_SQLITE_PATH=str(tmp / "db.sqlite3"),
        OPSCONSOLE_STATIC_ROOT=str(tmp / "no-collectstatic"),
        OPSCONSOLE_INSECURE_HTTP="1",  # gunicorn on plain HTTP, no TLS proxy in front
    )
    manage = [sys.executable, str(ROOT / "manage.py")]
    subprocess.run([*manage, "migrate", "-v0"], env=env, cwd=ROOT, check=True)
    subprocess.run([*manage, "apply_config", "examples/northwind.yaml"], env=env, cwd=ROOT, check=True, stdout=-3)
    set_password = (
        "from opsconsole.models import User; u = User.objects.get(email='cfo@contoso.example');"
        " u.set_password('pw'); u.save()"
    )
    subprocess.run([*manage, "shell", "-c", set_password], env=env, cwd=ROOT, check=True)
    port = free_port()
    gunicorn = Path(sys.executable).with_name("gunicorn")
    server = subprocess.Popen(
        [str(gunicorn), "-b", f"127.0.0.1:{port}", "-w", "1", "opsconsole.wsgi:application"],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=open(tmp / "gunicorn.log", "wb"),  # noqa: SIM115 - kept open for the server's life
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90  # a worker boots slowly on a busy machine
        while time.monotonic() < deadline:
            try:
                urllib.request.urlopen(f"{base}/login/", timeout=30)  # noqa: S310 - our own server
                break
            except OSError:
                time.sleep(0.3)
        yield base
    finally:
        server.terminate()
        server.wait(timeout=20)


def get(url, opener=None, **headers):
    opener = opener or urllib.request.build_opener()
    try:
        return opener.open(urllib.request.Request(url, headers=headers), timeout=30)  # noqa: S310
    except urllib.error.HTTPError as exc:
        return exc


def test_the_login_page_and_its_stylesheet_answer_without_collectstatic(production):
    page = get(f"{production}/login/")
    html = page.read().decode()
    assert page.status == 200, html[:500]
    css = re.search(r'href="(/static/css/console\.[0-9a-f]{12}\.css)"', html)
    assert css, "the page links its stylesheet under a hashed name"
    sheet = get(production + css.group(1))
    assert sheet.status == 200
    assert b".topbar" in sheet.read()
    assert sheet.headers["Cache-Control"] == f"max-age={YEAR}, public, immutable"


def test_a_static_file_under_its_plain_name_is_cached_briefly(production):
    plain = get(f"{production}/static/css/console.css")
    assert plain.status == 200
    assert plain.headers["Cache-Control"] == "max-age=60, public"


def test_a_customer_signs_in_on_the_partners_host_and_opens_their_pages_and_report(production):
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    host = {"Host": "ops.northwind.example"}
    login = get(f"{production}/login/", opener, **host)
    html = login.read().decode()
    assert "Northwind Managed Integrations" in html
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html).group(1)
    body = urllib.parse.urlencode({"csrfmiddlewaretoken": token, "username": "cfo@contoso.example", "password": "pw"})
    request = urllib.request.Request(  # noqa: S310 - our own server
        f"{production}/login/", data=body.encode(), headers={**host, "Referer": "http://ops.northwind.example/login/"}
    )
    landed = opener.open(request, timeout=30)  # noqa: S310
    assert landed.status == 200
    assert landed.url.endswith("/portal/")
    portal = landed.read().decode()
    assert "Contoso Consulting" in portal
    assert "This month's objectives" in portal
    tenant = get(f"{production}/t/contoso/", opener, **host)
    assert tenant.status == 200
    assert "Time and expense" in tenant.read().decode()
    month = datetime.now(ZoneInfo("America/Chicago")).strftime("%Y-%m")
    report = get(f"{production}/reports/contoso/{month}/", opener, **host)
    html = report.read().decode()
    assert report.status == 200, html[:500]
    assert "Contoso Consulting" in html
    assert "Northwind Managed Integrations" in html
    plotly = re.search(r'src="(/static/vendor/plotly\.min\.[0-9a-f]{12}\.js)"', html).group(1)
    script = get(production + plotly)
    assert script.status == 200
    assert script.headers["Cache-Control"] == f"max-age={YEAR}, public, immutable"
