"""Staff API of exceptions (contract 4.1): list, detail, occurrences, actions."""

import datetime as dt

import pytest
import time_machine
from django.utils import timezone

from integrations.models import ExceptionOpening, ExceptionStatus, FailureState
from opsconsole.models import AuditEntry
from opsconsole.roles import Role
from tests import factories as f

CONTRACT_FIELDS = {
    "id",
    "tenant",
    "integration",
    "title",
    "fingerprint",
    "entity",
    "error_code",
    "error_class",
    "status",
    "priority",
    "assignee",
    "occurrences",
    "records",
    "first_seen",
    "last_seen",
    "opened_at",
    "acknowledged_at",
    "resolved_at",
    "regressed",
    "grouped_by",
    "runbook",
}


@pytest.fixture
def exc(integration, support):
    e = f.make_exception(integration, priority="P2", runbook="Check the project, then replay.")
    f.make_failure(e, record_id="TE-1001")
    return e


@pytest.fixture
def api(as_user, support):
    return as_user(support)


def test_the_list_gives_the_contract_shape(api, exc):
    r = api.get("/api/v1/exceptions")
    assert r.status_code == 200
    body = r.json()
    assert set(body) == {"count", "next", "previous", "results"}
    assert body["count"] == 1
    doc = body["results"][0]
    assert CONTRACT_FIELDS <= set(doc)
    assert doc["tenant"] == "contoso" and doc["integration"] == "time-expense-posting"
    assert doc["occurrences"] == 1 and doc["records"] == 1
    assert doc["opened_at"].endswith("Z") and doc["first_seen"].endswith("Z")
    assert doc["assignee"] is None and doc["acknowledged_at"] is None
    assert doc["runbook"] == "Check the project, then replay."


def test_the_list_is_most_urgent_first(api, integration):
    now = timezone.now()
    p3_old = f.make_exception(integration, priority="P3", opened_at=now - dt.timedelta(days=3))
    p1_new = f.make_exception(integration, priority="P1", opened_at=now - dt.timedelta(minutes=5))
    p1_old = f.make_exception(integration, priority="P1", opened_at=now - dt.timedelta(hours=5))
    resolved_p1 = f.make_exception(integration, priority="P1", status="resolved", opened_at=now - dt.timedelta(days=9))
    ids = [d["id"] for d in api.get("/api/v1/exceptions").json()["results"]]
    assert ids == [p1_old.pk, p1_new.pk, p3_old.pk, resolved_p1.pk]


def test_filters_by_status_priority_assignee_and_integration(api, integration, contoso, support):
    other = f.make_integration(contoso, "billing-sync")
    a = f.make_exception(integration, priority="P1", assignee=support)
    b = f.make_exception(integration, priority="P2", status="acknowledged")
    c = f.make_exception(other, priority="P2")

    def ids(qs):
        r = api.get(f"/api/v1/exceptions?{qs}")
        assert r.status_code == 200, r.json()
        return {d["id"] for d in r.json()["results"]}

    assert ids("priority=P2") == {b.pk, c.pk}
    assert ids("status=acknowledged") == {b.pk}
    assert ids("status=open,acknowledged&priority=P1,P2") == {a.pk, b.pk, c.pk}
    assert ids(f"assignee={support.email}") == {a.pk}
    assert ids("assignee=me") == {a.pk}
    assert ids("assignee=none") == {b.pk, c.pk}
    assert ids("integration=billing-sync") == {c.pk}
    assert ids("tenant=contoso&integration=time-expense-posting") == {a.pk, b.pk}


