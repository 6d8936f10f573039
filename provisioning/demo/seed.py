"""Seeding the demo installation (``python manage.py seed_demo``)."""

import inspect
import time as clock
from datetime import UTC, datetime, timedelta
from pathlib import Path

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.db import connection, transaction
from django.utils import timezone

from integrations.models import Integration, Run
from integrations.retention import purge_tenant
from opsconsole import audit
from opsconsole.models import Hostname, Partner, Tenant, User
from provisioning.config import apply_document
from provisioning.demo.config import PARTNER, PASSWORD, STAFF, TENANTS, USERS, demo_config
from provisioning.demo.history import FlowHistory, flows
from provisioning.demo.replays import play_replays
from provisioning.demo.triage import Triage
from sla.models import MaintenanceWindow, Plan

EXAMPLES = Path(settings.BASE_DIR) / "examples"
DAYS = 35
# Runs are received in batches spanning this many minutes of history.
RECEIVE_EVERY_MINUTES = 120
# The tenant whose exceptions get the demo's replays (one pending approval, one done).
REPLAY_TENANT = "contoso"


def reset(out):
    """Delete the demo partner's tenants (with their history), users and
    plans. The partner row and the audit log stay: the log is append-only."""
    partner = Partner.objects.filter(slug=PARTNER).first()
    if partner is None:
        return
    far_future = timezone.now() + timedelta(days=3650)
    for tenant in Tenant.objects.filter(partner=partner):
        purge_tenant(tenant.pk, far_future)
        with transaction.atomic():
            # Exceptions, openings and replays go with their integrations.
            Integration.objects.filter(tenant=tenant).delete()
            tenant.delete()
    with transaction.atomic():
        User.objects.filter(partner=partner).delete()
        Plan.objects.filter(partner=partner).delete()
        Hostname.objects.filter(partner=partner).delete()
        audit.record(None, "demo.reset", partner=partner, obj=partner, summary="Demo data deleted by seed_demo --reset")
    out(f"Deleted the {PARTNER} demo data.")


def seed(out, *, do_reset=False, days=DAYS, now=None):
    """Apply the demo configuration, set the demo users' passwords, then send
    ``days`` of history through ingest and triage it. Returns a summary dict."""
    began = clock.monotonic()
    now = (now or timezone.now()).astimezone(UTC).replace(second=0, microsecond=0)
    if do_reset:
        reset(out)
    changes = apply_document(demo_config(now), base_dir=EXAMPLES, source="seed_demo")
    out(f"Configuration: {changes.summary()}")
    users = {u.email: u for u in User.objects.filter(email__in=[u[0] for u in USERS])}
    _set_passwords(users.values())

    tenants = {t.slug: t for t in Tenant.objects.filter(slug__in=TENANTS, partner__slug=PARTNER)}
    totals = {"runs": 0, "rejected": 0, "failures": 0, "actions": 0}
    if Run.objects.filter(tenant__in=tenants.values()).exists():
        out("History already present: left as it is (use --reset to start again).")
    else:
        totals = _history(out, tenants, users, now, days)
    out(f"Done in {clock.monotonic() - began:.1f} s.")
    out("")
    out(f"Demo users (sign in at /login/, password: {PASSWORD}):")
    for email, _name, role, tenants in USERS:
        out(f"  {email:<26} {role}" + (f" ({', '.join(tenants)})" if tenants else ""))
    return totals


def _set_passwords(users):
    """Give every demo user the demo password. One hash for all of them: the
    password is published anyway, and each hash takes most of a second."""
    users = list(users)
    if len({u.password for u in users}) == 1 and users[0].check_password(PASSWORD):
        return
    hashed = make_password(PASSWORD)
    for user in users:
        user.password = hashed
        user.save(update_fields=["password"])


def _windows(tenant):
    """(integration slug or None for all, start, end) of the tenant's maintenance windows."""
    result = []
    for window in MaintenanceWindow.objects.filter(tenant=tenant).prefetch_related("integrations"):
        slugs = [i.slug for i in window.integrations.all()] or [None]
        result.extend((slug, window.start, window.end) for slug in slugs)
    return result


def _fast_commits():
    """Demo data is regenerated at will: do not wait for each commit to reach
    the disk (a crash loses the last transactions, never consistency)."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET synchronous_commit TO OFF")
        elif connection.vendor == "sqlite" and not connection.in_atomic_block:
            cursor.execute("PRAGMA synchronous = OFF")


def _history(out, tenants, users, now, days):
    from integrations.ingest.service import ingest_runs
    from integrations.sync_exceptions.deadlines import refresh_due_of_tenants

    _fast_commits()

    takes_now = "now" in inspect.signature(ingest_runs).parameters
    start = datetime.combine((now - timedelta(days=days)).date(), datetime.min.time(), tzinfo=UTC)
    totals = {"runs": 0, "rejected": 0, "failures": 0, "actions": 0}
    shown_errors = 0
    for slug in TENANTS:
        tenant = tenants[slug]
        windows = _windows(tenant)
        histories = [
            FlowHistory(flow, now, [(a, b) for s, a, b in windows if s in (None, flow.slug)])
            for flow in flows()
            if flow.tenant == slug
        ]
        leave = {f.kind.error_code for flow in flows() if flow.tenant == slug for f in flow.fresh}
        triage = Triage(tenant, STAFF, list(users.values()), leave)
        received = start
        day = start
        while day < now:
            day_end = min(day + timedelta(days=1), now)
            counts = {"runs": 0, "rejected": 0, "failures": 0}
            batch_start = day
            while batch_start < day_end:
                batch_end = min(batch_start + timedelta(minutes=RECEIVE_EVERY_MINUTES), day_end)
                docs = sorted(
                    (doc for h in histories for doc in h.documents(batch_start, batch_end)),
                    key=lambda d: d["started_at"],
                )
                batch_start = batch_end
                if not docs:
                    continue
                last = max(d["finished_at"] or d["started_at"] for d in docs)
                received = max(received + timedelta(seconds=1), _parse(last) + timedelta(seconds=20))
                received = min(received, timezone.now())
                triage.carry_out_until(received)
                results = ingest_runs(tenant, docs, None, now=received) if takes_now else ingest_runs(tenant, docs)
                for doc, result in zip(docs, results, strict=True):
                    if result.get("result") == "rejected":
                        counts["rejected"] += 1
                        if shown_errors < 3:
                            shown_errors += 1
                            out(f"  rejected {doc['integration']} {doc['run_id']}: {result.get('errors')}")
                    else:
                        counts["runs"] += 1
                        counts["failures"] += len(doc["failures"])
                triage.plan_new_openings()
            out(
                f"{slug:<9} {day:%Y-%m-%d}  {counts['runs']:4d} runs  {counts['failures']:4d} failures"
                + (f"  {counts['rejected']} rejected" if counts["rejected"] else "")
            )
            for key in counts:
                totals[key] += counts[key]
            day = day_end
        triage.carry_out_until(now)
        totals["actions"] += triage.done
        if slug == REPLAY_TENANT:
            play_replays(out, tenant, users, leave)
        # The planned staff actions write their states directly: bring the
        # next SLA deadlines (the inbox order) up to date.
        refresh_due_of_tenants([tenant.pk])
    out(
        f"History: {totals['runs']} runs, {totals['failures']} failures, {totals['rejected']} rejected, "
        f"{totals['actions']} staff actions."
    )
    return totals


def _parse(text):
    return datetime.fromisoformat(text.replace("Z", "+00:00"))
