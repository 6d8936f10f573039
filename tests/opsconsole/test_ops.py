import pytest


@pytest.mark.django_db
def test_healthz_reports_database_and_queue(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok", "queue": "ok"}


@pytest.mark.django_db
def test_metrics_is_prometheus_text(client):
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")
    body = response.content.decode()
    assert 'opsconsole_open_exceptions{priority="P1"} 0' in body
    assert "# TYPE opsconsole_queue_depth gauge" in body


@pytest.mark.django_db
def test_schema_is_openapi_3(client):
    response = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    assert response.json()["openapi"].startswith("3.")


def test_home_requires_login(client, db):
    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"].startswith("/login/")


def test_home_lists_the_users_tenants_only(client, support, contoso, integration, globex):
    client.force_login(support)
    response = client.get("/")
    assert response.status_code == 200
    assert b"Contoso Consulting" in response.content
    assert b"Time and expense to NetSuite" in response.content
    assert b"Globex" not in response.content


def test_a_tenant_of_another_partner_is_a_404(client, outsider, contoso):
    client.force_login(outsider)
    assert client.get("/t/contoso/").status_code == 404


@pytest.mark.django_db
def test_api_docs_page_loads_its_assets_locally(client):
    response = client.get("/api/docs/")
    assert response.status_code == 200
    body = response.content.decode()
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/" in body
    assert "cdn" not in body.lower()


def test_the_schema_builds_without_warnings():
    from django.core.management import call_command

    call_command("spectacular", "--fail-on-warn", "--file", "/dev/null")
