"""The hostile corpus (``tests/fixtures/hostile/``): documents a worker or a
stranger might send, posted through ingest, then every surface that shows
worker data is fetched and checked. Contract 3.5 and 8: never a 500, worker
text escaped and bounded, control characters never passed through, no
scrubbed secret shown anywhere.

Fixtures: ``<case>__accepted.json`` must be stored (201), ``<case>__refused.json``
must be a 400 with a JSON body that stores nothing. Files are raw request
bodies (so they may hold duplicate keys or invalid UTF-8); a string
``"$repeat:N:TEXT"`` in them is expanded to TEXT repeated N times before
posting (1 MB strings without 1 MB files). Every accepted case hides
``SECRET`` under a key of the scrub list.

Adding a surface (a report, an e-mail, a CSV): append a ``Surface`` to
``SURFACES`` with a name, who fetches it (``staff``, ``customer`` or
``api``), a function from the ``Corpus`` (ids of what was stored) to the URLs
to fetch, and the kind of answer (``html``, ``json`` or ``text``; add a
checker to ``CHECKS`` for a new kind, e.g. a PDF read back with pdftotext).
A surface that is not an HTTP answer (an e-mail) can be added the same way
by giving ``fetch`` instead of ``urls``: a function from the ``Corpus`` to a
list of (name, content type, bytes)."""

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
import time_machine
from django.test import Client

from integrations import replays as replay_service
from integrations.models import Failure, Run, SyncException
from opsconsole.roles import Role
from tests import factories as f
from tests.integrations.ingest_support import table_counts

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "hostile"
SECRET = "hunter2-SECRET"
NOW = "2026-11-26T12:00:00Z"
MAX_ANSWER_BYTES = 3 * 1024 * 1024  # a page or answer stays bounded whatever was stored

# Markup that must never reach a page unescaped.
LIVE_MARKUP = [
    '<script>alert("x")',
    "<script>alert(3)",
    "<script>alert(9)",
    "<img src=x onerror",
    "<svg onload",
    '<svg xmlns="http://www.w3.org/2000/svg" onload',
    '<a href="https://evil.example/x"',
    "<b>entity</b>",
    "<b>last</b>",
    "<i>op</i>",
]
# Characters that must never reach a page raw (they are shown as \uXXXX).
HIDDEN = ["\u202e", "\u2066", "\u061c", "\u2028", "\u2029", "\u200b", "\ufeff", "\x07", "\x1b", "\x00"]
_REPEAT = re.compile(rb'"\$repeat:(\d+):([^"]*)"')


def body_of(path):
    return _REPEAT.sub(lambda m: b'"' + m.group(2) * int(m.group(1)) + b'"', path.read_bytes())


ACCEPTED = sorted(FIXTURES.glob("*__accepted.json"))
REFUSED = sorted(FIXTURES.glob("*__refused.json"))


@pytest.mark.parametrize("path", REFUSED, ids=[p.stem for p in REFUSED])
def test_a_refused_hostile_document_is_a_400_that_stores_nothing(worker, integration, path):
    before = table_counts()
    with time_machine.travel(NOW, tick=True):
        response = worker.generic("POST", "/api/v1/runs", body_of(path), content_type="application/json")
    assert response.status_code == 400, response.content[:500]
    assert isinstance(response.json(), dict) and response.json()
    assert table_counts() == before


@dataclass
class Corpus:
    """What the accepted documents left behind, for building URLs."""

    tenant: str
    integration: str
    exceptions: list
    runs: list
    replays: list


@dataclass
class Surface:
    name: str
    reader: str  # "staff" (a manager's session), "customer" (a customer viewer's session) or "api" (a token)
    kind: str  # "html", "json" or "text"
    urls: Callable[[Corpus], list] = None
    fetch: Callable[[Corpus], list] = None


def _each(template, key):
    return lambda c: [template.format(id=i, tenant=c.tenant) for i in getattr(c, key)]


