"""Replay pages: detail, tenant list, approvals queue, request form."""

import datetime as dt
import json
import re

import pytest
from django.test import Client

from integrations.models import Replay, ReplayStatus
from opsconsole.models import AuditEntry
from opsconsole.roles import Role
from tests import factories as f

HOSTILE = "<script>alert(1)</script>\x07\x1b[31m\u202e"


def browser(user):
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def pushed_exception(contoso):
    integration = f.make_integration(contoso, "billing-sync", approval_required=True)
    exception = f.make_exception_with_records(integration, ["INV-1", "INV-2"])
    f.make_failure(exception, record_id="INV-1", message=HOSTILE + "x" * 5000, payload={"note": HOSTILE})
    return exception


@pytest.fixture
def pending(support, pushed_exception):
    response = browser(support).post(
        f"/exceptions/{pushed_exception.pk}/replay/",
        {"records": ["INV-1"], "reason": "Reopened " + HOSTILE, "patch": '{"INV-1": {"project": "P-78"}}'},
    )
    assert response.status_code == 302
    return Replay.objects.get()


def test_the_request_form_creates_a_replay_and_goes_to_it(support, pushed_exception):
    page = browser(support).post(
        f"/exceptions/{pushed_exception.pk}/replay/",
        {"records": ["INV-1"], "reason": "Reopened " + HOSTILE, "patch": '{"INV-1": {"project": "P-78"}}'},
        follow=True,
    )
    replay = Replay.objects.get()
    assert page.redirect_chain == [(f"/replays/{replay.pk}/", 302)]
    assert replay.status == ReplayStatus.PENDING_APPROVAL
    assert replay.records.get().patch == {"project": "P-78"}
    html = page.content.decode()
    assert "Replay requested; it waits for approval" in html
    assert "P-78" in html and "INV-1" in html
    assert "<script>alert(1)</script>" not in html and "&lt;script&gt;" in html
    assert "\x07" not in html and "\x1b" not in html and "\u202e" not in html and "\\u0007" in html
    assert "x" * 1000 not in html  # long messages are bounded
    assert "You requested this replay" in html and "Approve</button>" not in html


def test_the_request_form_shows_errors_and_changes_nothing(support, pushed_exception):
    client = browser(support)
    response = client.post(
        f"/exceptions/{pushed_exception.pk}/replay/", {"records": ["INV-404"], "reason": "x"}, follow=True
    )
    assert "INV-404" in response.content.decode()
    response = client.post(f"/exceptions/{pushed_exception.pk}/replay/", {"patch": "{nope"}, follow=True)
    assert "patch: not valid JSON" in response.content.decode()
    assert not Replay.objects.exists()
    form = client.get(f"/exceptions/{pushed_exception.pk}/replay/").content.decode()
    assert 'name="records" value="INV-2"' in form and 'id="replay-all"' in form


def test_customers_cannot_request_and_outsiders_get_404(customer_approver, outsider, pushed_exception):
    assert browser(customer_approver).post(f"/exceptions/{pushed_exception.pk}/replay/", {}).status_code == 403
    assert (
        "Request replay</button>"
        not in browser(customer_approver).get(f"/exceptions/{pushed_exception.pk}/replay/").content.decode()
    )
    assert browser(outsider).get(f"/exceptions/{pushed_exception.pk}/replay/").status_code == 404
    assert not Replay.objects.exists()


def test_the_approvals_queue_lists_pending_replays_for_approvers(manager, customer_approver, support, pending):
    html = browser(manager).get("/approvals/").content.decode()
    assert f'data-replay="{pending.pk}"' in html
    assert "ana@northwind.example" in html and "P-78" in html and "Reopened" in html
    assert "Approve</button>" in html
    assert f'data-replay="{pending.pk}"' in browser(customer_approver).get("/approvals/").content.decode()
    assert browser(support).get("/approvals/").status_code == 403


def test_approving_from_the_queue(manager, pending):
    client = browser(manager)
    response = client.post(f"/replays/{pending.pk}/approve/", {"note": "ok", "next": "/approvals/"})
    assert response.status_code == 302 and response["Location"] == "/approvals/"
    pending.refresh_from_db()
    assert pending.status == ReplayStatus.QUEUED and pending.approved_by == manager
    html = client.get("/approvals/").content.decode()
    assert "Replay approved." in html and "Nothing waits for approval." in html
    # A second decision is refused with a message, not an error page.
    again = client.post(f"/replays/{pending.pk}/reject/", {"note": "late"}, follow=True)
    assert "Only a replay pending approval can be rejected" in again.content.decode()
    assert AuditEntry.objects.filter(action="replay.approve").count() == 1