def test_q_finds_title_error_code_message_and_record_id(api, integration):
    closed = f.make_exception(integration, title="Project P-<n> is closed in the ERP", error_code="ERP-4001")
    f.make_failure(closed, record_id="TE-1001")
    rate = f.make_exception(integration, title="Too many requests from host w-<n>", error_code="RATE-9")
    f.make_failure(rate, record_id="TE-2002", message="Too many requests from host w-07")

    def ids(q):
        return {d["id"] for d in api.get("/api/v1/exceptions", {"q": q}).json()["results"]}

    assert ids("closed in") == {closed.pk}
    assert ids("RATE") == {rate.pk}
    # A message as a worker sent it finds its exception through the normalised title.
    assert ids("requests from host w-07") == {rate.pk}
    assert ids("Project P-77 is closed") == {closed.pk}
    assert ids("TE-1001") == {closed.pk}
    assert ids(f"#{rate.pk}") == {rate.pk}
    assert ids("nothing like this") == set()


@pytest.mark.parametrize(
    "query, name",
    [
        ("status=sleeping", "status"),
        ("priority=P9", "priority"),
        ("q=a%00b", "q"),
        ("view=everything", "view"),
    ],
)
def test_malformed_filters_are_a_400_naming_the_parameter(api, exc, query, name):
    r = api.get(f"/api/v1/exceptions?{query}")
    assert r.status_code == 400
    assert name in r.json()


@pytest.mark.parametrize(
    "query", ["tenant=nope", "tenant=globex", "integration=nope", "tenant=fabrikam&integration=time-expense-posting"]
)
def test_unknown_or_unreachable_tenant_or_integration_is_a_404(api, exc, globex, fabrikam, query):
    r = api.get(f"/api/v1/exceptions?{query}")
    assert r.status_code == 404
    assert "detail" in r.json()


def test_the_detail_and_its_occurrences(api, exc):
    r = api.get(f"/api/v1/exceptions/{exc.pk}")
    assert r.status_code == 200 and r.json()["id"] == exc.pk
    r = api.get(f"/api/v1/exceptions/{exc.pk}/occurrences")
    assert r.status_code == 200
    occ = r.json()["results"][0]
    for field in ("entity", "record_id", "run_id", "operation", "error_code", "message", "occurred_at"):
        assert occ[field] not in (None, "")
    assert occ["record_id"] == "TE-1001"
    assert occ["payload"] == {"employee": "E-17", "hours": 7.5, "project": "P-77"}
    assert occ["response"]["status"] == 400
    assert occ["state"] == FailureState.FAILED
    assert occ["occurred_at"].endswith("Z")


@pytest.mark.parametrize("pk", ["999999", "abc", "-1", "99999999999999999999999"])
def test_an_unknown_exception_is_a_404(api, exc, pk):
    assert api.get(f"/api/v1/exceptions/{pk}").status_code == 404
    assert api.post(f"/api/v1/exceptions/{pk}/acknowledge").status_code == 404


def test_acknowledge_is_audited_and_acknowledges_the_opening(api, exc, support):
    r = api.post(f"/api/v1/exceptions/{exc.pk}/acknowledge")
    assert r.status_code == 200
    assert r.json()["status"] == "acknowledged" and r.json()["acknowledged_at"].endswith("Z")
    exc.refresh_from_db()
    assert exc.status == ExceptionStatus.ACKNOWLEDGED
    opening = exc.openings.get()
    assert opening.acknowledged_at == exc.acknowledged_at
    entry = AuditEntry.objects.get(action="exception.acknowledge")
    assert entry.actor == support.email and entry.tenant_id == exc.tenant_id and entry.object_id == str(exc.pk)


def test_acknowledging_a_resolved_exception_is_a_409_and_changes_nothing(api, exc):
    assert api.post(f"/api/v1/exceptions/{exc.pk}/resolve").status_code == 200
    before = AuditEntry.objects.count()
    r = api.post(f"/api/v1/exceptions/{exc.pk}/acknowledge")
    assert r.status_code == 409
    assert "detail" in r.json()
    exc.refresh_from_db()
    assert exc.status == "resolved"
    assert AuditEntry.objects.count() == before


