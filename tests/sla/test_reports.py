"""Reports of a tenant and month (contract 5): the same figures as the SLA
API, issued and kept for closed months, provisional for the current one."""

import csv
import io
import logging

import pytest
import time_machine
from pypdf import PdfReader

from opsconsole.models import AuditEntry
from opsconsole.roles import Role
from sla.models import IssuedReport
from tests import factories as f
from tests.sla.conftest import utc
from tests.sla.reports_support import html_text, pdf_all_bytes, pdf_text

DEC_10 = utc(2026, 12, 10)
NOV = "/reports/contoso/2026-11"


def sla_api(client, period="2026-11"):
    response = client.get(f"/api/v1/sla?tenant=contoso&period={period}")
    assert response.status_code == 200, response.content
    return response.json()["objectives"]


@pytest.fixture
def staff_client(client, support):
    client.force_login(support)
    return client


@time_machine.travel(DEC_10, tick=False)
def test_the_pdf_shows_the_tenant_the_product_and_the_attained_figures_of_the_api(
    november, staff_client, as_user, support, tmp_path
):
    response = staff_client.get(f"{NOV}.pdf")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    text = pdf_text(response.content, tmp_path)
    assert "Contoso Consulting" in text
    assert "Northwind Managed Integrations" in text
    for row in sla_api(as_user(support)):
        assert f"{row['attained']:.4f} %" in text, row
    meta = PdfReader(io.BytesIO(response.content)).metadata
    assert meta.title.startswith("Contoso Consulting · Service report November 2026")
    assert meta.author == meta.producer == "Northwind Managed Integrations"


@time_machine.travel(DEC_10, tick=False)
def test_the_csv_has_the_contract_header_and_the_rows_of_the_api(november, staff_client, as_user, support):
    response = staff_client.get(f"{NOV}.csv")
    assert response.status_code == 200
    assert 'filename="northwind-managed-integrations-contoso-2026-11-v1.csv"' in response["Content-Disposition"]
    lines = list(csv.reader(io.StringIO(response.content.decode("utf-8"))))
    assert ",".join(lines[0]) == (
        "objective,integration,priority,target,threshold_minutes,within_business_minutes,"
        "good,total,attained,met,allowed,spent,remaining_pct"
    )

    def cell(v):
        if v is None:
            return ""
        if isinstance(v, bool):
            return "true" if v else "false"
        return v

    expected = []
    for row in sla_api(as_user(support)):
        b = row["error_budget"]
        values = [row[k] for k in lines[0][:10]] + [b["allowed"], b["spent"], b["remaining_pct"]]
        expected.append([cell(v) for v in values])
    got = [[float(c) if c and c[0].isdigit() or c[:1] == "-" else c for c in line] for line in lines[1:]]
    want = [[float(c) if isinstance(c, int | float) else c for c in line] for line in expected]
    assert sorted(got, key=repr) == sorted(want, key=repr)
    assert [line[1] for line in lines[1:7]] == [""] * 6  # pooled and tenant-wide rows first


@time_machine.travel(DEC_10, tick=False)
def test_a_closed_month_is_served_byte_for_byte_after_new_data(november, daily, staff_client, tmp_path):
    pdf = staff_client.get(f"{NOV}.pdf").content
    csv_bytes = staff_client.get(f"{NOV}.csv").content
    html = html_text(staff_client.get(f"{NOV}/"))
    # A late backfill: the failed run of Nov 6 turns out to have succeeded, and new runs arrive.
    f.make_run_at(daily, utc(2026, 11, 6, 6), "succeeded", run_id="d-1106", succeeded=50)
    f.make_run_at(daily, utc(2026, 11, 10, 6), "failed", run_id="late-1110", failed=9)
    assert staff_client.get(f"{NOV}.pdf").content == pdf
    assert staff_client.get(f"{NOV}.csv").content == csv_bytes
    assert "93.7500 %" in html and "93.7500 %" in html_text(staff_client.get(f"{NOV}/"))
    assert IssuedReport.objects.filter(tenant__slug="contoso", period="2026-11").count() == 1


@time_machine.travel(DEC_10, tick=False)
def test_a_reissue_keeps_both_versions_and_is_audited(november, daily, staff_client, as_user, manager, support):
    v1_csv = staff_client.get(f"{NOV}.csv").content
    f.make_run_at(daily, utc(2026, 11, 10, 6), "succeeded", run_id="late-1110", succeeded=100)

    response = as_user(manager).post("/api/v1/reports/contoso/2026-11/reissue")
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["version"] == 2 and body["issued_by"] == "max@northwind.example"
    assert body["period"] == "2026-11" and body["tenant"] == "contoso"

    v2_csv = staff_client.get(f"{NOV}.csv").content
    assert v2_csv != v1_csv
    assert staff_client.get(f"{NOV}.csv?version=1").content == v1_csv
    assert staff_client.get(f"{NOV}.csv?version=2").content == v2_csv
    assert b"31,33" in v2_csv  # run_success: the late run counted in version 2 only
    listing = as_user(support).get("/api/v1/reports?tenant=contoso").json()["results"]
    assert [(e["period"], e["version"]) for e in listing] == [("2026-11", 2), ("2026-11", 1)]
    assert listing[1]["issued_by"] == "ana@northwind.example"
    entry = AuditEntry.objects.get(action="report.reissue")
    assert entry.actor == "max@northwind.example" and entry.data["version"] == 2


