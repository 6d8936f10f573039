"""What the governance pages show: heatmap colours and sorting, system-of-
record flags in words, late and down integrations, approvals waiting, keys
unused for 90 days, response trends (or "no data"), hostile names escaped."""

import re
from datetime import timedelta

import pytest
import time_machine
from django.test import Client
from django.utils import timezone

from governance.heatmap import heatmap
from governance.records import matrix
from integrations.keys import create_key
from integrations.models import ApiKey, Integration, System
from integrations.replays import request_replay
from tests import factories as f
from tests.governance.conftest import utc

HOSTILE = "<img src=x onerror=alert(1)>"


def page(user, url):
    client = Client()
    client.force_login(user)
    response = client.get(url)
    assert response.status_code == 200, response.content[:500]
    return response.content.decode()


def row(objective, attained, target, met, priority=None):
    return {"objective": objective, "priority": priority, "target": target, "attained": attained, "met": met}


def test_heatmap_colours_by_met_within_half_a_point_or_missed_and_sorts_by_worst():
    entries = [
        {"tenant": "a", "objectives": [row("run_success", 99.2, 99.0, True), row("timeliness", 99.1, 99.5, False)]},
        {"tenant": "b", "objectives": [row("run_success", 97.0, 99.0, False), row("timeliness", None, 99.5, None)]},
        {"tenant": "c", "objectives": [row("acknowledge", 100.0, 95.0, True, "P1")]},
    ]
    columns, lines = heatmap(entries, "worst")
    assert [c.label for c in columns] == ["Run success", "Timeliness", "Acknowledge P1"]
    assert [ln.entry["tenant"] for ln in lines] == ["b", "a", "c"]
    assert [c.state for c in lines[0].cells] == ["missed", "none", "absent"]
    assert [c.state for c in lines[1].cells] == ["met", "near", "absent"]
    _, by_column = heatmap(entries, "timeliness")
    assert [ln.entry["tenant"] for ln in by_column] == ["a", "b", "c"]


def test_a_cell_whose_budget_is_under_one_event_is_too_early_to_judge_as_on_the_sla_page():
    def engine_row(objective, total, good, target, priority=None):
        allowed = total * (100 - target) / 100
        attained = 100 * good / total
        return {
            **row(objective, attained, target, attained >= target, priority),
            "total": total,
            "good": good,
            "error_budget": {"allowed": allowed, "spent": total - good, "remaining_pct": None},
        }

    entries = [
        {
            "tenant": "a",
            "objectives": [
                # 1 opening, a 95% target: 0.05 of an opening allowed; it was late.
                engine_row("acknowledge", 1, 0, 95.0, "P1"),
                # 200 runs, a 99% target: 2 runs allowed, 5 failed: missed.
                engine_row("run_success", 200, 195, 99.0),
                # Timeliness counts seconds: 6 hours at 99.5% allow 108 s, under an hour late.
                engine_row("timeliness", 21600, 21000, 99.5),
            ],
        }
    ]
    _, [line] = heatmap(entries)
    states = {c.row["objective"]: c.state for c in line.cells}
    assert states == {"acknowledge": "early", "run_success": "missed", "timeliness": "early"}
    # Judged cells alone decide "worst first": the missed run success, not the 0% acknowledgement.
    assert line.worst == 97.5 - 99.0


def test_system_of_record_conflicts_are_flagged_in_words(contoso):
    kantata = f.make_system(contoso, "kantata", System.Kind.PSA, product="Kantata")
    netsuite = f.make_system(contoso, "netsuite", System.Kind.ERP, product="NetSuite")
    contoso.system_of_record = {"project": "kantata", "invoice": "netsuite", "expense": "kantata"}
    make = f.make_integration
    flows = [
        make(contoso, "master-data-sync", source=netsuite, target=kantata, entities=["project"]),
        make(contoso, "project-out", source=kantata, target=netsuite, entities=["project", "time_entry"]),
        make(contoso, "invoice-out", source=netsuite, target=kantata, entities=["invoice"]),
        make(contoso, "expense-post", source=kantata, target=netsuite, entities=["expense"]),
    ]
    rows = {r.entity: r for r in matrix(contoso, [kantata, netsuite], flows)}
    assert rows["project"].flags == [
        "master-data-sync writes project into Kantata from NetSuite, but Kantata owns project",
        "project is carried both ways between NetSuite and Kantata (master-data-sync and project-out)",
    ]
    assert rows["time_entry"].flags == ["time_entry is carried by project-out but no system owns it"]
    assert rows["invoice"].flags == []  # from its owner outwards
    assert rows["expense"].flags == []
    assert [c.integration.slug for c in rows["project"].carriers] == ["master-data-sync", "project-out"]


def test_records_page_shows_owners_carriers_and_escapes_names(contoso, manager):
    kantata = f.make_system(contoso, "kantata", System.Kind.PSA, product=HOSTILE)
    contoso.system_of_record = {"project": "kantata", HOSTILE: "ghost"}
    contoso.save(update_fields=["system_of_record"])
    netsuite = f.make_system(contoso, "netsuite", System.Kind.ERP, product="NetSuite")
    f.make_integration(contoso, "mds", source=netsuite, target=kantata, entities=["project"])
    html = page(manager, "/governance/records/?tenant=contoso")
    assert "writes project into" in html and "but &lt;img" in html
    assert HOSTILE not in html
    assert "ghost (unknown)" in html


