"""Replay pages (HTML): a replay's detail, a tenant's replays, the approvals
queue, and the "Request replay" form that the exception page includes."""

import json

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.paginator import Paginator
from django.db.models import BooleanField, Count, ExpressionWrapper, Q
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_http_methods, require_POST

from integrations import replays
from integrations.access import get_exception_for_user, get_replay_for_user, replays_for
from integrations.errors import DomainError, Invalid, NotPermitted
from integrations.models import Integration, ReplayStatus
from opsconsole.access import get_tenant_for_user
from opsconsole.domain_errors import message_of_errors
from opsconsole.lib.paging import CappedPaginator
from opsconsole.lib.visible import json_text
from opsconsole.roles import Perm, can

# Characters of a stored payload shown on a page (its fields that a patch
# changes are shown whole, see patch_changes); the rest is cut.
SHOW_JSON_LIMIT = 4096
# Records of a replay per page of the replay page; replays per page of the
# approvals queue, and records shown under each (patched records first).
RECORDS_PER_PAGE = 25
APPROVALS_PER_PAGE = 10
APPROVAL_RECORDS = 10


def pretty_json(value, limit=SHOW_JSON_LIMIT):
    if value is None:
        return ""
    text = json_text(value, sort_keys=True, ensure_ascii=True)
    if limit and len(text) > limit:
        text = text[:limit] + f"\n… ({len(text) - limit} more characters)"
    return text


def patch_changes(payload, patch):
    """What a patch changes, field by field, for the four-eyes review: every
    field of ``patch`` (sorted) with the current value from the failure's
    payload and the patched value, each whole as JSON text (never cut, so
    that no change hides behind a long one)."""
    if not isinstance(patch, dict):
        return []
    truncated = isinstance(payload, dict) and payload.get("_truncated") is True
    changes = []
    for field in sorted(patch):
        if truncated:
            current, known = "unknown: the payload was stored cut", False
        elif isinstance(payload, dict) and field in payload:
            current, known = json_text(payload[field], ensure_ascii=True, sort_keys=True), True
        else:
            current, known = "absent", False
        patched = json_text(patch[field], ensure_ascii=True, sort_keys=True)
        changes.append(
            {
                "field": field,
                "current": current,
                "current_known": known,
                "patched": patched,
                "same": known and current == patched,
            }
        )
    return changes


def _error_text(exc):
    """A user-facing line for a refused action."""
    return message_of_errors(exc.errors) if isinstance(exc, Invalid) else str(exc)


def _may_approve(user, replay):
    return (
        replay.status == ReplayStatus.PENDING_APPROVAL and can(user, Perm.APPROVE) and not replay.is_requested_by(user)
    )


def _may_cancel(user, replay):
    return replay.status in replays.CANCELLABLE_STATUSES and can(user, Perm.ACT)


def _records_view(records):
    return [
        {"record": r, "payload": pretty_json(r.payload), "changes": patch_changes(r.payload, r.patch)} for r in records
    ]


def _records_patched_first(replay):
    """A replay's records, those with a patch first (what an approver must read)."""
    unpatched = ExpressionWrapper(Q(patch__isnull=True), output_field=BooleanField())
    return replay.records.annotate(unpatched=unpatched).order_by("unpatched", "id")


@login_required
def replay_detail(request, pk):
    replay = get_replay_for_user(request.user, pk)
    from opsconsole.models import AuditEntry

    history = AuditEntry.objects.filter(object_type="replay", object_id=str(replay.pk)).order_by("at", "id")
    records = Paginator(_records_patched_first(replay), RECORDS_PER_PAGE).get_page(request.GET.get("page"))
    context = {
        "replay": replay,
        "records": _records_view(records.object_list),
        "records_page": records,
        "patched": replay.records.exclude(patch__isnull=True).count(),
        "deliveries": replay.deliveries.all(),
        "history": history,
        "result": pretty_json(replay.result),
        "may_approve": _may_approve(request.user, replay),
        "own_request": replay.is_requested_by(request.user),
        "may_cancel": _may_cancel(request.user, replay),
    }
    return render(request, "integrations/replay_detail.html", context)


@login_required
def tenant_replays(request, tenant):
    tenant = get_tenant_for_user(request.user, tenant)
    rows = replays_for(request.user).filter(tenant=tenant)
    status = request.GET.get("status") or ""
    if status:
        if status not in ReplayStatus.values:
            raise Http404("No such status.")
        rows = rows.filter(status=status)
    integrations = Integration.objects.filter(tenant=tenant).order_by("name")
    integration = request.GET.get("integration") or ""
    if integration:
        if "\x00" in integration:
            raise Http404("No such integration.")
        if not integrations.filter(slug=integration).exists():
            raise Http404("No such integration.")
        rows = rows.filter(integration__slug=integration)
    page = Paginator(rows.order_by("-created_at", "-id").select_related("exception"), 50).get_page(
        request.GET.get("page")
    )
    context = {
        "tenant": tenant,
        "page": page,
        "statuses": ReplayStatus.values,
        "integrations": integrations,
        "status": status,
        "integration": integration,
    }
    return render(request, "integrations/replay_list.html", context)