@time_machine.travel(DEC_10, tick=False)
def test_only_partner_admins_and_managers_reissue_and_never_the_current_month(
    november, as_user, support, customer_approver, partner_admin, outsider, read_key
):
    url = "/api/v1/reports/contoso/2026-11/reissue"
    assert as_user(support).post(url).status_code == 403
    assert as_user(customer_approver).post(url).status_code == 403
    assert f.client_with(read_key).post(url).status_code == 403
    assert as_user(outsider).post(url).status_code == 404
    response = as_user(partner_admin).post("/api/v1/reports/contoso/2026-12/reissue")
    assert response.status_code == 409
    assert "not closed" in response.json()["detail"]
    assert as_user(partner_admin).post("/api/v1/reports/contoso/2026-13/reissue").status_code == 400
    assert as_user(partner_admin).post("/api/v1/reports/contoso/2027-02/reissue").status_code == 404
    assert not IssuedReport.objects.exists()


@time_machine.travel(utc(2026, 11, 20), tick=False)
def test_the_current_month_is_provisional_on_every_page_and_never_stored(november, staff_client, tmp_path):
    html = staff_client.get(f"{NOV}/").content.decode()
    assert "Provisional" in html
    pdf = staff_client.get(f"{NOV}.pdf")
    assert pdf.status_code == 200
    assert "provisional" in pdf["Content-Disposition"]
    text = pdf_text(pdf.content, tmp_path)
    pages = text.split("\f")
    assert all("PROVISIONAL" in p for p in pages if p.strip())
    assert staff_client.get(f"{NOV}.csv").status_code == 200
    assert staff_client.get(f"{NOV}/?version=1").status_code == 404
    assert not IssuedReport.objects.exists()


@time_machine.travel(DEC_10, tick=False)
def test_no_customer_facing_byte_names_the_console(november, client, customer_viewer, as_user):
    client.force_login(customer_viewer)
    pages = [client.get(f"{NOV}/"), client.get("/reports/contoso/"), client.get(f"{NOV}.csv")]
    pdf = client.get(f"{NOV}.pdf")
    for response in [*pages, pdf]:
        assert response.status_code == 200
        assert b"opsconsole" not in response.content.lower()
        assert "opsconsole" not in str(response.headers).lower()
    assert b"opsconsole" not in pdf_all_bytes(pdf.content).lower()
    meta = PdfReader(io.BytesIO(pdf.content)).metadata
    assert "opsconsole" not in repr(dict(meta)).lower()


@time_machine.travel(DEC_10, tick=False)
def test_a_customer_of_one_tenant_gets_404_for_another_tenants_report(november, fabrikam, client, northwind):
    fab_viewer = f.make_user(northwind, Role.CUSTOMER_VIEWER, "v@fabrikam.example", tenants=[fabrikam])
    client.force_login(fab_viewer)
    for url in (f"{NOV}/", f"{NOV}.pdf", f"{NOV}.csv", "/reports/contoso/", "/reports/contoso/2099-99/"):
        assert client.get(url).status_code == 404, url
    assert client.get("/api/v1/reports?tenant=contoso").status_code == 404
    assert not IssuedReport.objects.exists()


@time_machine.travel(DEC_10, tick=False)
def test_reports_open_with_a_read_key_or_a_token_and_not_with_an_ingest_key(
    november, contoso, read_key, ingest_key, globex, customer_viewer
):
    auth = {"HTTP_AUTHORIZATION": f"Bearer {read_key}"}
    assert f.client_with().get(f"{NOV}.csv", **auth).status_code == 200
    assert f.client_with().get("/api/v1/reports?tenant=contoso", **auth).status_code == 200
    token = f.make_token(customer_viewer)
    assert f.client_with().get(f"{NOV}/", HTTP_AUTHORIZATION=f"Bearer {token}").status_code == 200
    ingest = {"HTTP_AUTHORIZATION": f"Bearer {ingest_key}"}
    response = f.client_with().get(f"{NOV}.csv", **ingest)
    assert response.status_code == 403 and "read" in response.json()["detail"]
    other = f.make_key(globex, ["read"])
    assert f.client_with().get(f"{NOV}.csv", HTTP_AUTHORIZATION=f"Bearer {other}").status_code == 404
    assert f.client_with().get(f"{NOV}.csv", HTTP_AUTHORIZATION="Bearer ok_nope.nope").status_code == 401
    anonymous = f.client_with().get(f"{NOV}/")
    assert anonymous.status_code == 302 and "/login/" in anonymous["Location"]


