"""No byte a customer receives on their partner's host name names the
console: every page a customer can reach (followed link by link from the
portal, plus the login, error and favicon answers), the static files those
pages load, and every header, cookies included."""

import re
import zlib
from urllib.parse import urljoin, urlsplit

import pytest
from django.test import Client

HOST = "ops.northwind.example"
CONSOLE = b"opsconsole"
LINK = re.compile(r'(?:href|src)="([^"#]+)"')
# Pages a person opens by hand rather than by a link (errors, favicon, API docs).
EXTRA = [
    *("/favicon.ico", "/no/such/page/", "/t/fabrikam/", "/exceptions/999999/", "/admin/"),
    *("/api/docs/", "/api/schema/"),
]
NOT_FOLLOWED = ("/logout/", "mailto:", "http://", "https://", "data:")


@pytest.fixture(autouse=True)
def partner_host(settings):
    settings.ALLOWED_HOSTS = [HOST]


def inflated(body):
    """A PDF's compressed streams, inflated (the name could hide in them)."""
    out = []
    for stream in re.findall(rb"stream\r?\n(.*?)\r?\nendstream", body, re.S):
        try:
            out.append(zlib.decompress(stream))
        except zlib.error:
            continue
    return b"".join(out)


def assert_clean(url, response):
    body = b"".join(response.streaming_content) if response.streaming else response.content
    assert CONSOLE not in body.lower(), f"{url} names the console in its body"
    if body.startswith(b"%PDF"):
        streams = inflated(body)
        assert streams, f"{url}: no stream could be inflated"
        assert CONSOLE not in streams.lower(), f"{url} names the console inside the PDF"
    for name, value in response.items():
        assert "opsconsole" not in f"{name}: {value}".lower(), f"{url} names the console in a header: {name}"
    for cookie in response.cookies.values():
        assert "opsconsole" not in cookie.OutputString().lower(), f"{url} names the console in a cookie"
    return body


def crawl(client, seeds, limit=400):
    """Every URL reachable by GET from ``seeds`` on the host; {url: status}."""
    seen, queue = {}, list(seeds)
    while queue and len(seen) < limit:
        url = queue.pop(0)
        if url in seen:
            continue
        response = client.get(url, HTTP_HOST=HOST)
        seen[url] = response.status_code
        body = assert_clean(url, response)
        if response.status_code in (301, 302):
            queue.append(response["Location"])
            continue
        if "html" not in response.get("Content-Type", ""):
            continue
        for link in LINK.findall(body.decode()):
            link = link.replace("&amp;", "&")
            if link.startswith(NOT_FOLLOWED):
                continue
            target = urljoin(url, link)
            if urlsplit(target).path not in {urlsplit(u).path for u in seen} or "?" not in target:
                queue.append(target)
    return seen


def test_a_signed_out_visitor_receives_nothing_naming_the_console(portal_data):
    seen = crawl(Client(), ["/login/", "/", *EXTRA])
    assert seen["/login/"] == 200
    assert seen["/favicon.ico"] == 200
    assert seen["/api/schema/"] == seen["/api/docs/"] == 200


@pytest.mark.parametrize("persona", ["customer_viewer", "customer_approver"])
def test_a_customer_receives_nothing_naming_the_console(portal_data, persona, request):
    user = request.getfixturevalue(persona)
    client = Client()
    client.force_login(user)
    seen = crawl(client, ["/", *EXTRA])
    ok = {urlsplit(u).path for u, status in seen.items() if status == 200}
    expected = {
        "/portal/",
        "/t/contoso/",
        "/t/contoso/sla/",
        "/t/contoso/trends/",
        "/t/contoso/replays/",
        f"/t/contoso/i/{portal_data.integration.slug}/",
        f"/exceptions/{portal_data.exception.pk}/",
        f"/replays/{portal_data.replay.pk}/",
        "/inbox/",
        "/favicon.ico",
        "/reports/contoso/",
        "/reports/contoso/2026-11/",
        "/reports/contoso/2026-11.pdf",
        "/reports/contoso/2026-11.csv",
    }
    assert expected <= ok, expected - ok
    assert any(p.startswith("/runs/") for p in ok)
    assert any(p.startswith("/static/css/") for p in ok)
    assert any(p.startswith("/static/vendor/plotly") for p in ok)
    assert seen["/no/such/page/"] == 404
    assert seen["/admin/"] == 404
