"""White label before and after sign-in: a partner's host name gets its
branding from the login page on, error pages are in the console's layout,
the favicon is the partner's, the admin does not exist there."""

import base64
import re

import pytest
from django.test import Client, RequestFactory

from opsconsole import errors
from opsconsole.lib.contrast import AA, contrast
from opsconsole.models import Hostname
from tests import factories as f

HOST = "ops.northwind.example"


@pytest.fixture(autouse=True)
def any_host(settings):
    settings.ALLOWED_HOSTS = ["*"]


@pytest.fixture
def partner_host(northwind):
    northwind.primary_color = "#FFE066"  # light: text on it must be dark
    northwind.support_email = "support@northwind.example"
    northwind.save()
    Hostname.objects.create(partner=northwind, name=HOST)
    return HOST


def test_the_login_page_on_a_partner_host_carries_the_partners_brand(client, partner_host):
    response = client.get("/login/", HTTP_HOST=partner_host)
    html = response.content.decode()
    assert response.status_code == 200
    assert "<title>Sign in · Northwind Managed Integrations</title>" in html
    assert "support@northwind.example" in html
    assert "opsconsole" not in html.lower()
    assert "--brand-primary: #FFE066" in html
    on_primary = re.search(r"--brand-on-primary: (#[0-9A-F]{6})", html).group(1)
    assert contrast(on_primary, "#FFE066") >= AA


def test_the_login_page_elsewhere_carries_the_consoles_own_name(client, partner_host):
    html = client.get("/login/", HTTP_HOST="console.internal").content.decode()
    assert "Northwind" not in html
    assert "<title>Sign in · opsconsole</title>" in html


def test_the_admin_does_not_exist_on_a_partner_host(client, partner_host):
    response = client.get("/admin/", HTTP_HOST=partner_host)
    assert response.status_code == 404
    assert "Northwind Managed Integrations" in response.content.decode()
    assert client.get("/admin/login/", HTTP_HOST=partner_host).status_code == 404
    assert client.get("/admin/", HTTP_HOST="console.internal").status_code == 302


def test_a_missing_page_on_a_partner_host_is_a_branded_page_in_the_layout(client, partner_host):
    response = client.get("/no/such/page/", HTTP_HOST=partner_host)
    html = response.content.decode()
    assert response.status_code == 404
    assert "<title>Page not found · Northwind Managed Integrations</title>" in html
    assert 'class="topbar"' in html
    assert "support@northwind.example" in html


def test_a_refused_action_is_a_branded_403_page(partner_host, contoso, customer_viewer):
    exc = f.make_exception(f.make_integration(contoso))
    client = Client()
    client.force_login(customer_viewer)
    response = client.post(f"/exceptions/{exc.pk}/acknowledge/", HTTP_HOST=partner_host)
    html = response.content.decode()
    assert response.status_code == 403
    assert "<title>Not allowed · Northwind Managed Integrations</title>" in html
    assert "viewer@contoso.example" in html  # the signed-in layout, with its navigation


def test_the_400_page_is_in_the_layout(northwind):
    request = RequestFactory().get("/x/")
    request.partner = northwind
    response = errors.handler400(request)
    assert response.status_code == 400
    assert "<title>Bad request · Northwind Managed Integrations</title>" in response.content.decode()


def test_the_500_page_renders_from_the_brand_alone_without_touching_the_database(northwind, django_assert_num_queries):
    request = RequestFactory().get("/t/contoso/")
    request.partner = northwind
    request.host_partner = None
    with django_assert_num_queries(0):
        response = errors.handler500(request)
    html = response.content.decode()
    assert response.status_code == 500
    assert "<title>Something went wrong · Northwind Managed Integrations</title>" in html
    assert 'class="topbar"' in html


def test_the_500_page_falls_back_to_a_bare_page_when_the_layout_cannot_render(northwind, settings):
    settings.TEMPLATES = [{**settings.TEMPLATES[0], "DIRS": [], "APP_DIRS": False}]
    request = RequestFactory().get("/")
    request.partner = northwind
    response = errors.handler500(request)
    assert response.status_code == 500
    assert "Something went wrong" in response.content.decode()
    assert "Northwind Managed Integrations" in response.content.decode()


def test_the_favicon_is_the_partners_initial_on_its_colour(client, partner_host):
    page = client.get("/login/", HTTP_HOST=partner_host).content.decode()
    href = re.search(r'<link rel="icon" href="([^"]+)"', page).group(1)
    assert href.startswith("/favicon.ico?v=")
    icon = client.get(href, HTTP_HOST=partner_host)
    assert icon.status_code == 200
    assert icon["Content-Type"] == "image/svg+xml"
    svg = icon.content.decode()
    assert 'fill="#FFE066"' in svg
    assert ">N</text>" in svg
    assert "Host" in icon["Vary"]


def test_a_square_logo_is_the_favicon(client, partner_host, northwind):
    svg = b'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32"><rect width="32" height="32"/></svg>'
    northwind.logo = "data:image/svg+xml;base64," + base64.b64encode(svg).decode()
    northwind.save()
    icon = client.get("/favicon.ico", HTTP_HOST=partner_host)
    assert icon.content == svg


def test_a_signed_in_users_pages_carry_their_partners_brand_on_any_host(contoso, customer_viewer):
    client = Client()
    client.force_login(customer_viewer)
    html = client.get("/portal/", HTTP_HOST="localhost").content.decode()
    assert "Northwind Managed Integrations" in html


def test_a_host_name_moved_to_a_new_partner_is_branded_after_its_old_partner_is_gone(client, partner_host, northwind):
    assert "Northwind" in client.get("/login/", HTTP_HOST=partner_host).content.decode()
    northwind.delete()
    other = f.make_partner("eastwind", product_name="Eastwind Cloud Ops")
    Hostname.objects.create(partner=other, name=partner_host)
    assert "Eastwind Cloud Ops" in client.get("/login/", HTTP_HOST=partner_host).content.decode()


def test_a_form_sent_without_its_token_gets_the_branded_403_page(partner_host):
    client = Client(enforce_csrf_checks=True)
    response = client.post("/login/", {"username": "a@b.example", "password": "x"}, HTTP_HOST=partner_host)
    html = response.content.decode()
    assert response.status_code == 403
    assert "<title>Not allowed · Northwind Managed Integrations</title>" in html
    assert "reload the page" in html