@pytest.mark.parametrize(
    "status, action",
    [
        ("acknowledged", "acknowledge"),
        ("ignored", "acknowledge"),
        ("resolved", "resolve"),
        ("resolved", "ignore"),
        ("ignored", "ignore"),
        ("open", "reopen"),
        ("acknowledged", "reopen"),
    ],
)
def test_illegal_transitions_are_409(api, integration, status, action):
    e = f.make_exception(integration, status=status)
    r = api.post(f"/api/v1/exceptions/{e.pk}/{action}", {}, format="json")
    assert r.status_code == 409
    e.refresh_from_db()
    assert e.status == status


def test_assign_takes_a_staff_user_of_the_partner_or_null(api, exc, manager, customer_viewer, outsider):
    r = api.post(f"/api/v1/exceptions/{exc.pk}/assign", {"assignee": manager.email}, format="json")
    assert r.status_code == 200 and r.json()["assignee"] == manager.email
    for bad in (customer_viewer.email, outsider.email, "nobody@example.com", "not an email"):
        r = api.post(f"/api/v1/exceptions/{exc.pk}/assign", {"assignee": bad}, format="json")
        assert r.status_code == 400 and "assignee" in r.json()
    exc.refresh_from_db()
    assert exc.assignee == manager
    r = api.post(f"/api/v1/exceptions/{exc.pk}/assign", {"assignee": None}, format="json")
    assert r.status_code == 200 and r.json()["assignee"] is None
    actions = list(AuditEntry.objects.filter(action="exception.assign").values_list("data", flat=True))
    assert [a["assignee"] for a in actions] == [None, manager.email]  # newest first


def test_assign_needs_the_assignee_field(api, exc):
    r = api.post(f"/api/v1/exceptions/{exc.pk}/assign", {}, format="json")
    assert r.status_code == 400 and "assignee" in r.json()


def test_comment_is_kept_and_audited(api, exc, support):
    r = api.post(f"/api/v1/exceptions/{exc.pk}/comment", {"body": "Asked the customer to reopen P-77."}, format="json")
    assert r.status_code == 201
    assert r.json()["author"] == support.email
    assert exc.comments.get().body == "Asked the customer to reopen P-77."
    assert AuditEntry.objects.filter(action="exception.comment", object_id=str(exc.pk)).count() == 1


@pytest.mark.parametrize("body", [{}, {"body": ""}, {"body": 5}, {"body": "a\x00b"}, {"body": "x" * 10_001}])
def test_a_bad_comment_is_a_400(api, exc, body):
    r = api.post(f"/api/v1/exceptions/{exc.pk}/comment", body, format="json")
    assert r.status_code == 400 and "body" in r.json()
    assert not exc.comments.exists()


def test_malformed_json_is_a_400(api, exc):
    r = api.post(f"/api/v1/exceptions/{exc.pk}/resolve", "{not json", content_type="application/json")
    assert r.status_code == 400
    r = api.post(f"/api/v1/exceptions/{exc.pk}/resolve", "[1, 2]", content_type="application/json")
    assert r.status_code == 400
    exc.refresh_from_db()
    assert exc.status == "open"


def test_resolve_with_an_empty_body_acknowledges_and_resolves_the_opening(api, exc):
    r = api.post(f"/api/v1/exceptions/{exc.pk}/resolve", content_type="application/json")
    assert r.status_code == 200
    exc.refresh_from_db()
    opening = exc.openings.get()
    assert exc.status == "resolved" and exc.resolved_at is not None and exc.acknowledged_at is not None
    assert opening.resolved_at == exc.resolved_at and opening.acknowledged_at is not None


def test_resolve_keeps_its_note(api, exc):
    r = api.post(f"/api/v1/exceptions/{exc.pk}/resolve", {"note": "Project reopened"}, format="json")
    assert r.status_code == 200
    entry = AuditEntry.objects.get(action="exception.resolve")
    assert "Project reopened" in entry.summary and entry.data["note"] == "Project reopened"


