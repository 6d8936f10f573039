"""The "Connect a worker" page (HTML): how a sync job reports to this
console with the worker SDK (sdk/python), with the tenant's own integration
slugs and this console's address filled in. Staff only."""

from django.contrib.auth.decorators import login_required
from django.shortcuts import render

from integrations.access import integrations_for, require_act
from opsconsole.access import get_tenant_for_user


def snippets(base_url, tenant_slug, integrations):
    """The page's code blocks, as plain text (the template escapes them).
    ``integrations``: (slug, pushed) pairs, pushed meaning it has a replay
    webhook."""
    first = integrations[0][0] if integrations else "INTEGRATION-SLUG"
    pulled = [slug for slug, pushed in integrations if not pushed] or [first]
    pushed = [slug for slug, pushed in integrations if pushed]
    environment = (
        f"export OPSCONSOLE_URL={base_url}\n"
        "export OPSCONSOLE_KEY=ok_...            # an ingest key of this tenant\n"
        "export OPSCONSOLE_SPOOL=/var/spool/opsconsole-worker   # optional"
    )
    key = f"python manage.py create_api_key --tenant {tenant_slug} --name sync-worker --scope ingest"
    python = (
        "from opsconsole_worker import Client\n\n"
        "client = Client()\n"
        f'with client.run("{first}") as run:\n'
        '    run.log("info", "fetched 120 entries")\n'
        '    run.failure(entity="time_entry", record_id="TE-1001", message="Project P-77 is closed",\n'
        '                error_code="ERP-4001", payload={"project": "P-77"})\n'
        "    run.records(succeeded=117, skipped=1)"
    )
    cron = (
        "\n".join(
            f"*/15 * * * *  opsconsole-worker wrap --integration {slug} -- /opt/sync/{slug}.sh"
            for slug, _ in integrations
        )
        or f"*/15 * * * *  opsconsole-worker wrap --integration {first} -- /opt/sync/job.sh"
    )
    replays = (
        "def handle(replay):\n"
        "    for record in replay.records:\n"
        "        post_to_target(record.entity, record.record_id, record.patched_payload(),\n"
        "                       idempotency_key=record.idempotency_key)\n\n"
        + "\n".join(f'client.replays("{slug}", handle, lease_seconds=300)' for slug in pulled[:1])
    )
    blocks = [
        ("Create an ingest key (partner admin, on the console's host)", key),
        ("Tell the worker where to report", environment),
        ("Report a run from Python", python),
        ("Or wrap a cron job: it reports running, then succeeded or failed by the exit status", cron),
        ("Handle replays by pulling them", replays),
    ]
    if pushed:
        blocks.append(
            (
                f"Pushed replays ({', '.join(pushed)}): check each delivery before handling it",
                "import json\n\nfrom opsconsole_worker import verify_signature\n\n"
                "verify_signature(WEBHOOK_SECRET, request.headers, request.body)  # raises SignatureError\n"
                "client.handle_replay(json.loads(request.body), handle)",
            )
        )
    return blocks


@login_required
def connect_worker(request, tenant):
    tenant = get_tenant_for_user(request.user, tenant)
    require_act(request.user)
    rows = list(integrations_for(request.user).filter(tenant=tenant).order_by("slug"))
    pairs = [(i.slug, bool(i.replay_webhook_url)) for i in rows]
    base_url = request.build_absolute_uri("/").rstrip("/")
    context = {"tenant": tenant, "integrations": rows, "blocks": snippets(base_url, tenant.slug, pairs)}
    return render(request, "integrations/connect.html", context)