SURFACES = [
    Surface(
        "inbox", "staff", "html", lambda c: ["/inbox/", "/inbox/?q=%3Cscript%3E", "/inbox/?status=open,acknowledged"]
    ),
    Surface("exception pages", "staff", "html", _each("/exceptions/{id}/", "exceptions")),
    Surface("replay request forms", "staff", "html", _each("/exceptions/{id}/replay/", "exceptions")),
    Surface("run pages", "staff", "html", _each("/runs/{id}/", "runs")),
    Surface("replay pages", "staff", "html", _each("/replays/{id}/", "replays")),
    Surface("approvals", "staff", "html", lambda c: ["/approvals/", f"/t/{c.tenant}/replays/"]),
    Surface(
        "tenant and integration",
        "staff",
        "html",
        lambda c: [f"/t/{c.tenant}/", f"/t/{c.tenant}/i/{c.integration}/"],
    ),
    Surface("SLA and trends", "staff", "html", lambda c: [f"/t/{c.tenant}/sla/", f"/t/{c.tenant}/trends/"]),
    Surface("customer inbox", "customer", "html", lambda c: ["/inbox/"]),
    Surface("customer exception pages", "customer", "html", _each("/exceptions/{id}/", "exceptions")),
    Surface("report", "staff", "html", lambda c: [f"/reports/{c.tenant}/2026-11/"]),
    Surface("report CSV", "staff", "text", lambda c: [f"/reports/{c.tenant}/2026-11.csv"]),
    Surface(
        "API lists",
        "api",
        "json",
        lambda c: [
            "/api/v1/exceptions",
            f"/api/v1/runs?tenant={c.tenant}",
            f"/api/v1/integrations?tenant={c.tenant}",
            f"/api/v1/replays?tenant={c.tenant}",
            f"/api/v1/sla?tenant={c.tenant}&period=2026-11",
            f"/api/v1/trends?tenant={c.tenant}&from=2026-11-20&to=2026-11-27",
            "/api/v1/audit",
        ],
    ),
    Surface("API exceptions", "api", "json", _each("/api/v1/exceptions/{id}", "exceptions")),
    Surface("API occurrences", "api", "json", _each("/api/v1/exceptions/{id}/occurrences", "exceptions")),
    Surface("API runs", "api", "json", _each("/api/v1/runs/{id}", "runs")),
    Surface("API replays", "api", "json", _each("/api/v1/replays/{id}", "replays")),
]


def _check_html(name, body):
    text = body.decode("utf-8")
    for markup in LIVE_MARKUP:
        assert markup not in text, f"{name}: live markup {markup!r}"
    for char in HIDDEN:
        assert char not in text, f"{name}: raw U+{ord(char):04X}"


def _check_json(name, body):
    json.loads(body)  # well-formed; JSON escapes whatever the worker sent


def _check_text(name, body):
    text = body.decode("utf-8")
    for char in ("\x00", "\u202e"):
        assert char not in text, f"{name}: raw U+{ord(char):04X}"


CHECKS = {"html": _check_html, "json": _check_json, "text": _check_text}


@pytest.fixture
def corpus(worker, integration, northwind, contoso):
    """Every accepted document posted through ingest, plus a replay (with a
    hostile patch and reason) of each exception."""
    support = f.make_user(northwind, Role.SUPPORT, "ana@northwind.example")
    with time_machine.travel(NOW, tick=True):
        for path in ACCEPTED:
            response = worker.generic("POST", "/api/v1/runs", body_of(path), content_type="application/json")
            assert response.status_code in (200, 201), (path.name, response.content[:500])
        exceptions = list(SyncException.objects.filter(tenant=contoso).order_by("pk"))
        replays = []
        for exc in exceptions:
            record = Failure.objects.filter(exception=exc).values_list("record_id", flat=True).first()
            patch = {record: {"note": '<script>alert("x")</script>\u202e'}}  # staff input, shown whole
            replays.append(
                replay_service.request_replay(
                    support, exc, records=[record], reason="<b>entity</b> \u2028", patch=patch
                ).pk
            )
    return Corpus(
        tenant=contoso.slug,
        integration=integration.slug,
        exceptions=[e.pk for e in exceptions],
        runs=list(Run.objects.filter(tenant=contoso).values_list("pk", flat=True)),
        replays=replays,
    )


@pytest.fixture
def readers(northwind, contoso):
    manager = f.make_user(northwind, Role.MANAGER, "max@northwind.example")
    viewer = f.make_user(northwind, Role.CUSTOMER_VIEWER, "viewer@contoso.example", tenants=[contoso])
    staff, customer = Client(), Client()
    staff.force_login(manager)
    customer.force_login(viewer)
    return {"staff": staff, "customer": customer, "api": f.client_with(f.make_token(manager))}


def _answers(surface, corpus, readers):
    if surface.fetch is not None:
        yield from surface.fetch(corpus)
        return
    for url in surface.urls(corpus):
        response = readers[surface.reader].get(url)
        assert response.status_code == 200, f"{surface.name}: {url} answered {response.status_code}"
        body = b"".join(response.streaming_content) if response.streaming else response.content
        yield url, response.get("Content-Type", ""), body


def test_every_surface_shows_the_hostile_corpus_escaped_bounded_and_without_secrets(corpus, readers):
    assert corpus.exceptions and corpus.runs and corpus.replays
    with time_machine.travel(NOW, tick=True):
        for surface in SURFACES:
            for url, _content_type, body in _answers(surface, corpus, readers):
                name = f"{surface.name}: {url}"
                assert len(body) < MAX_ANSWER_BYTES, f"{name}: {len(body):,} bytes"
                assert SECRET.encode() not in body, f"{name}: shows a scrubbed secret"
                CHECKS[surface.kind](name, body)