def test_ignore_until_a_time(api, exc):
    until = (timezone.now() + dt.timedelta(days=2)).replace(microsecond=0)
    r = api.post(f"/api/v1/exceptions/{exc.pk}/ignore", {"note": "Known", "until": until.isoformat()}, format="json")
    assert r.status_code == 200
    assert r.json()["status"] == "ignored"
    exc.refresh_from_db()
    assert exc.ignored_until == until
    opening = exc.openings.get()
    assert opening.ignored_at is not None and opening.acknowledged_at is not None
    entry = AuditEntry.objects.get(action="exception.ignore")
    # Audit entries speak UTC with a Z, as every answer (contract section 8).
    stamp = until.strftime("%Y-%m-%dT%H:%M:%S.000000Z")
    assert entry.data["until"] == stamp and f"until {stamp}" in entry.summary


@pytest.mark.parametrize("until", ["9999-12-31T23:59:59Z", "9999-12-31T23:59:59-05:00", "0001-01-01T00:00:00+01:00"])
def test_ignore_until_no_calendar_can_show_is_a_400_naming_until(api, exc, until):
    r = api.post(f"/api/v1/exceptions/{exc.pk}/ignore", {"until": until}, format="json")
    assert r.status_code == 400 and "1970" in r.json()["until"][0]
    exc.refresh_from_db()
    assert exc.status == "open" and exc.ignored_until is None


@pytest.mark.parametrize("until", ["tomorrow", "2026-12-01T10:00:00", "2001-01-01T00:00:00Z", 17])
def test_ignore_refuses_a_bad_until(api, exc, until):
    r = api.post(f"/api/v1/exceptions/{exc.pk}/ignore", {"until": until}, format="json")
    assert r.status_code == 400 and "until" in r.json()
    exc.refresh_from_db()
    assert exc.status == "open"


def test_reopen_starts_a_new_opening_that_is_not_a_regression(api, exc):
    with time_machine.travel(timezone.now() - dt.timedelta(hours=1)):
        api.post(f"/api/v1/exceptions/{exc.pk}/resolve")
    r = api.post(f"/api/v1/exceptions/{exc.pk}/reopen")
    assert r.status_code == 200
    doc = r.json()
    assert doc["status"] == "open" and doc["regressed"] is False
    assert doc["resolved_at"] is None and doc["acknowledged_at"] is None
    openings = list(ExceptionOpening.objects.filter(exception=exc).order_by("opened_at"))
    assert len(openings) == 2
    assert openings[0].closed_at is not None and openings[0].resolved_at is not None
    assert openings[1].closed_at is None and openings[1].regressed is False
    assert AuditEntry.objects.filter(action="exception.reopen").count() == 1


def test_the_sla_clock_counts_business_time(api, integration, contoso):
    contoso.business_hours = {"days": ["mon", "tue", "wed", "thu", "fri"], "start": "08:00", "end": "18:00"}
    contoso.save()
    f.make_clock_objective(contoso, "acknowledge", "P1", 30)
    f.make_clock_objective(contoso, "resolve", "P1", 480)
    chicago = contoso.tzinfo
    opened = dt.datetime(2026, 11, 27, 17, 0, tzinfo=chicago)  # Friday 17:00
    e = f.make_exception(integration, priority="P1", opened_at=opened)
    with time_machine.travel(dt.datetime(2026, 11, 28, 12, 0, tzinfo=chicago), tick=False):  # Saturday
        clock = api.get(f"/api/v1/exceptions/{e.pk}").json()["sla"]
    assert clock["acknowledge"]["due"] == "2026-11-27T23:30:00.000000Z"  # 17:30 Chicago
    assert clock["acknowledge"]["breached"] is True
    assert clock["acknowledge"]["left_business_seconds"] == -30 * 60
    # 480 business minutes: 1 h on Friday, 7 h on Monday -> Monday 15:00 Chicago.
    assert clock["resolve"]["due"] == "2026-11-30T21:00:00.000000Z"
    assert clock["resolve"]["left_business_seconds"] == 7 * 3600
    assert clock["resolve"]["breached"] is False


