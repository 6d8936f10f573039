"""Replay pages (HTML): a replay's detail, a tenant's replays, the approvals
queue, and the "Request replay" form that the exception page includes."""

import json

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_http_methods, require_POST
from rest_framework.exceptions import APIException, PermissionDenied, ValidationError

from integrations import replays
from integrations.access import get_exception_for_user, get_replay_for_user, replays_for
from integrations.models import REMEDIATED_STATES, Integration, ReplayStatus
from opsconsole.access import get_tenant_for_user
from opsconsole.lib.visible import json_text
from opsconsole.roles import Perm, can

# Bytes of a payload or patch shown on a page; the rest is cut.
SHOW_JSON_LIMIT = 4096


def pretty_json(value, limit=SHOW_JSON_LIMIT):
    if value is None:
        return ""
    text = json_text(value, sort_keys=True, ensure_ascii=True)
    if len(text) > limit:
        text = text[:limit] + f"\n… ({len(text) - limit} more characters)"
    return text


def _error_text(exc):
    """A user-facing line for a refused action."""
    detail = exc.detail
    if isinstance(detail, dict):
        parts = []
        for field, messages_ in detail.items():
            items = messages_ if isinstance(messages_, list) else [messages_]
            parts.append(f"{field}: {' '.join(str(m) for m in items)}")
        return "; ".join(parts)
    if isinstance(detail, list):
        return " ".join(str(d) for d in detail)
    return str(detail)


def _may_approve(user, replay):
    return (
        replay.status == ReplayStatus.PENDING_APPROVAL and can(user, Perm.APPROVE) and not replay.is_requested_by(user)
    )


def _may_cancel(user, replay):
    return replay.status in replays.CANCELLABLE_STATUSES and can(user, Perm.ACT)


def _records_view(replay):
    return [
        {
            "record": r,
            "payload": pretty_json(r.payload),
            "patch": pretty_json(r.patch),
        }
        for r in replay.records.all()
    ]


@login_required
def replay_detail(request, pk):
    replay = get_replay_for_user(request.user, pk)
    from opsconsole.models import AuditEntry

    history = AuditEntry.objects.filter(object_type="replay", object_id=str(replay.pk)).order_by("at", "id")
    context = {
        "replay": replay,
        "records": _records_view(replay),
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
        .select_related("exception")
        .prefetch_related("records")
        .order_by("created_at", "id")
    )
    items = [
        {
            "replay": r,
            "records": _records_view(r),
            "own_request": r.is_requested_by(request.user),
        }
        for r in pending[:200]
    ]
    return render(request, "integrations/replay_approvals.html", {"items": items})


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
    except PermissionDenied as exc:
        raise DjangoPermissionDenied(str(exc.detail)) from None
    except APIException as exc:
        messages.error(request, _error_text(exc))
    else:
        done = {"approve": "approved", "reject": "rejected", "cancel": "cancelled"}[action]
        messages.success(request, f"Replay {done}.")
    return _back(request, reverse("integrations-replay", args=[replay.pk]))


# The request form lists this many records; the rest are replayed by "all".
FORM_RECORDS = 500


def replay_form_context(user, exception):
    """Context of ``integrations/_replay_form.html`` for ``exception``: its
    records with their state, and whether ``user`` may request a replay."""
    latest = replays.first_records(exception, FORM_RECORDS)
    active = replays.active_record_keys(exception, list(latest))
    rows = [
        {
            "entity": key[0],
            "record_id": key[1],
            "state": failure.state,
            "message": failure.message,
            "selectable": failure.state not in REMEDIATED_STATES and key not in active,
        }
        for key, failure in sorted(latest.items())
    ]
    return {
        "replay_exception": exception,
        "replay_records": rows,
        "replay_records_more": max(0, exception.records - len(rows)),
        "may_request_replay": can(user, Perm.ACT)
        and (
            any(r["selectable"] for r in rows)
            or (exception.records > len(rows) and replays.has_replayable_records(exception))
        ),
        "replay_needs_approval": exception.integration.approval_required,
    }


@login_required
@require_http_methods(["GET", "POST"])
def exception_replay(request, pk):
    """GET: the request form alone; POST: request the replay, then go to it
    (or back to ``next`` with the error)."""
    exception = get_exception_for_user(request.user, pk)
    if request.method == "GET":
        context = replay_form_context(request.user, exception)
        return render(request, "integrations/replay_request.html", {"exception": exception, **context})
    if not can(request.user, Perm.ACT):
        raise DjangoPermissionDenied
    records = request.POST.getlist("records") or None
    patch_text = request.POST.get("patch", "").strip()
    try:
        patch = json.loads(patch_text) if patch_text else {}
    except (ValueError, RecursionError) as exc:
        messages.error(request, f"patch: not valid JSON ({exc or 'nested too deeply'}).")
        return _back(request, reverse("integrations-exception-replay", args=[exception.pk]))
    try:
        if not isinstance(patch, dict):
            raise ValidationError({"patch": ["Expected an object of {RECORD_ID: {field: value}}."]})
        replay = replays.request_replay(
            request.user, exception, records=records, reason=request.POST.get("reason", ""), patch=patch
        )
    except PermissionDenied as exc:
        raise DjangoPermissionDenied(str(exc.detail)) from None
    except APIException as exc:
        messages.error(request, _error_text(exc))
        return _back(request, reverse("integrations-exception-replay", args=[exception.pk]))
    if replay.status == ReplayStatus.PENDING_APPROVAL:
        messages.success(request, "Replay requested; it waits for approval by a second person.")
    else:
        messages.success(request, "Replay requested and queued.")
    return redirect("integrations-replay", pk=replay.pk)
