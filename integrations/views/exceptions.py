"""The exception page (``/exceptions/<id>/``) and its action forms."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Count
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from integrations.access import get_exception_for_user, require_act
from integrations.errors import IllegalTransition, InvalidAssignee
from integrations.models import Failure, GroupedBy
from integrations.replay_views import replay_form_context
from integrations.sync_exceptions import staff
from integrations.views.forms import AssignForm, CommentForm, IgnoreForm, ResolveForm
from integrations.views.inbox import staff_users
from opsconsole.lib.paging import CountedPaginator
from opsconsole.models import AuditEntry
from opsconsole.roles import Perm, can
from sla.clock import clocks_for

OCCURRENCES_PER_PAGE = 20
TIMELINE_LIMIT = 200

GROUPING_WHY = {
    GroupedBy.FINGERPRINT: "The worker sent the same fingerprint for these failures.",
    GroupedBy.ERROR_CODE: "These failures share the entity and the error code.",
    GroupedBy.MESSAGE: "No error code was given: these failures share the entity, the error class and "
    "the message once ids, numbers, quoted text and e-mail addresses are replaced by placeholders.",
}


GROUPING_LABEL = {
    GroupedBy.FINGERPRINT: "Fingerprint",
    GroupedBy.ERROR_CODE: "Error code",
    GroupedBy.MESSAGE: "Message",
}


# Audit actions that say the exception opened; the page shows each once.
OPENING_ACTIONS = ("exception.opened", "exception.regressed", "exception.reopened")


def timeline_of(exception):
    """Audit entries of the exception and its comments, oldest first. The
    opening is shown once: as its audit entry when ingest wrote one, else
    (exceptions opened by hand or before openings were audited) from
    ``opened_at``."""
    audited = AuditEntry.objects.filter(object_type="syncexception", object_id=str(exception.pk))
    entries = list(audited.order_by("-at", "-id")[:TIMELINE_LIMIT])
    comments = list(exception.comments.select_related("author").order_by("-created", "-id")[:TIMELINE_LIMIT])
    events = [
        {"at": e.at, "kind": "opened" if e.action == "exception.opened" else "audit", "entry": e}
        for e in entries
        if e.action != "exception.comment"
    ]
    events += [{"at": c.created, "kind": "comment", "comment": c} for c in comments]
    if not audited.filter(action__in=OPENING_ACTIONS).exists():
        events.append({"at": exception.opened_at, "kind": "opened"})
    return sorted(events, key=lambda ev: ev["at"])


@login_required
def exception_page(request, pk):
    exception = get_exception_for_user(request.user, pk)
    now = timezone.now()
    clock = clocks_for([exception], now)[exception.pk]
    # The exception keeps its number of occurrences (failure rows): no count.
    occurrences = CountedPaginator(
        Failure.objects.filter(exception=exception).select_related("run").order_by("-occurred_at", "-id"),
        OCCURRENCES_PER_PAGE,
        count=exception.occurrences,
    )
    page = occurrences.get_page(request.GET.get("page"))
    may_act = can(request.user, Perm.ACT)
    context = {
        "exception": exception,
        "tenant": exception.tenant,
        "now": now,
        "clock": clock,
        "page": page,
        "why": GROUPING_WHY.get(exception.grouped_by, ""),
        "grouped_label": GROUPING_LABEL.get(exception.grouped_by, exception.grouped_by),
        "timeline": timeline_of(exception),
        "may_act": may_act,
        "staff": list(staff_users(request.user).values_list("email", flat=True)) if may_act else [],
    }
    # The "Request replay" form and this exception's replays (integrations.replay_views).
    context.update(replay_form_context(request.user, exception, request.GET))
    context["replays"] = (
        exception.replays.select_related("requested_by").annotate(n_records=Count("records")).order_by("-created_at")
    )[:20]
    return render(request, "integrations/exception.html", context)


def _action(name):
    @login_required
    @require_POST
    def view(request, pk):
        exception = get_exception_for_user(request.user, pk)
        require_act(request.user)
        back = redirect("integrations-exception", pk=exception.pk)
        try:
            if name == "acknowledge":
                staff.acknowledge(exception, request.user)
                messages.success(request, "Acknowledged.")
            elif name == "assign":
                form = AssignForm(request.POST)
                if not form.is_valid():
                    messages.error(request, "Choose a staff user.")
                    return back
                email = form.cleaned_data["assignee"] or None
                staff.assign(exception, request.user, email)
                messages.success(request, f"Assigned to {email}." if email else "Unassigned.")
            elif name == "comment":
                form = CommentForm(request.POST)
                if not form.is_valid():
                    messages.error(request, "A comment needs some text (at most 10,000 characters).")
                    return back
                staff.comment(exception, request.user, form.cleaned_data["body"])
                messages.success(request, "Comment added.")
            elif name == "resolve":
                form = ResolveForm(request.POST)
                if not form.is_valid():
                    messages.error(request, "The note is too long.")
                    return back
                staff.resolve(exception, request.user, form.cleaned_data["note"])
                messages.success(request, "Resolved.")
            elif name == "ignore":
                form = IgnoreForm(request.POST, tenant=exception.tenant)
                if not form.is_valid():
                    errors = "; ".join(f"{k}: {' '.join(v)}" for k, v in form.errors.items())
                    messages.error(request, f"Not ignored: {errors}")
                    return back
                staff.ignore(exception, request.user, form.cleaned_data["note"], form.cleaned_data["until"])
                messages.success(request, "Ignored.")
            elif name == "reopen":
                staff.reopen(exception, request.user)
                messages.success(request, "Reopened.")
            else:  # pragma: no cover - urls only route the names above
                raise Http404
        except IllegalTransition as exc:
            messages.error(request, str(exc))
        except InvalidAssignee as exc:
            messages.error(request, str(exc))
        return back

    view.__name__ = f"exception_{name}"
    return view


ACTIONS = ("acknowledge", "assign", "comment", "resolve", "ignore", "reopen")
action_views = {name: _action(name) for name in ACTIONS}