@login_required
def approvals(request):
    if not can(request.user, Perm.APPROVE):
        raise DjangoPermissionDenied
    pending = (
        replays_for(request.user)
        .filter(status=ReplayStatus.PENDING_APPROVAL)
        .select_related("exception", "tenant", "integration", "requested_by")
        .annotate(n_records=Count("records"), n_patched=Count("records", filter=Q(records__patch__isnull=False)))
        .order_by("created_at", "id")
    )
    page = Paginator(pending, APPROVALS_PER_PAGE).get_page(request.GET.get("page"))
    items = []
    for r in page.object_list:
        shown = list(_records_patched_first(r)[:APPROVAL_RECORDS])
        items.append(
            {
                "replay": r,
                "records": _records_view(shown),
                # The whole replay fits here: decide on this page; else on the replay's own pages.
                "complete": len(shown) >= r.n_records,
                "own_request": r.is_requested_by(request.user),
            }
        )
    return render(request, "integrations/replay_approvals.html", {"items": items, "page": page})


def _back(request, default):
    target = request.POST.get("next") or ""
    if target and url_has_allowed_host_and_scheme(target, {request.get_host()}, require_https=request.is_secure()):
        return redirect(target)
    return redirect(default)


@login_required
@require_POST
def replay_action(request, pk, action):
    replay = get_replay_for_user(request.user, pk)
    service = {"approve": replays.approve, "reject": replays.reject, "cancel": replays.cancel}[action]
    try:
        service(request.user, replay, request.POST.get("note", ""))
    except NotPermitted as exc:
        raise DjangoPermissionDenied(str(exc)) from None
    except DomainError as exc:
        messages.error(request, _error_text(exc))
    else:
        done = {"approve": "approved", "reject": "rejected", "cancel": "cancelled"}[action]
        messages.success(request, f"Replay {done}.")
    return _back(request, reverse("integrations-replay", args=[replay.pk]))


# Records per page of the replay record picker, and how far it counts.
PICKER_PER_PAGE = 25
PICKER_COUNT_CAP = 1_000


def replay_form_context(user, exception, params=None):
    """Context of ``integrations/_replay_form.html`` for ``exception``: how
    many records a replay of "all not yet remediated" takes, and one page of
    the record picker (``rq`` searches record ids, ``rpage`` pages), read in
    the database whatever the number of records."""
    params = params or {}
    search = (params.get("rq") or "").strip()[:200].replace("\x00", "")
    picker = CappedPaginator(replays.replayable_records(exception, search), PICKER_PER_PAGE, cap=PICKER_COUNT_CAP)
    page = picker.get_page(params.get("rpage"))
    everything = picker
    if search:  # the "all" button counts every replayable record, not the matches
        everything = CappedPaginator(replays.replayable_records(exception), PICKER_PER_PAGE, cap=PICKER_COUNT_CAP)
    replayable = everything.count
    return {
        "replay_exception": exception,
        "replay_replayable": replayable,
        "replay_replayable_label": everything.count_label,
        "replay_picker": page,
        "replay_search": search,
        "replay_picker_open": bool(search or params.get("rpage")),
        "may_request_replay": can(user, Perm.ACT) and replayable > 0,
        "replay_needs_approval": exception.integration.approval_required,
    }


@login_required
@require_http_methods(["GET", "POST"])
def exception_replay(request, pk):
    """GET: the request form alone; POST: request the replay, then go to it
    (or back to ``next`` with the error)."""
    exception = get_exception_for_user(request.user, pk)
    if request.method == "GET":
        context = replay_form_context(request.user, exception, request.GET)
        return render(request, "integrations/replay_request.html", {"exception": exception, **context})
    if not can(request.user, Perm.ACT):
        raise DjangoPermissionDenied
    # "all": every record not yet remediated; "picked": the ticked ones, which must be some.
    scope = request.POST.get("scope")
    records = None if scope == "all" else (request.POST.getlist("records") or None)
    if scope == "picked" and not records:
        messages.error(request, "records: tick at least one record, or replay all records not yet remediated.")
        return _back(request, reverse("integrations-exception-replay", args=[exception.pk]))
    patch_text = request.POST.get("patch", "").strip()
    try:
        patch = json.loads(patch_text) if patch_text else {}
    except (ValueError, RecursionError) as exc:
        messages.error(request, f"patch: not valid JSON ({exc or 'nested too deeply'}).")
        return _back(request, reverse("integrations-exception-replay", args=[exception.pk]))
    try:
        if not isinstance(patch, dict):
            raise Invalid({"patch": ["Expected an object of {RECORD_ID: {field: value}}."]})
        replay = replays.request_replay(
            request.user, exception, records=records, reason=request.POST.get("reason", ""), patch=patch
        )
    except NotPermitted as exc:
        raise DjangoPermissionDenied(str(exc)) from None
    except DomainError as exc:
        messages.error(request, _error_text(exc))
        return _back(request, reverse("integrations-exception-replay", args=[exception.pk]))
    if replay.status == ReplayStatus.PENDING_APPROVAL:
        messages.success(request, "Replay requested; it waits for approval by a second person.")
    else:
        messages.success(request, "Replay requested and queued.")
    return redirect("integrations-replay", pk=replay.pk)
