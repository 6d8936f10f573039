"""Permission matrix (contract sections 1 "Scopes" and 2): every role, a
read key, an ingest key, another partner's user and nobody, against every
triage endpoint and page. Outside reach is 404, before 403."""

import pytest
from django.test import Client

from opsconsole.roles import Role
from tests import factories as f

STAFF = ("partner_admin", "manager", "support")
CUSTOMERS = ("customer_approver", "customer_viewer")
PRINCIPALS = STAFF + CUSTOMERS + ("read_key", "ingest_key", "outsider", "anonymous")


@pytest.fixture
def world(northwind, contoso, integration, southwind, globex):
    """One exception (with an occurrence) and one run of contoso."""
    exc = f.make_exception(integration, priority="P2")
    failure = f.make_failure(exc, record_id="TE-1")
    return {"exception": exc, "run": failure.run}


def _user(name, northwind, contoso, southwind):
    if name in STAFF:
        return f.make_user(northwind, Role(name))
    if name in CUSTOMERS:
        return f.make_user(northwind, Role(name), tenants=[contoso])
    if name == "outsider":
        return f.make_user(southwind, Role.PARTNER_ADMIN)
    return None


@pytest.fixture
def api_as(northwind, contoso, southwind):
    def make(name):
        if name == "read_key":
            return f.client_with(f.make_key(contoso, ["read"]))
        if name == "ingest_key":
            return f.client_with(f.make_key(contoso, ["ingest"]))
        user = _user(name, northwind, contoso, southwind)
        return f.client_with(f.make_token(user) if user else None)

    return make


@pytest.fixture
def browser_as(northwind, contoso, southwind):
    def make(name):
        client = Client()
        if name in ("read_key", "ingest_key"):
            raw = f.make_key(contoso, ["read" if name == "read_key" else "ingest"])
            client.defaults["HTTP_AUTHORIZATION"] = f"Bearer {raw}"
            return client
        user = _user(name, northwind, contoso, southwind)
        if user:
            client.force_login(user)
        return client

    return make


# --- API reads ---------------------------------------------------------------------

READ_EXPECTED = {
    **dict.fromkeys(STAFF + CUSTOMERS + ("read_key",), 200),
    "ingest_key": 403,
    "outsider": 404,
    "anonymous": 401,
}


@pytest.mark.parametrize("principal", PRINCIPALS)
@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/exceptions/{exception}",
        "/api/v1/exceptions/{exception}/occurrences",
        "/api/v1/runs/{run}",
        "/api/v1/exceptions?tenant=contoso",
        "/api/v1/runs?tenant=contoso",
        "/api/v1/integrations?tenant=contoso",
    ],
)
def test_api_reads(api_as, world, principal, path):
    url = path.format(exception=world["exception"].pk, run=world["run"].pk)
    r = api_as(principal).get(url)
    assert r.status_code == READ_EXPECTED[principal], r.content
    assert r["Content-Type"].startswith("application/json")


@pytest.mark.parametrize("principal", PRINCIPALS)
@pytest.mark.parametrize("path", ["/api/v1/exceptions", "/api/v1/runs", "/api/v1/integrations"])
def test_unfiltered_api_lists_show_only_what_is_in_reach(api_as, world, principal, path):
    r = api_as(principal).get(path)
    expected = {**READ_EXPECTED, "outsider": 200}[principal]
    assert r.status_code == expected
    if expected == 200:
        tenants = {row["tenant"] for row in r.json()["results"]}
        assert tenants == (set() if principal == "outsider" else {"contoso"})


# --- API actions -------------------------------------------------------------------

ACTIONS = {
    "acknowledge": ({}, "open"),
    "assign": ({"assignee": None}, "open"),
    "comment": ({"body": "Looking"}, "open"),
    "resolve": ({"note": "Done"}, "open"),
    "ignore": ({"note": "Noise"}, "open"),
    "reopen": ({}, "resolved"),
}
ACT_EXPECTED = {
    **dict.fromkeys(STAFF, 200),
    **dict.fromkeys(CUSTOMERS + ("read_key", "ingest_key"), 403),
    "outsider": 404,
    "anonymous": 401,
}