def test_a_plan_objective_is_replaced_by_the_tenants_own(api, integration, contoso, northwind):
    from sla.models import Plan

    plan = Plan.objects.create(partner=northwind, name="gold")
    contoso.plan = plan
    contoso.save()
    f.make_clock_objective(None, "acknowledge", "P2", 30, plan=plan)
    f.make_clock_objective(None, "resolve", "P2", 480, plan=plan)
    f.make_clock_objective(contoso, "acknowledge", "P2", 60)
    opened = dt.datetime(2026, 11, 26, 10, 0, tzinfo=dt.UTC)
    e = f.make_exception(integration, priority="P2", opened_at=opened)
    with time_machine.travel(opened + dt.timedelta(minutes=10), tick=False):
        clock = api.get(f"/api/v1/exceptions/{e.pk}").json()["sla"]
    assert clock["acknowledge"]["within_business_minutes"] == 60
    assert clock["acknowledge"]["left_business_seconds"] == 50 * 60
    assert clock["resolve"]["within_business_minutes"] == 480


# The list itself, plus the key's request count (opsconsole/throttling.py: one
# upsert, in a savepoint inside the test's transaction) and the host's branding
# lookup in the database cache.
LIST_QUERIES = 12 + 7


def test_list_query_count_does_not_grow_with_page_size(api, integration, django_assert_max_num_queries):
    for i in range(30):
        e = f.make_exception(integration, priority=f"P{i % 4 + 1}", assignee=None)
        f.make_failure(e)
    with django_assert_max_num_queries(LIST_QUERIES):
        r = api.get("/api/v1/exceptions?page_size=5")
    assert len(r.json()["results"]) == 5
    with django_assert_max_num_queries(LIST_QUERIES):
        r = api.get("/api/v1/exceptions?page_size=30")
    assert len(r.json()["results"]) == 30


def test_a_customer_gets_403_on_actions_of_their_own_tenant_and_404_elsewhere(as_user, exc, northwind, fabrikam):
    viewer = f.make_user(northwind, Role.CUSTOMER_APPROVER, tenants=[exc.tenant])
    other = f.make_exception(f.make_integration(fabrikam, "payroll"))
    api = as_user(viewer)
    assert api.post(f"/api/v1/exceptions/{exc.pk}/acknowledge").status_code == 403
    assert api.post(f"/api/v1/exceptions/{other.pk}/acknowledge").status_code == 404
    exc.refresh_from_db()
    assert exc.status == "open"


def test_left_out_error_code_and_class_are_null(api, integration):
    e = f.make_exception(integration, error_code="", error_class="", grouped_by="message")
    f.make_failure(e, operation="")
    doc = api.get(f"/api/v1/exceptions/{e.pk}").json()
    assert doc["error_code"] is None and doc["error_class"] is None and doc["grouped_by"] == "message"
    occ = api.get(f"/api/v1/exceptions/{e.pk}/occurrences").json()["results"][0]
    assert occ["operation"] is None and occ["error_code"] is None


def test_pages_run_open_first_then_the_rest_across_the_boundary(api, integration, django_assert_max_num_queries):
    now = timezone.now()
    made = []
    for i, (status, priority) in enumerate(
        [("resolved", "P1"), ("open", "P3"), ("ignored", "P2"), ("acknowledged", "P1"), ("open", "P1")]
    ):
        made.append(
            f.make_exception(integration, status=status, priority=priority, opened_at=now - dt.timedelta(hours=i))
        )
    expected = [made[4].pk, made[3].pk, made[1].pk, made[0].pk, made[2].pk]
    seen = []
    for page in (1, 2, 3):
        with django_assert_max_num_queries(LIST_QUERIES):
            r = api.get(f"/api/v1/exceptions?page_size=2&page={page}")
        assert r.status_code == 200 and r.json()["count"] == 5
        seen += [d["id"] for d in r.json()["results"]]
    assert seen == expected
    html_ids = [d["id"] for d in api.get("/api/v1/exceptions?status=all&page_size=10").json()["results"]]
    assert html_ids == expected
