"""Who may read the SLA and the trends (contract sections 1 and 2), and the
400s that name the bad parameter."""

import pytest

from opsconsole.roles import Role
from tests import factories as f

SLA = "/api/v1/sla?tenant={}&period=2026-11"
TRENDS = "/api/v1/trends?tenant={}&from=2026-11-01&to=2026-11-08&bucket=week"
URLS = [SLA, TRENDS]


@pytest.fixture
def tenants(contoso, fabrikam, globex, daily):
    return contoso, fabrikam, globex


@pytest.mark.parametrize("url", URLS)
@pytest.mark.parametrize("role", [Role.PARTNER_ADMIN, Role.MANAGER, Role.SUPPORT])
def test_partner_staff_see_every_tenant_of_their_partner(tenants, northwind, as_user, url, role):
    client = as_user(f.make_user(northwind, role))
    for slug in ("contoso", "fabrikam"):
        assert client.get(url.format(slug)).status_code == 200


@pytest.mark.parametrize("url", URLS)
@pytest.mark.parametrize("role", [Role.CUSTOMER_APPROVER, Role.CUSTOMER_VIEWER])
def test_customers_see_only_their_tenants(tenants, northwind, contoso, as_user, url, role):
    client = as_user(f.make_user(northwind, role, tenants=[contoso]))
    assert client.get(url.format("contoso")).status_code == 200
    assert client.get(url.format("fabrikam")).status_code == 404


@pytest.mark.parametrize("url", URLS)
def test_another_partners_tenant_and_unknown_tenants_are_404(tenants, outsider, support, as_user, url):
    assert as_user(support).get(url.format("globex")).status_code == 404
    assert as_user(outsider).get(url.format("contoso")).status_code == 404
    response = as_user(support).get(url.format("no-such-tenant"))
    assert response.status_code == 404
    assert "detail" in response.json()


@pytest.mark.parametrize("url", URLS)
def test_a_read_key_reads_its_own_tenant_only(tenants, contoso, fabrikam, url):
    client = f.client_with(f.make_key(contoso, ["read"]))
    assert client.get(url.format("contoso")).status_code == 200
    assert client.get(url.format("fabrikam")).status_code == 404


@pytest.mark.parametrize("url", URLS)
def test_an_ingest_key_is_refused_and_anonymous_callers_are_401(tenants, contoso, url):
    assert f.client_with(f.make_key(contoso, ["ingest"])).get(url.format("contoso")).status_code == 403
    assert f.client_with().get(url.format("contoso")).status_code == 401


def test_a_browser_session_reads_the_sla(tenants, client, support):
    client.force_login(support)
    assert client.get(SLA.format("contoso")).status_code == 200


@pytest.mark.parametrize(
    ("query", "param"),
    [
        ("period=2026-11", "tenant"),
        ("tenant=contoso", "period"),
        ("tenant=contoso&period=2026-13", "period"),
        ("tenant=contoso&period=26-11", "period"),
        ("tenant=contoso&period=2026-11&from=2026-11-01", "period"),
        ("tenant=contoso&from=2026-11-01", "to"),
        ("tenant=contoso&to=2026-11-01", "from"),
        ("tenant=contoso&from=2026-02-30&to=2026-03-01", "from"),
        ("tenant=contoso&from=2026-11-05&to=2026-11-01", "to"),
        ("tenant=contoso&from=0000-01-01&to=2026-11-01", "from"),
        ("tenant=contoso&from=2026-11-01&to=2026-11-0%00", "to"),
    ],
)
def test_malformed_sla_parameters_are_400_naming_the_parameter(tenants, support, as_user, query, param):
    response = as_user(support).get(f"/api/v1/sla?{query}")
    assert response.status_code == 400
    assert param in response.json()


@pytest.mark.parametrize(
    ("query", "param"),
    [
        ("from=2026-11-01&to=2026-11-08", "tenant"),
        ("tenant=contoso&to=2026-11-08", "from"),
        ("tenant=contoso&from=2026-11-01", "to"),
        ("tenant=contoso&from=2026-11-01&to=2026-11-08&bucket=month", "bucket"),
        ("tenant=contoso&from=2026-11-01&to=2046-11-08", "to"),
    ],
)
def test_malformed_trends_parameters_are_400_naming_the_parameter(tenants, support, as_user, query, param):
    response = as_user(support).get(f"/api/v1/trends?{query}")
    assert response.status_code == 400
    assert param in response.json()


def test_the_schema_documents_both_endpoints(client):
    response = client.get("/api/schema/")
    assert response.status_code == 200
    text = response.content.decode()
    assert "/api/v1/sla" in text and "/api/v1/trends" in text
    assert "error_budget" in text and "open_at_end" in text
