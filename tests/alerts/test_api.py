"""``GET /api/v1/alerts`` (contract 4.7): its shape and its permission matrix."""

import pytest
from django.utils import timezone

from alerts import services
from alerts.models import AlertDelivery, DeliveryAttempt, Notice
from tests import factories as f

KEYS = {"id", "event", "tenant", "integration", "state", "opened_at", "resolved_at", "summary", "deliveries"}
DELIVERY_KEYS = {"channel", "attempt", "at", "status", "error"}


@pytest.fixture
def alerts(contoso, fabrikam):
    integration = f.make_integration(contoso, "time-expense-posting")
    down = services.open_alert(
        contoso, "integration.down", "integration:x", "integration:x:1", "Down", integration=integration
    )
    breached = services.open_alert(fabrikam, "sla.breached", "breach:y", "breach:y", "Spent")
    services.resolve(breached, "sla.breached", "Within budget again")
    from tests.alerts.conftest import make_channel

    channel = make_channel(contoso, url="https://hooks.example/ops")
    notice = Notice.objects.get(alert=down)
    delivery = AlertDelivery.objects.create(notice=notice, channel=channel, channel_kind="webhook")
    now = timezone.now()
    DeliveryAttempt.objects.create(delivery=delivery, attempt=1, at=now, status_code=500, error="HTTP 500: oops")
    DeliveryAttempt.objects.create(delivery=delivery, attempt=2, at=now, status_code=200, succeeded=True)
    return {"down": down, "breached": breached}


def test_the_list_has_the_shape_of_the_contract_newest_first(as_user, support, alerts):
    response = as_user(support).get("/api/v1/alerts")
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 2 and set(body) == {"count", "next", "previous", "results"}
    newest, oldest = body["results"]
    assert newest["id"] == alerts["breached"].pk and oldest["id"] == alerts["down"].pk
    assert KEYS <= set(oldest)
    assert oldest["event"] == "integration.down" and oldest["state"] == "firing" and oldest["resolved_at"] is None
    assert oldest["tenant"] == "contoso" and oldest["integration"] == "time-expense-posting"
    assert [{k: d[k] for k in DELIVERY_KEYS - {"at"}} for d in oldest["deliveries"]] == [
        {"channel": "webhook", "attempt": 1, "status": 500, "error": "HTTP 500: oops"},
        {"channel": "webhook", "attempt": 2, "status": 200, "error": None},
    ]
    assert oldest["deliveries"][0]["at"].endswith("Z") and oldest["opened_at"].endswith("Z")
    assert newest["integration"] is None and newest["state"] == "resolved" and newest["resolved_at"].endswith("Z")


def test_filters_by_tenant_event_and_state(as_user, support, alerts):
    client = as_user(support)
    assert [a["tenant"] for a in client.get("/api/v1/alerts?tenant=fabrikam").json()["results"]] == ["fabrikam"]
    assert client.get("/api/v1/alerts?event=integration.down").json()["count"] == 1
    assert client.get("/api/v1/alerts?state=resolved").json()["results"][0]["event"] == "sla.breached"
    assert client.get("/api/v1/alerts?state=firing&event=sla.breached").json()["count"] == 0


@pytest.mark.parametrize(
    ("query", "field"), [("event=integration.exploded", "event"), ("state=open", "state"), ("tenant=a%00b", "tenant")]
)
def test_bad_filters_are_400_naming_the_parameter(as_user, support, alerts, query, field):
    response = as_user(support).get(f"/api/v1/alerts?{query}")
    assert response.status_code == 400 and field in response.json()


@pytest.mark.parametrize(
    ("who", "status", "tenants"),
    [
        ("partner_admin", 200, {"contoso", "fabrikam"}),
        ("manager", 200, {"contoso", "fabrikam"}),
        ("support", 200, {"contoso", "fabrikam"}),
        ("customer_approver", 200, {"contoso"}),
        ("customer_viewer", 200, {"contoso"}),
        ("read_key", 200, {"contoso"}),
        ("ingest_key", 403, None),
        ("outsider", 200, set()),
        ("anonymous", 401, None),
    ],
)
def test_who_sees_which_alerts(request, as_user, alerts, who, status, tenants):
    if who == "anonymous":
        client = f.client_with(None)
    elif who.endswith("_key"):
        client = f.client_with(request.getfixturevalue(who))
    else:
        client = as_user(request.getfixturevalue(who))
    response = client.get("/api/v1/alerts")
    assert response.status_code == status
    if tenants is not None:
        assert {a["tenant"] for a in response.json()["results"]} == tenants


@pytest.mark.parametrize(
    ("who", "tenant", "status"),
    [
        ("support", "fabrikam", 200),
        ("customer_viewer", "fabrikam", 404),
        ("read_key", "fabrikam", 404),
        ("outsider", "contoso", 404),
        ("support", "globex", 404),
        ("support", "nope", 404),
    ],
)
def test_a_tenant_out_of_reach_is_a_404(request, as_user, alerts, globex, who, tenant, status):
    user = request.getfixturevalue(who)
    client = f.client_with(user) if who.endswith("_key") else as_user(user)
    assert client.get(f"/api/v1/alerts?tenant={tenant}").status_code == status


def test_the_query_count_does_not_grow_with_the_alerts(
    as_user, support, contoso, alerts, django_assert_max_num_queries
):
    client = as_user(support)
    for n in range(10):
        services.open_alert(contoso, "sla.burn_rate", f"burn:{n}", f"burn:{n}", f"Burn {n}")
    # 10 for the list, 8 for the token's request count (one upsert in a savepoint)
    # and the host's branding lookup in the database cache.
    with django_assert_max_num_queries(10 + 8):
        assert client.get("/api/v1/alerts").json()["count"] == 12


@pytest.mark.parametrize(
    ("who", "status"),
    [("support", 200), ("customer_viewer", 200), ("outsider", 404)],
)
def test_alert_pages_follow_the_same_walls(request, client, alerts, who, status):
    client.force_login(request.getfixturevalue(who))
    assert client.get(f"/alerts/{alerts['down'].pk}/").status_code == status
    assert client.get("/t/contoso/alerts/").status_code == status
    assert client.get("/alerts/").status_code == 200
    assert client.get("/alerts/99999999/").status_code == 404
