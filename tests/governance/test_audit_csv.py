"""GET /api/v1/audit.csv (contract 4.2, 1.1): the filters and roles of the
JSON list, every matching entry newest first, the contract's header, and
formula cells neutralised."""

import csv
import io
from datetime import UTC, datetime

import pytest

from opsconsole import audit

HEADER = ["id", "at", "actor", "action", "tenant", "object_type", "object_id", "summary"]


def at(day, hour=12):
    return datetime(2026, 11, day, hour, tzinfo=UTC)


@pytest.fixture
def entries(northwind, contoso, fabrikam, globex, manager):
    made = [audit.record(None, "config.apply", partner=northwind, obj=northwind, summary="Applied", at=at(1))]
    # More than one page of the JSON list (50 a page).
    for k in range(70):
        made.append(
            audit.record(
                manager, "exception.acknowledge", tenant=contoso, summary=f"Ack {k}", at=at(2 + k % 20, k % 24)
            )
        )
    made.append(audit.record("key:poster", "replay.claim", tenant=fabrikam, summary="=cmd|' /C calc'!A0", at=at(25)))
    made.append(audit.record("@evil", "exception.comment", tenant=fabrikam, summary='+1 -2 "quoted"\nnext', at=at(26)))
    made.append(audit.record(None, "config.apply", tenant=globex, summary="southwind", at=at(3)))
    return made


def csv_rows(client, query=""):
    response = client.get(f"/api/v1/audit.csv{query}")
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("text/csv")
    body = b"".join(response.streaming_content).decode("utf-8")
    return list(csv.reader(io.StringIO(body)))


def json_entries(client, query=""):
    out, url = [], f"/api/v1/audit{query}"
    while url:
        body = client.get(url).json()
        out += body["results"]
        url = body["next"]
    return out


@pytest.mark.parametrize("query", ["", "?tenant=contoso", "?action=exception.*&from=2026-11-05", "?actor=key:poster"])
def test_the_csv_carries_every_entry_the_json_list_does(entries, as_user, manager, query):
    client = as_user(manager)
    rows = csv_rows(client, query)
    assert rows[0] == HEADER
    listed = json_entries(client, query)
    assert len(listed) > 0
    assert [int(r[0]) for r in rows[1:]] == [e["id"] for e in listed]
    for row, entry in zip(rows[1:], listed, strict=True):
        assert row[1] == entry["at"]
        assert row[4] == (entry["tenant"] or "")
        plain = [entry[k] or "" for k in ("actor", "action", "tenant", "object_type", "object_id", "summary")]
        assert [c[1:] if c.startswith("'") else c for c in row[2:]] == plain


def test_entries_are_newest_first_and_another_partners_are_absent(entries, as_user, manager):
    rows = csv_rows(as_user(manager))
    stamps = [r[1] for r in rows[1:]]
    assert stamps == sorted(stamps, reverse=True)
    assert "southwind" not in {r[7] for r in rows[1:]}


def test_formula_cells_are_neutralised(entries, as_user, partner_admin):
    rows = {r[3]: r for r in csv_rows(as_user(partner_admin))[1:]}
    assert rows["replay.claim"][7] == "'=cmd|' /C calc'!A0"
    assert rows["exception.comment"][2] == "'@evil"
    assert rows["exception.comment"][7] == '\'+1 -2 "quoted"\nnext'
    assert rows["config.apply"][7] == "Applied"


def test_malformed_filters_are_400_in_json(entries, as_user, manager):
    client = as_user(manager)
    for query, name in (
        ("?from=yesterday", "from"),
        ("?to=2026-13-01", "to"),
        ("?from=2026-11-10&to=2026-11-01", "to"),
    ):
        response = client.get(f"/api/v1/audit.csv{query}", HTTP_ACCEPT="text/csv")
        assert response.status_code == 400
        assert name in response.json()
    assert client.get("/api/v1/audit.csv?tenant=globex").status_code == 404


def test_the_audit_page_filters_and_links_to_the_same_csv(entries, manager):
    from django.test import Client

    browser = Client()
    browser.force_login(manager)
    page = browser.get("/governance/audit/?tenant=fabrikam&action=replay.claim").content.decode()
    assert 'href="/api/v1/audit.csv?tenant=fabrikam&amp;action=replay.claim"' in page
    assert "=cmd|&#x27; /C calc&#x27;!A0" in page
    assert "Ack 3" not in page
    assert browser.get("/governance/audit/?from=nope").status_code == 400