@time_machine.travel(utc(2026, 12, 3, 20), tick=False)
def test_late_and_down_lists_every_integration_not_up_with_how_long_and_owner(contoso, manager, support):
    down = f.make_integration(contoso, "down-flow", name=HOSTILE, every_minutes=60, grace_minutes=10, owner=support)
    late = f.make_integration(contoso, "late-flow", every_minutes=60, grace_minutes=30)
    up = f.make_integration(contoso, "up-flow", every_minutes=60, grace_minutes=10)
    f.make_run_at(down, utc(2026, 12, 3, 17), rollup=False)
    f.make_run_at(late, utc(2026, 12, 3, 18, 20), rollup=False)
    f.make_run_at(up, utc(2026, 12, 3, 19, 50), rollup=False)
    Integration.objects.filter(pk=f.make_integration(contoso, "fresh").pk).update(created=utc(2026, 12, 3, 8))
    html = page(manager, "/governance/health/")
    assert "3 integrations not up" in html
    assert html.index("badge health-down") < html.index("badge health-late") < html.index("badge health-new")
    assert HOSTILE not in html and "&lt;img src=x" in html
    # Down: late since 18:10 (17:00 + 70 min), so 1h 50m; late since 19:50: 10m; new for 12 h.
    assert "1h 50m" in html and "10m" in html and "12h 00m" in html
    assert "ana@northwind.example" in html
    assert "up-flow" not in html


def test_approvals_waiting_shows_age_and_requester(contoso, manager, support):
    integration = f.make_integration(contoso, approval_required=True)
    exception = f.make_exception_with_records(integration)
    with time_machine.travel(timezone.now() - timedelta(hours=5), tick=False):
        request_replay(support, exception, reason=HOSTILE)
    html = page(manager, "/governance/approvals/")
    assert "1 replay" in html and "5\xa0hours" in html
    assert "ana@northwind.example" in html
    assert HOSTILE not in html


def test_keys_page_flags_keys_unused_for_90_days(contoso, manager, partner_admin, southwind, globex):
    old, _ = create_key(name="old-poster", tenant=contoso, scopes=["ingest"])
    ApiKey.objects.filter(pk=old.pk).update(created=timezone.now() - timedelta(days=200))
    used, _ = create_key(name="busy-poster", tenant=contoso, scopes=["read"])
    ApiKey.objects.filter(pk=used.pk).update(
        created=timezone.now() - timedelta(days=200), last_used_at=timezone.now() - timedelta(days=2)
    )
    create_key(name="max-laptop", user=manager)
    create_key(name="globex-key", tenant=globex)
    html = page(partner_admin, "/governance/keys/")
    assert "old-poster" in html and "busy-poster" in html and "max-laptop" in html
    assert "globex-key" not in html
    assert html.count("unused 90 days</span>") == 1
    flagged = re.search(r"old-poster.*?</tr>", html, re.S).group(0)
    assert "unused 90 days" in flagged and "never" in flagged


def test_a_used_key_records_when_at_most_once_a_minute(contoso, read_key):
    client = f.client_with(read_key)
    prefix = read_key.split(".")[0]
    assert client.get("/api/v1/integrations?tenant=contoso").status_code == 200
    first = ApiKey.objects.get(prefix=prefix).last_used_at
    assert first is not None
    client.get("/api/v1/integrations?tenant=contoso")
    assert ApiKey.objects.get(prefix=prefix).last_used_at == first


@time_machine.travel(utc(2026, 12, 3, 10), tick=False)
def test_response_trends_chart_weeks_and_say_no_data_without_openings(portfolio_data, manager, globex, southwind):
    html = page(manager, "/governance/responses/")
    assert 'id="chart-ack"' in html and 'id="chart-res"' in html
    assert "no-data" not in html
    html = page(manager, "/governance/responses/?tenant=fabrikam")
    assert "Response trends · Fabrikam Services" in html
    stranger = f.make_user(southwind, "manager", "boss@southwind.example")
    html = page(stranger, "/governance/responses/")
    assert 'id="no-data"' in html and 'id="chart-ack"' not in html


@time_machine.travel(utc(2026, 12, 3, 10), tick=False)
def test_portfolio_page_colours_cells_and_escapes_tenant_names(portfolio_data, manager, contoso):
    contoso.name = HOSTILE
    contoso.save(update_fields=["name"])
    html = page(manager, "/governance/?period=2026-11&sort=worst")
    assert HOSTILE not in html and "&lt;img src=x onerror=alert(1)&gt;" in html
    assert re.search(r'class="num cell cell-(met|near|missed)"', html)
    assert "Run success" in html and "Acknowledge P1" in html


@pytest.mark.parametrize("url", ["/governance/?period=2026-13", "/governance/audit/?from=soon"])
def test_pages_answer_400_naming_the_parameter(manager, contoso, url):
    client = Client()
    client.force_login(manager)
    response = client.get(url)
    assert response.status_code == 400
    assert url.split("?")[1].split("=")[0] in response.content.decode()
