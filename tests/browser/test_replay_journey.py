"""A replay from request to resolution, through a real Chromium: a support
user requests it, a manager approves it in the approvals queue, a worker
claims it and reports success over HTTP, and the exception shows resolved."""

import json
import urllib.request

import pytest

from integrations.models import Replay, ReplayStatus
from tests import factories as f

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def sign_in(page, base, email):
    page.goto(f"{base}/login/")
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Password").fill("pw")
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{base}/")


def sign_out(page):
    page.locator("details.usermenu summary").click()  # the user menu holds "Sign out"
    page.get_by_role("button", name="Sign out").click()


def worker_post(base, key, path, body):
    request = urllib.request.Request(  # noqa: S310 - the local live server
        f"{base}/api/v1/{path}",
        data=json.dumps(body).encode(),
        method="POST",
        headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
        return response.status, json.loads(response.read() or b"null")


def test_support_requests_manager_approves_worker_succeeds_exception_resolves(
    live_server, page, northwind, contoso, support, manager
):
    integration = f.make_integration(contoso, "time-expense-posting", approval_required=True)
    exception = f.make_exception_with_records(integration, ["TE-1001", "TE-1002"])
    key = f.make_key(contoso, ["ingest"])
    base = live_server.url

    # 1. Support requests a replay of both records, patching one.
    sign_in(page, base, support.email)
    page.goto(f"{base}/exceptions/{exception.pk}/")
    assert page.locator(".status-line .badge").first.inner_text() == "open"
    # The record picker is collapsed; "all not yet remediated" is the default.
    assert not page.get_by_label("TE-1001").is_visible()
    page.get_by_label("Reason").fill("Project P-77 reopened in NetSuite")
    page.get_by_label("Patch").fill('{"TE-1001": {"project": "P-78"}}')
    page.get_by_role("button", name="Replay all 2 records not yet remediated").click()
    page.wait_for_url(f"{base}/replays/**")
    assert "waits for approval" in page.locator(".messages").inner_text()
    assert page.locator("h1 .badge").inner_text() == "pending approval"
    replay = Replay.objects.get()
    sign_out(page)

    # 2. The manager approves it from the approvals queue, with a note.
    sign_in(page, base, manager.email)
    page.get_by_role("link", name="Approvals").click()
    card = page.locator(f'[data-replay="{replay.pk}"]')
    assert "Project P-77 reopened in NetSuite" in card.inner_text()
    diff = card.locator("table.diff tbody tr")
    assert diff.count() == 1
    assert diff.locator(".diff-field").inner_text() == "project"
    assert diff.locator(".diff-current").inner_text() == '"P-77"'
    assert diff.locator(".diff-patched").inner_text() == '"P-78"'
    assert "ana@northwind.example" in card.inner_text()
    card.get_by_label("Note").fill("Checked with the customer")
    card.get_by_role("button", name="Approve").click()
    page.wait_for_load_state()
    assert "Replay approved." in page.locator(".messages").inner_text()
    assert "Nothing waits for approval." in page.content()
    replay.refresh_from_db()
    assert replay.status == ReplayStatus.QUEUED and replay.approved_by == manager

    # 3. A worker claims it and reports success.
    status, doc = worker_post(base, key, "replays/claim", {"integration": "time-expense-posting"})
    assert status == 200 and doc["id"] == str(replay.pk)
    patches = {r["record_id"]: r["patch"] for r in doc["records"]}
    assert patches == {"TE-1001": {"project": "P-78"}, "TE-1002": None}
    status, doc = worker_post(base, key, f"replays/{replay.pk}/result", {"status": "succeeded"})
    assert status == 200 and doc["status"] == "succeeded"

    # 4. The exception page shows it resolved, with the replay; the replay page shows the outcome.
    page.goto(f"{base}/exceptions/{exception.pk}/")
    assert page.locator(".status-line .badge").first.inner_text() == "resolved"
    assert "succeeded" in page.locator(".replays").inner_text()
    assert "No record of this exception can be replayed" in page.locator(".replay-form").inner_text()
    page.locator(".replays a").first.click()
    page.wait_for_url(f"{base}/replays/{replay.pk}/")
    assert page.locator("h1 .badge").inner_text() == "succeeded"
    assert page.locator(".exception-status").inner_text() == "resolved"
    history = page.locator(".history").inner_text()
    assert "replay.approve" in history and "replay.result" in history
    assert page.locator(".replay-records").get_by_text("succeeded").count() == 2