def test_own_requests_have_no_approve_button_and_are_refused(northwind, pushed_exception):
    manager = f.make_user(northwind, Role.MANAGER)
    client = browser(manager)
    client.post(f"/exceptions/{pushed_exception.pk}/replay/", {"records": ["INV-2"]})
    replay = Replay.objects.get()
    html = client.get("/approvals/").content.decode()
    assert f'data-replay="{replay.pk}"' in html
    assert "Approve</button>" not in html and "You requested this replay" in html
    assert client.post(f"/replays/{replay.pk}/approve/").status_code == 403
    replay.refresh_from_db()
    assert replay.status == ReplayStatus.PENDING_APPROVAL


def test_the_tenant_list_filters_and_scopes(manager, outsider, pending, contoso):
    client = browser(manager)
    html = client.get("/t/contoso/replays/").content.decode()
    assert f"/replays/{pending.pk}/" in html
    html = client.get("/t/contoso/replays/?status=queued").content.decode()
    assert f"/replays/{pending.pk}/" not in html and "No replays match these filters" in html
    html = client.get("/t/contoso/replays/?integration=billing-sync&status=pending_approval").content.decode()
    assert f"/replays/{pending.pk}/" in html
    assert client.get("/t/contoso/replays/?integration=nope").status_code == 404
    assert browser(outsider).get("/t/contoso/replays/").status_code == 404
    assert browser(outsider).get(f"/replays/{pending.pk}/").status_code == 404


def test_cancel_from_the_detail_page(support, pending):
    client = browser(support)
    assert "Cancel replay</button>" in client.get(f"/replays/{pending.pk}/").content.decode()
    client.post(f"/replays/{pending.pk}/cancel/", {"note": "not needed"})
    pending.refresh_from_db()
    assert pending.status == ReplayStatus.CANCELLED
    assert "Cancel replay</button>" not in client.get(f"/replays/{pending.pk}/").content.decode()


def test_anonymous_visitors_are_sent_to_login(pending):
    response = Client().get("/approvals/")
    assert response.status_code == 302 and "/login/" in response["Location"]


def test_hostile_filters_on_the_list_page_are_404(manager, contoso):
    client = browser(manager)
    assert client.get("/t/contoso/replays/?integration=%00").status_code == 404
    assert client.get("/t/contoso/replays/?status=%00").status_code == 404
    assert client.get("/t/%00x/replays/").status_code == 404


def test_the_exception_page_pages_the_record_picker_in_constant_queries(client, support, integration):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    small = f.make_exception_with_records(integration, record_ids=[f"TE-{n}" for n in range(3)])
    big = f.make_exception_with_records(integration, record_ids=[f"TE-{n}" for n in range(620)], fingerprint="big")
    client.force_login(support)
    with CaptureQueriesContext(connection) as few:
        assert client.get(f"/exceptions/{small.pk}/").status_code == 200
    with CaptureQueriesContext(connection) as many:
        response = client.get(f"/exceptions/{big.pk}/")
    assert response.status_code == 200
    body = response.content.decode()
    # "All not yet remediated" is the default; the picker is collapsed and shows one page.
    assert "Replay all 620 records not yet remediated" in body
    assert body.count('name="records"') == 25
    assert '<details class="record-picker">' in body
    assert "Page 1 of 25 · 620 records" in body
    assert len(many.captured_queries) <= len(few.captured_queries) + 1
    # Search picks: ids containing TE-61 (TE-61 and TE-610 to TE-619), picker open.
    found = client.get(f"/exceptions/{big.pk}/", {"rq": "TE-61"}).content.decode()
    assert found.count('name="records"') == 11 and '<details class="record-picker" open>' in found
    assert "Replay all 620 records not yet remediated" in found


