"""GET /api/v1/audit (contract 4.2): managers and partner admins only, the
caller's partner only, newest first, filtered and paginated."""

from datetime import UTC, datetime

import pytest

from opsconsole import audit
from tests import factories as f

FIELDS = {"id", "at", "actor", "action", "tenant", "object_type", "object_id", "summary", "data"}


def at(day, hour=12):
    return datetime(2026, 11, day, hour, tzinfo=UTC)


@pytest.fixture
def entries(northwind, contoso, fabrikam, globex, manager):
    """Five northwind entries over three days and one of southwind's."""
    return {
        "apply": audit.record(None, "config.apply", partner=northwind, obj=northwind, summary="Applied", at=at(1)),
        "ack": audit.record(manager, "exception.acknowledge", tenant=contoso, summary="Ack", at=at(2, 9)),
        "resolve": audit.record(manager, "exception.resolve", tenant=contoso, summary="Resolved", at=at(2, 15)),
        "fab": audit.record("key:te-poster", "replay.claim", tenant=fabrikam, data={"n": 1}, at=at(3)),
        "late": audit.record(None, "exception.regressed", tenant=fabrikam, at=at(3, 23)),
        "globex": audit.record(None, "config.apply", tenant=globex, summary="Southwind", at=at(3)),
    }


def ids(response):
    assert response.status_code == 200, response.content
    return [row["id"] for row in response.json()["results"]]


@pytest.mark.parametrize(
    ("persona", "status"),
    [
        ("partner_admin", 200),
        ("manager", 200),
        ("support", 403),
        ("customer_approver", 403),
        ("customer_viewer", 403),
    ],
)
def test_only_managers_and_partner_admins_read_the_audit_log(request, as_user, entries, persona, status):
    user = request.getfixturevalue(persona)
    assert as_user(user).get("/api/v1/audit").status_code == status
    assert as_user(user).get("/api/v1/audit?tenant=contoso").status_code == status


@pytest.mark.parametrize("fixture", ["read_key", "ingest_key"])
def test_api_keys_may_not_read_the_audit_log(request, entries, fixture):
    client = f.client_with(request.getfixturevalue(fixture))
    response = client.get("/api/v1/audit")
    assert response.status_code == 403
    assert "detail" in response.json()


def test_anonymous_is_401(client, entries):
    assert client.get("/api/v1/audit").status_code == 401
    assert f.client_with("ok_nothing.wrong").get("/api/v1/audit").status_code == 401


def test_entries_are_newest_first_with_the_contract_fields(as_user, manager, entries):
    response = as_user(manager).get("/api/v1/audit")
    body = response.json()
    assert set(body) == {"count", "next", "previous", "results"}
    expected = [entries[k].pk for k in ("late", "fab", "resolve", "ack", "apply")]
    # The personal token's creation is audited too (now, so newest).
    assert ids(response)[-5:] == expected
    row = next(r for r in body["results"] if r["id"] == entries["fab"].pk)
    assert set(row) == FIELDS
    assert row == {
        "id": entries["fab"].pk,
        "at": "2026-11-03T12:00:00.000000Z",
        "actor": "key:te-poster",
        "action": "replay.claim",
        "tenant": "fabrikam",
        "object_type": "",
        "object_id": "",
        "summary": "",
        "data": {"n": 1},
    }
    apply_row = next(r for r in body["results"] if r["id"] == entries["apply"].pk)
    assert (apply_row["tenant"], apply_row["object_type"]) == (None, "partner")


def test_another_partners_user_sees_none_of_it(as_user, entries, southwind):
    admin = f.make_user(southwind, "partner_admin", "boss@southwind.example")
    client = as_user(admin)
    assert entries["globex"].pk in ids(client.get("/api/v1/audit"))
    assert not {e.pk for k, e in entries.items() if k != "globex"} & set(ids(client.get("/api/v1/audit")))
    assert client.get("/api/v1/audit?tenant=contoso").status_code == 404


def test_an_unknown_or_unreachable_tenant_is_a_404_before_the_role_check(as_user, support, customer_viewer, entries):
    assert as_user(support).get("/api/v1/audit?tenant=initech").status_code == 404
    assert as_user(customer_viewer).get("/api/v1/audit?tenant=fabrikam").status_code == 404
    assert as_user(customer_viewer).get("/api/v1/audit?tenant=contoso").status_code == 403


def test_filters(as_user, manager, entries):
    client = as_user(manager)
    assert ids(client.get("/api/v1/audit?tenant=contoso")) == [entries["resolve"].pk, entries["ack"].pk]
    assert ids(client.get("/api/v1/audit?actor=key:te-poster")) == [entries["fab"].pk]
    assert ids(client.get("/api/v1/audit?action=config.apply")) == [entries["apply"].pk]
    assert ids(client.get("/api/v1/audit?action=exception.*")) == [
        entries["late"].pk,
        entries["resolve"].pk,
        entries["ack"].pk,
    ]
    assert ids(client.get("/api/v1/audit?tenant=fabrikam&action=replay.claim")) == [entries["fab"].pk]


def test_from_and_to_take_dates_and_timestamps(as_user, manager, entries):
    client = as_user(manager)
    # A date is 00:00 UTC of that day; from is inclusive, to exclusive.
    assert ids(client.get("/api/v1/audit?from=2026-11-02&to=2026-11-03")) == [
        entries["resolve"].pk,
        entries["ack"].pk,
    ]
    assert ids(client.get("/api/v1/audit", {"from": "2026-11-02T10:00:00+01:00", "to": "2026-11-03T00:00:00Z"})) == [
        entries["resolve"].pk,
        entries["ack"].pk,
    ]
    assert ids(client.get("/api/v1/audit", {"from": "2026-11-02T09:00:00Z", "to": "2026-11-02T15:00:00Z"})) == [
        entries["ack"].pk
    ]


@pytest.mark.parametrize(
    ("query", "name"),
    [
        ("from=yesterday", "from"),
        ("to=2026-13-01", "to"),
        ("from=2026-11-02T10:00:00", "from"),
        ("from=2026-11-03&to=2026-11-01", "to"),
        ("to=9999-12-31", "to"),
        ("from=0001-01-01T00:00:00%2B01:00", "from"),
        ("to=9999-12-31T23:59:59-01:00", "to"),
        ("actor=ana%00", "actor"),
        ("tenant=con%00toso", "tenant"),
        ("action=config%00", "action"),
    ],
)
def test_a_malformed_bound_is_a_400_naming_it(as_user, manager, entries, query, name):
    response = as_user(manager).get(f"/api/v1/audit?{query}")
    assert response.status_code == 400
    assert list(response.json()) == [name]


def test_the_list_is_paginated(as_user, manager, entries):
    client = as_user(manager)
    first = client.get("/api/v1/audit?tenant=contoso&page_size=1").json()
    assert first["count"] == 2
    assert first["previous"] is None and first["next"]
    assert [r["id"] for r in first["results"]] == [entries["resolve"].pk]
    second = client.get(first["next"]).json()
    assert [r["id"] for r in second["results"]] == [entries["ack"].pk]


def test_the_schema_documents_the_audit_log(client, db):
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    operation = schema["paths"]["/api/v1/audit"]["get"]
    assert {p["name"] for p in operation["parameters"]} >= {"tenant", "actor", "action", "from", "to", "page"}


def test_a_role_without_the_audit_log_gets_403_before_its_query_is_checked(as_user, support, entries):
    response = as_user(support).get("/api/v1/audit", {"from": "2026-11-01\x00", "actor": "\x00"})
    assert response.status_code == 403
