"""Who reaches the governance endpoints and pages (contract section 2):
partner admins and managers; every other role and API keys 403; a tenant
outside the caller's reach 404, before the role is looked at."""

import pytest
from django.test import Client

from tests import factories as f

API = ["/api/v1/portfolio", "/api/v1/audit.csv"]
PAGES = [
    "/governance/",
    "/governance/aging/",
    "/governance/responses/",
    "/governance/health/",
    "/governance/approvals/",
    "/governance/keys/",
    "/governance/changes/",
    "/governance/records/",
    "/governance/audit/",
]
ROLES = [
    ("partner_admin", 200),
    ("manager", 200),
    ("support", 403),
    ("customer_approver", 403),
    ("customer_viewer", 403),
]


def browser(user):
    client = Client()
    client.force_login(user)
    return client


@pytest.mark.parametrize(("persona", "status"), ROLES)
@pytest.mark.parametrize("url", API)
def test_api_by_role(request, as_user, contoso, url, persona, status):
    user = request.getfixturevalue(persona)
    response = as_user(user).get(url)
    assert response.status_code == status
    if status == 403:
        assert "detail" in response.json()


@pytest.mark.parametrize(("persona", "status"), ROLES)
@pytest.mark.parametrize("url", PAGES)
def test_pages_by_role(request, contoso, url, persona, status):
    user = request.getfixturevalue(persona)
    assert browser(user).get(url).status_code == status


@pytest.mark.parametrize("url", API)
@pytest.mark.parametrize("fixture", ["read_key", "ingest_key"])
def test_api_keys_are_refused(request, url, fixture):
    response = f.client_with(request.getfixturevalue(fixture)).get(url)
    assert response.status_code == 403
    assert "detail" in response.json()


@pytest.mark.parametrize("url", API)
def test_anonymous_callers_are_401(client, contoso, url):
    assert client.get(url).status_code == 401


@pytest.mark.parametrize("url", PAGES)
def test_anonymous_visitors_are_sent_to_sign_in(client, contoso, url):
    response = client.get(url)
    assert response.status_code == 302 and response["Location"].startswith("/login/")


@pytest.mark.parametrize("url", API + PAGES)
@pytest.mark.parametrize("role", ["manager", "support", "customer_viewer"])
def test_a_tenant_of_another_partner_is_404_whatever_the_role(as_user, southwind, globex, contoso, url, role):
    """Southwind's users asking for northwind's tenant: 404 before 403."""
    stranger = f.make_user(southwind, role, f"{role}@southwind.example", tenants=[globex] if "customer" in role else ())
    query = "?tenant=contoso"
    if url.startswith("/api/"):
        response = as_user(stranger).get(url + query)
    else:
        response = browser(stranger).get(url + query)
    assert response.status_code == 404


@pytest.mark.parametrize("url", API + PAGES)
def test_a_customer_naming_a_tenant_not_theirs_is_404(as_user, customer_viewer, fabrikam, url):
    if url.startswith("/api/"):
        response = as_user(customer_viewer).get(url + "?tenant=fabrikam")
    else:
        response = browser(customer_viewer).get(url + "?tenant=fabrikam")
    assert response.status_code == 404


def test_the_governance_link_shows_for_managers_and_partner_admins_only(
    contoso, manager, partner_admin, support, customer_approver
):
    for user, shown in ((manager, True), (partner_admin, True), (support, False), (customer_approver, False)):
        page = browser(user).get("/").content.decode()
        assert ('href="/governance/"' in page) is shown, user.role
