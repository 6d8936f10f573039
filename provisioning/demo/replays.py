"""Replays in the demo: one waiting for a second person's approval, one
carried out by its sync worker, through the replay writers
(``integrations.replays``) and the ingest code, as staff and a worker would.

1. Ana asks to replay a few records of Contoso's closed-project time
   entries; the integration needs approval, so the replay waits for one.
2. Tom replays records of a Contoso exception whose cause was fixed (a
   billing one when there is one left open, else another flow's); the
   integration's worker (an API key of its own) claims it, posts the replay
   run and reports every record succeeded: the records are remediated.
"""

from datetime import timedelta

from django.utils import timezone

from integrations.keys import create_key
from integrations.models import Failure, FailureState, Integration, ReplayStatus, SyncException
from integrations.replays.decisions import approve
from integrations.replays.leases import claim
from integrations.replays.requests import request_replay
from integrations.replays.results import record_result

PENDING_REASON = "Finance reopened these projects this morning; posting the held time again."
# The replay carried out: on this integration when it has failed records.
DONE_ON = "billing-milestone-sync"
DONE_REASONS = {
    "reference": "The missing records were created in the target by Contoso's team; posting again.",
    "mapping": "Mapping added in the integration settings; posting again.",
}
DONE_REASON = "Fixed at the source by Contoso's team; posting again."


def _failed_records(exception, limit):
    """Record ids of up to ``limit`` records of ``exception`` still failed, newest first."""
    rows = (
        Failure.objects.filter(exception=exception, state=FailureState.FAILED)
        .order_by("-occurred_at")
        .values_list("record_id", flat=True)
    )
    out = []
    for record_id in rows:
        if record_id not in out:
            out.append(record_id)
        if len(out) == limit:
            break
    return out


def _candidate(tenant, *, approval, leave, prefer_class, prefer_integration=None):
    """An open exception of ``tenant`` with failed records, on an integration
    that does (or does not) need approval: of ``prefer_integration`` and
    ``prefer_class`` if there is one, else the nearest to that."""
    found = _open_with_failed(Integration.objects.filter(tenant=tenant, approval_required=approval), leave)
    choices = [found.filter(error_class=prefer_class), found]
    if prefer_integration:
        mine = found.filter(integration__slug=prefer_integration)
        choices = [mine.filter(error_class=prefer_class), mine, *choices]
    return next((q.first() for q in choices if q.exists()), None)


def _open_with_failed(integrations, leave):
    """Open or acknowledged exceptions of ``integrations`` with failed
    records, most records first; none of the fresh ones (``leave``)."""
    return (
        SyncException.objects.filter(integration__in=integrations, status__in=("open", "acknowledged"))
        .exclude(error_code__in=leave)
        .exclude(error_class="duplicate")  # discarded, never replayed
        .filter(failures__state=FailureState.FAILED)
        .distinct()
        .order_by("-records", "pk")
    )


def play_replays(out, tenant, users, leave=()):
    """Seed the two replays on ``tenant`` (Contoso). Returns the replays."""
    ana, tom, max_ = users["ana@northwind.example"], users["tom@northwind.example"], users["max@northwind.example"]
    replays = []
    pending = _candidate(tenant, approval=True, leave=leave, prefer_class="validation")
    if pending is not None:
        replay = request_replay(ana, pending, records=_failed_records(pending, 3), reason=PENDING_REASON)
        replays.append(replay)
        out(f"Replay of {len(replay.records.all())} records of '{pending.title}' waits for approval.")
    done = _candidate(tenant, approval=False, leave=leave, prefer_class="reference", prefer_integration=DONE_ON)
    if done is not None:
        replays.append(_carried_out(done, tom, max_))
        out(f"Replay of '{done.title}' carried out by its worker.")
    return replays


def _carried_out(exception, requester, approver):
    """Request a replay, let the integration's worker claim it, post the
    replay run and report every record succeeded."""
    from integrations.ingest.service import ingest_runs
    from provisioning.demo.history import flows

    integration = exception.integration
    reason = DONE_REASONS.get(exception.error_class, DONE_REASON)
    replay = request_replay(requester, exception, records=_failed_records(exception, 2), reason=reason)
    if replay.status == ReplayStatus.PENDING_APPROVAL:
        approve(approver, replay)
    key, _raw = create_key(name=f"{integration.slug}-worker", tenant=exception.tenant, scopes=["ingest"])
    claimed = claim(key, integration, lease_seconds=600)
    records = list(claimed.records.all())
    now = timezone.now()
    run_id = f"replay-{claimed.pk}"
    started = now - timedelta(minutes=2)
    document = {
        "integration": integration.slug,
        "run_id": run_id,
        "status": "succeeded",
        "started_at": started.isoformat(),
        "finished_at": (started + timedelta(seconds=40)).isoformat(),
        "trigger": "replay",
        "replay_id": str(claimed.pk),
        "records": {"processed": len(records), "succeeded": len(records)},
        "worker": next(f.worker for f in flows() if (f.tenant, f.slug) == (exception.tenant.slug, integration.slug)),
        "logs": [{"at": started.isoformat(), "level": "info", "message": f"replaying {len(records)} records"}],
    }
    ingest_runs(exception.tenant, [document], key)
    result = {
        "status": "succeeded",
        "run_id": run_id,
        "records": [
            {"entity": r.entity, "record_id": r.record_id, "status": "succeeded", "message": "Posted again."}
            for r in records
        ],
    }
    replay, _ = record_result(key, claimed, result)
    return replay
