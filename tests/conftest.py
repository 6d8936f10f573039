"""Personas shared by every test module.

``northwind`` is the partner under test with tenants ``contoso`` (Chicago) and
``fabrikam`` (Berlin); ``southwind`` is another partner whose users must see
nothing of northwind's."""

import os

import pytest

from opsconsole.roles import Role
from tests import factories as f

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@pytest.fixture
def northwind(db):
    return f.make_partner("northwind", name="Northwind Partners", product_name="Northwind Managed Integrations")


@pytest.fixture
def contoso(northwind):
    return f.make_tenant(northwind, "contoso", name="Contoso Consulting", timezone="America/Chicago")


@pytest.fixture
def fabrikam(northwind):
    return f.make_tenant(northwind, "fabrikam", name="Fabrikam Services", timezone="Europe/Berlin")


@pytest.fixture
def integration(contoso):
    return f.make_integration(contoso, "time-expense-posting", name="Time and expense to NetSuite")


@pytest.fixture
def ingest_key(contoso):
    return f.make_key(contoso, ["ingest"])


@pytest.fixture
def read_key(contoso):
    return f.make_key(contoso, ["read"])


@pytest.fixture
def worker(ingest_key):
    """An API client authenticated with contoso's ingest key."""
    return f.client_with(ingest_key)


@pytest.fixture
def partner_admin(northwind):
    return f.make_user(northwind, Role.PARTNER_ADMIN, "admin@northwind.example")


@pytest.fixture
def manager(northwind):
    return f.make_user(northwind, Role.MANAGER, "max@northwind.example")


@pytest.fixture
def support(northwind):
    return f.make_user(northwind, Role.SUPPORT, "ana@northwind.example")


@pytest.fixture
def customer_approver(northwind, contoso):
    return f.make_user(northwind, Role.CUSTOMER_APPROVER, "cfo@contoso.example", tenants=[contoso])


@pytest.fixture
def customer_viewer(northwind, contoso):
    return f.make_user(northwind, Role.CUSTOMER_VIEWER, "viewer@contoso.example", tenants=[contoso])


@pytest.fixture
def southwind(db):
    return f.make_partner("southwind", name="Southwind Partners")


@pytest.fixture
def globex(southwind):
    return f.make_tenant(southwind, "globex", name="Globex", timezone="Asia/Tokyo")


@pytest.fixture
def outsider(southwind, globex):
    """A support user of another partner."""
    return f.make_user(southwind, Role.SUPPORT, "eve@southwind.example")


@pytest.fixture
def as_user():
    """``as_user(user)``: an API client authenticated with the user's personal token."""

    def make(user):
        return f.client_with(f.make_token(user))

    return make


# --- ingest (worker API) -----------------------------------------------------------------------


@pytest.fixture
def frozen_now():
    """The clock at 2026-11-26T12:00:00Z (ticking): the ingest tests' runs
    started at 10:00 that day."""
    import time_machine

    with time_machine.travel("2026-11-26T12:00:00Z", tick=True) as traveller:
        yield traveller


@pytest.fixture
def post_run(worker, integration, frozen_now):
    """``post_run(doc)``: POST one run document with contoso's ingest key."""

    def post(doc, **kw):
        return worker.post("/api/v1/runs", doc, format="json", **kw)

    return post


@pytest.fixture
def post_batch(worker, integration, frozen_now):
    """``post_batch(runs)``: POST ``{"runs": runs}`` with contoso's ingest key."""

    def post(runs):
        return worker.post("/api/v1/runs/batch", {"runs": runs}, format="json")

    return post


# Browser tests (pytest-playwright): Debian's Chromium, headless, at 1366x768.
# Playwright cannot download browsers here; the flags keep Chromium off the network.
@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    return {
        **browser_type_launch_args,
        "executable_path": os.environ.get("OPSCONSOLE_CHROMIUM", "/usr/bin/chromium"),
        "args": [
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
        ],
    }


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args):
    return {**browser_context_args, "viewport": {"width": 1366, "height": 768}}


@pytest.fixture(params=["orm", "redis"])
def queue_broker(request, tmp_path, monkeypatch):
    """Each broker a queue worker may ride (issue 15): the database (ORM), and
    Redis (a private redis-server of the test). The test process queues its
    tasks on it; yields the environment a live ``qcluster`` needs for it."""
    if request.param == "orm":
        yield {"REDIS_URL": ""}
        return
    from django_q.conf import Conf

    from tests.live_services import PrivateRedis

    server = PrivateRedis(tmp_path / "redis").start()
    monkeypatch.setattr(Conf, "ORM", None)
    monkeypatch.setattr(Conf, "REDIS", server.url)
    monkeypatch.setattr(Conf, "BROKER_CLASS", "opsconsole.broker.ReliableRedis")
    try:
        yield {"REDIS_URL": server.url}
    finally:
        server.stop()