def test_the_picker_replays_all_or_the_ticked_records(client, support, integration):
    exception = f.make_exception_with_records(integration, record_ids=[f"TE-{n}" for n in range(40)])
    client.force_login(support)
    refused = client.post(f"/exceptions/{exception.pk}/replay/", {"scope": "picked"}, follow=True)
    assert "tick at least one record" in refused.content.decode()
    assert not Replay.objects.exists()
    client.post(f"/exceptions/{exception.pk}/replay/", {"scope": "picked", "records": ["TE-3", "TE-39"]})
    assert sorted(Replay.objects.get().records.values_list("record_id", flat=True)) == ["TE-3", "TE-39"]
    # Ticked boxes do not narrow "all": 38 records were left.
    client.post(f"/exceptions/{exception.pk}/replay/", {"scope": "all", "records": ["TE-4"]})
    assert Replay.objects.order_by("-created_at").first().records.count() == 38
    page = client.get(f"/exceptions/{exception.pk}/").content.decode()
    assert "No record of this exception can be replayed now" in page


PADDING = {"aa_note": "x" * 6000}


def test_an_approver_sees_every_changed_field_whole(manager, support, pushed_exception):
    """A long early key cannot hide a later one: the approvals page and the
    replay page show each field of the patch, current and patched value, whole."""
    patch = {"INV-2": {**PADDING, "zz_amount": 999999, "project": "P-78"}}
    response = browser(support).post(
        f"/exceptions/{pushed_exception.pk}/replay/",
        {"scope": "picked", "records": ["INV-2"], "patch": json.dumps(patch)},
    )
    assert response.status_code == 302
    replay = Replay.objects.get()
    for url in ("/approvals/", f"/replays/{replay.pk}/"):
        html = browser(manager).get(url).content.decode()
        rows = re.findall(
            r'<code class="diff-field">(.*?)</code></th>\s*<td>(.*?)</td>\s*<td><pre class="diff-patched">(.*?)</pre>',
            html,
            re.S,
        )
        assert [(field, patched) for field, _current, patched in rows] == [
            ("aa_note", "&quot;" + "x" * 6000 + "&quot;"),
            ("project", "&quot;P-78&quot;"),
            ("zz_amount", "999999"),
        ]
        current = {field: value for field, value, _patched in rows}
        assert "absent" in current["aa_note"] and "absent" in current["zz_amount"]
        assert "&quot;P-77&quot;" in current["project"]


def test_a_patch_over_64_kib_is_refused(support, pushed_exception):
    patch = {"INV-2": {"note": "x" * 70_000}}
    response = browser(support).post(
        f"/exceptions/{pushed_exception.pk}/replay/",
        {"scope": "picked", "records": ["INV-2"], "patch": json.dumps(patch)},
        follow=True,
    )
    assert "over 64 KiB" in response.content.decode()
    assert not Replay.objects.exists()


def test_approvals_and_replay_pages_stay_the_same_size_for_big_replays(manager, support, contoso):
    """Records are paged: a replay of 300 records costs the approvals page and
    the replay page what one of 30 does; beyond what the queue shows, the
    approver decides on the replay's pages."""
    integration = f.make_integration(contoso, "billing-sync", approval_required=True)
    sizes = {}
    for n in (30, 300):
        exception = f.make_exception_with_records(integration, [f"R{n}-{i}" for i in range(n)], fingerprint=f"n{n}")
        client = browser(support)
        client.post(f"/exceptions/{exception.pk}/replay/", {"scope": "all"})
        replay = Replay.objects.get(exception=exception)
        approvals = browser(manager).get("/approvals/").content.decode()
        detail = browser(manager).get(f"/replays/{replay.pk}/").content.decode()
        sizes[n] = len(detail)
        section = approvals.split(f'data-replay="{replay.pk}"')[1].split("</section>")[0]
        assert section.count('class="replay-record"') == 10
        assert f"Review all {n} records and decide" in section and "Approve</button>" not in section
        assert detail.count('class="replay-record"') == 25 and f"Records ({n})" in detail
        browser(manager).post(f"/replays/{replay.pk}/reject/")
    assert abs(sizes[300] - sizes[30]) < 2_000
    last = browser(manager).get(f"/replays/{replay.pk}/", {"page": 12}).content.decode()
    assert last.count('class="replay-record"') == 300 - 11 * 25


def test_the_replay_page_shows_the_tenants_time_with_its_zone(support, pending, contoso):
    assert contoso.timezone == "America/Chicago"
    Replay.objects.filter(pk=pending.pk).update(created_at=dt.datetime(2026, 7, 4, 15, 30, 5, tzinfo=dt.UTC))
    html = browser(support).get(f"/replays/{pending.pk}/").content.decode()
    assert "2026-07-04 10:30:05 CDT" in html
    assert ">2026-07-04 15:30:05" not in html and "UTC<" not in html
