"""Approving, rejecting and cancelling replays (contract 4.3): four eyes
on an integration with ``approval_required``."""

from django.db import transaction
from django.utils import timezone

from integrations.errors import Conflict, NotPermitted
from integrations.models import FailureState, Replay, ReplayStatus
from integrations.replays.push import prepare_push
from integrations.replays.records import clean_text, set_failure_state
from integrations.replays.statuses import CANCELLABLE_STATUSES
from opsconsole import audit
from opsconsole.access import is_key
from opsconsole.roles import Perm, can


def _locked(replay):
    return Replay.objects.select_for_update(of=("self",)).select_related("tenant", "integration").get(pk=replay.pk)


def check_approver(user, replay):
    if is_key(user) or not can(user, Perm.APPROVE):
        raise NotPermitted("Your role does not allow approving or rejecting replays.")
    if replay.is_requested_by(user):
        raise NotPermitted("Nobody approves or rejects a replay they requested.")


def approve(user, replay, note=""):
    """Queue a replay pending approval (and push it where the integration has
    a webhook)."""
    return _decide(user, replay, note, approved=True)


def reject(user, replay, note=""):
    """Close a replay pending approval; its records go back to failed."""
    return _decide(user, replay, note, approved=False)


def _decide(user, replay, note, *, approved):
    note = clean_text(note, "note")
    check_approver(user, replay)
    verb = "approved" if approved else "rejected"
    with transaction.atomic():
        replay = _locked(replay)
        if replay.status != ReplayStatus.PENDING_APPROVAL:
            raise Conflict(f"Only a replay pending approval can be {verb}; this one is {replay.status}.")
        now = timezone.now()
        replay.approved_by = user if approved else None
        replay.approver_email = (user.email or "").strip().lower() if approved else ""
        replay.decided_at = now
        replay.decision_note = note
        replay.updated_at = now
        if approved:
            replay.status = ReplayStatus.QUEUED
            replay.queued_at = now
            stamp = "queued_at"
        else:
            replay.status = ReplayStatus.REJECTED
            replay.finished_at = now
            stamp = "finished_at"
        replay.save(
            update_fields=[
                "status",
                "approved_by",
                "approver_email",
                "decided_at",
                "decision_note",
                stamp,
                "updated_at",
            ]
        )
        if not approved:
            _release_records(replay)
        audit.record(
            user,
            "replay.approve" if approved else "replay.reject",
            tenant=replay.tenant,
            obj=replay,
            summary=f"{verb.capitalize()} replay of exception #{replay.exception_id}",
            data={"note": note, "exception": replay.exception_id},
        )
        if approved:
            prepare_push(replay, now)
    return replay


def _release_records(replay):
    """Records of a replay that will not run go back to failed."""
    keys = list(replay.records.values_list("entity", "record_id"))
    set_failure_state(replay.exception_id, keys, FailureState.FAILED, only_states=[FailureState.REPLAY_REQUESTED])


def cancel(user, replay, note=""):
    note = clean_text(note, "note")
    if is_key(user) or not can(user, Perm.ACT):
        raise NotPermitted("Your role does not allow cancelling replays.")
    with transaction.atomic():
        replay = _locked(replay)
        if replay.status not in CANCELLABLE_STATUSES:
            raise Conflict(f"Only a replay not yet dispatched can be cancelled; this one is {replay.status}.")
        now = timezone.now()
        replay.status = ReplayStatus.CANCELLED
        replay.decision_note = note or replay.decision_note
        replay.finished_at = now
        replay.next_delivery_at = None
        replay.updated_at = now
        replay.save(update_fields=["status", "decision_note", "finished_at", "next_delivery_at", "updated_at"])
        _release_records(replay)
        audit.record(
            user,
            "replay.cancel",
            tenant=replay.tenant,
            obj=replay,
            summary=f"Cancelled replay of exception #{replay.exception_id}",
            data={"note": note, "exception": replay.exception_id},
        )
    return replay