@time_machine.travel(DEC_10, tick=False)
@pytest.mark.parametrize(
    ("url", "status", "words"),
    [
        ("/reports/contoso/2026-13/", 400, "no month 13"),
        ("/reports/contoso/nov-2026.pdf", 400, "YYYY-MM"),
        ("/reports/contoso/2027-01/", 404, "not begun"),
        ("/reports/contoso/2025-01.csv", 404, "before"),
        ("/reports/contoso/2026-11/?version=7", 404, "no version 7"),
        ("/reports/contoso/2026-11.csv?version=x", 400, "whole number"),
        ("/reports/nobody/2026-11/", 404, "No such tenant"),
    ],
)
def test_bad_months_and_versions_get_a_clear_answer(november, staff_client, url, status, words):
    response = staff_client.get(url, HTTP_ACCEPT="application/json")
    assert response.status_code == status
    assert words in response.json()["detail"]


@time_machine.travel(DEC_10, tick=False)
def test_the_report_of_a_tenant_without_runs_renders_and_says_so(fabrikam, client, support, tmp_path):
    fabrikam.created = utc(2026, 10, 2)
    fabrikam.save(update_fields=["created"])
    client.force_login(support)
    html = client.get("/reports/fabrikam/2026-11/")
    assert html.status_code == 200
    assert "No runs were reported for Fabrikam Services in November 2026" in html.content.decode()
    text = pdf_text(client.get("/reports/fabrikam/2026-11.pdf").content, tmp_path)
    assert "No runs were reported" in text


@time_machine.travel(DEC_10, tick=False)
def test_hostile_worker_strings_are_escaped_in_the_page_and_literal_in_the_pdf(november, daily, staff_client, tmp_path):
    exc = f.make_exception(daily, title='<script>alert("x")</script> =HYPERLINK("http://evil")')
    exc.opened_at = utc(2026, 11, 20)
    exc.save(update_fields=["opened_at"])
    f.make_opening(daily, utc(2026, 11, 20), exception=exc, priority=exc.priority)
    html = staff_client.get(f"{NOV}/").content.decode()
    assert "<script>alert" not in html
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in html
    text = pdf_text(staff_client.get(f"{NOV}.pdf").content, tmp_path)
    assert '<script>alert("x")</script>' in text


@time_machine.travel(DEC_10, tick=False)
def test_without_chromium_the_pdf_is_a_503_and_the_renderer_comes_back(november, staff_client, monkeypatch, caplog):
    from sla.reports.renderer import renderer

    renderer.stop()
    monkeypatch.setenv("BROWSER_PATH", "/nonexistent/chromium")
    with caplog.at_level(logging.ERROR):
        response = staff_client.get(f"{NOV}.pdf")
    assert response.status_code == 503
    assert "Chromium" in response.json()["detail"]
    assert any("chart renderer failed" in r.getMessage() for r in caplog.records)
    assert not IssuedReport.objects.exists()  # nothing half-issued
    monkeypatch.delenv("BROWSER_PATH")
    assert staff_client.get(f"{NOV}.pdf").status_code == 200


@time_machine.travel(DEC_10, tick=False)
def test_downtime_intervals_add_up_to_the_timeliness_the_api_counts_as_late(
    november, contoso, daily, staff_client, as_user, support
):
    # No run on Nov 10: late from Nov 10 07:00Z (every + grace after Nov 9 06:00Z)
    # until Nov 11 06:00Z, less a maintenance window of two hours.
    f.make_window(contoso, utc(2026, 11, 10, 12), utc(2026, 11, 10, 14), [daily])
    row = next(
        r
        for r in sla_api(as_user(support))
        if r["objective"] == "timeliness" and r["integration"] == "time-expense-posting"
    )
    report = staff_client.get(f"{NOV}/")
    downtime = IssuedReport.objects.get().figures["downtime"]
    assert [(d["from"], d["to"], d["minutes"]) for d in downtime["intervals"]] == [
        ("2026-11-10 01:00 CST", "2026-11-10 06:00 CST", 300.0),
        ("2026-11-10 08:00 CST", "2026-11-11 00:00 CST", 960.0),
    ]
    assert downtime["minutes"] * 60 == row["total"] - row["good"]
    # The tenant's time with its zone's abbreviation, as on every page.
    assert "2026-11-10 08:00 CST" in report.content.decode()
