"""The main navigation per role, the tenant switcher and the password page."""

import re

import pytest
from django.test import Client

from opsconsole.models import AuditEntry


def browser(user):
    client = Client()
    client.force_login(user)
    return client


def nav_links(html):
    # The main navigation and the user menu (where staff find the API docs).
    nav = html[html.index('<nav class="mainnav"') : html.index("</header>")]
    return dict((text.strip(), href) for href, text in re.findall(r'<a href="([^"]+)"[^>]*>([^<]+)</a>', nav))


@pytest.mark.parametrize(
    "persona, expected, absent",
    [
        (
            "partner_admin",
            {"Integrations", "Inbox", "SLA", "Trends", "Reports", "Alerts", "Approvals", "Governance", "API docs"},
            {"Portal"},
        ),
        (
            "manager",
            {"Integrations", "Inbox", "SLA", "Trends", "Reports", "Alerts", "Approvals", "Governance", "API docs"},
            {"Portal"},
        ),
        (
            "support",
            {"Integrations", "Inbox", "SLA", "Trends", "Reports", "Alerts", "API docs"},
            {"Governance", "Approvals", "Portal"},
        ),
        (
            "customer_approver",
            {"Portal", "Inbox", "SLA", "Trends", "Reports", "Alerts", "Approvals"},
            {"Governance", "API docs", "Integrations"},
        ),
        (
            "customer_viewer",
            {"Portal", "Inbox", "SLA", "Trends", "Reports", "Alerts"},
            {"Governance", "API docs", "Integrations", "Approvals"},
        ),
    ],
)
def test_each_role_sees_the_sections_it_may_open(request, persona, expected, absent, contoso, fabrikam):
    client = browser(request.getfixturevalue(persona))
    links = nav_links(client.get("/inbox/").content.decode())
    assert expected <= set(links), links
    assert not (absent & set(links)), links
    for name, href in links.items():
        assert client.get(href).status_code == 200, (name, href)


def test_a_customer_sees_only_their_tenant_and_cannot_switch_past_it(customer_viewer, contoso, fabrikam):
    client = browser(customer_viewer)
    html = client.get("/portal/").content.decode()
    assert 'id="tenant-switch"' not in html  # one tenant: nothing to switch to
    assert nav_links(html)["SLA"] == f"/t/{contoso.slug}/sla/"
    assert client.get(f"/switch/?tenant={fabrikam.slug}&kind=sla-page").status_code == 404
    response = client.get(f"/switch/?tenant={contoso.slug}&kind=sla-page")
    assert response["Location"] == f"/t/{contoso.slug}/sla/"
    assert (
        client.get(f"/switch/?tenant={contoso.slug}&kind=integrations-exception")["Location"]
        == f"/t/{contoso.slug}/portal/"
    )


def test_the_switcher_keeps_the_kind_of_page(support, contoso, fabrikam):
    client = browser(support)
    page = client.get(f"/t/{contoso.slug}/sla/").content.decode()
    assert 'id="tenant-switch"' in page and 'name="kind" value="sla-page"' in page
    assert f'<option value="{contoso.slug}" selected>' in page
    response = client.get(f"/switch/?tenant={fabrikam.slug}&kind=sla-page")
    assert response.status_code == 302 and response["Location"] == f"/t/{fabrikam.slug}/sla/"
    assert client.get(f"/switch/?tenant={fabrikam.slug}&kind=sla-trends")["Location"] == f"/t/{fabrikam.slug}/trends/"
    assert client.get(f"/switch/?tenant={fabrikam.slug}&kind=reports-html")["Location"] == f"/reports/{fabrikam.slug}/"
    assert (
        client.get(f"/switch/?tenant={fabrikam.slug}&kind=integrations-inbox")["Location"]
        == f"/inbox/?tenant={fabrikam.slug}"
    )
    assert (
        client.get(f"/switch/?tenant={fabrikam.slug}&kind=integrations-exception")["Location"] == f"/t/{fabrikam.slug}/"
    )
    # The chosen tenant is remembered: the SLA link of a page without a tenant opens it.
    assert nav_links(client.get("/inbox/").content.decode())["SLA"] == f"/t/{fabrikam.slug}/sla/"


def test_the_switcher_is_a_wall(support, outsider, globex):
    assert browser(support).get(f"/switch/?tenant={globex.slug}&kind=sla-page").status_code == 404
    assert browser(support).get("/switch/").status_code == 404


def test_a_person_changes_their_own_password(support):
    support.set_password("old-password-123")
    support.save()
    client = browser(support)
    page = client.get("/account/password/").content.decode()
    assert "Change password" in page and 'href="/account/password/"' in page  # in the user menu too
    bad = client.post("/account/password/", {"old_password": "wrong", "new_password1": "x", "new_password2": "x"})
    assert bad.status_code == 200 and "Your old password was entered incorrectly" in bad.content.decode()
    support.refresh_from_db()
    assert support.check_password("old-password-123")
    done = client.post(
        "/account/password/",
        {
            "old_password": "old-password-123",
            "new_password1": "a-new-Passphrase-9",
            "new_password2": "a-new-Passphrase-9",
        },
        follow=True,
    )
    assert done.status_code == 200 and "Your password was changed." in done.content.decode()
    support.refresh_from_db()
    assert support.check_password("a-new-Passphrase-9")
    assert AuditEntry.objects.filter(action="user.password_changed", actor=support.email).exists()
    assert client.get("/inbox/").status_code == 200  # still signed in here


def test_the_password_page_needs_a_sign_in():
    response = Client().get("/account/password/")
    assert response.status_code == 302 and response["Location"].startswith("/login/")