@pytest.mark.parametrize("principal", PRINCIPALS)
@pytest.mark.parametrize("action", list(ACTIONS))
def test_api_actions(api_as, world, integration, principal, action):
    body, status = ACTIONS[action]
    exc = f.make_exception(integration, status=status)
    r = api_as(principal).post(f"/api/v1/exceptions/{exc.pk}/{action}", body, format="json")
    expected = ACT_EXPECTED[principal]
    if expected == 200 and action == "comment":
        expected = 201
    assert r.status_code == expected, r.content
    exc.refresh_from_db()
    if expected >= 400:
        assert exc.status == status and not exc.comments.exists()


# --- Pages ---------------------------------------------------------------------------

PAGE_EXPECTED = {
    **dict.fromkeys(STAFF + CUSTOMERS, 200),
    # Pages take browser sessions only: a key is just a visitor who must sign in.
    "read_key": 302,
    "ingest_key": 302,
    "outsider": 404,
    "anonymous": 302,
}


@pytest.mark.parametrize("principal", PRINCIPALS)
@pytest.mark.parametrize(
    "path",
    ["/exceptions/{exception}/", "/runs/{run}/", "/t/contoso/i/time-expense-posting/", "/inbox/?tenant=contoso"],
)
def test_pages(browser_as, world, principal, path):
    r = browser_as(principal).get(path.format(exception=world["exception"].pk, run=world["run"].pk))
    assert r.status_code == PAGE_EXPECTED[principal]
    if r.status_code == 302:
        assert r["Location"].startswith("/login/")


@pytest.mark.parametrize("principal", PRINCIPALS)
def test_the_unfiltered_inbox_shows_only_what_is_in_reach(browser_as, world, principal):
    r = browser_as(principal).get("/inbox/")
    expected = {**PAGE_EXPECTED, "outsider": 200}[principal]
    assert r.status_code == expected
    if expected == 200:
        shown = f'href="/exceptions/{world["exception"].pk}/"' in r.content.decode()
        assert shown is (principal != "outsider")


# Staff are sent back to the page; keys and nobody to the sign-in page.
PAGE_ACT_EXPECTED = {**PAGE_EXPECTED, **dict.fromkeys(STAFF, 302), **dict.fromkeys(CUSTOMERS, 403), "outsider": 404}


@pytest.mark.parametrize("principal", PRINCIPALS)
@pytest.mark.parametrize("action", list(ACTIONS))
def test_page_actions(browser_as, world, integration, principal, action):
    body, status = ACTIONS[action]
    exc = f.make_exception(integration, status=status)
    form = {k: ("" if v is None else v) for k, v in body.items()}
    r = browser_as(principal).post(f"/exceptions/{exc.pk}/{action}/", form)
    assert r.status_code == PAGE_ACT_EXPECTED[principal]
    exc.refresh_from_db()
    if principal in STAFF:
        assert r["Location"] == f"/exceptions/{exc.pk}/"
        assert exc.status != status or action in ("assign", "comment")
    else:
        assert exc.status == status and not exc.comments.exists()


@pytest.mark.parametrize("principal", PRINCIPALS)
def test_bulk_actions(browser_as, world, principal):
    exc = world["exception"]
    r = browser_as(principal).post("/inbox/bulk/", {"action": "acknowledge", "ids": [exc.pk]})
    expected = {**PAGE_ACT_EXPECTED, "outsider": 302}[principal]
    assert r.status_code == expected
    exc.refresh_from_db()
    assert (exc.status == "acknowledged") is (principal in STAFF)


def test_a_read_key_sees_nothing_of_another_tenant_of_the_same_partner(world, contoso, fabrikam):
    payroll = f.make_integration(fabrikam, "payroll")
    other = f.make_exception(payroll)
    run = f.make_failure(other).run
    api = f.client_with(f.make_key(contoso, ["read"]))
    assert api.get(f"/api/v1/exceptions/{other.pk}").status_code == 404
    assert api.get(f"/api/v1/runs/{run.pk}").status_code == 404
    assert api.get("/api/v1/exceptions?tenant=fabrikam").status_code == 404
    assert {d["id"] for d in api.get("/api/v1/exceptions").json()["results"]} == {world["exception"].pk}
