"""The inbox (``/inbox/``): open exceptions across the user's tenants, most
urgent first, with filters, saved views and bulk actions for staff."""

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST
from rest_framework.exceptions import ValidationError

from integrations.access import exceptions_for, integrations_for
from integrations.errors import IllegalTransition, InvalidAssignee
from integrations.inbox import SAVED_VIEWS, example_messages, filter_exceptions
from integrations.models import ExceptionStatus, Priority
from integrations.sync_exceptions import staff
from integrations.views.forms import BulkForm, until_in
from opsconsole.access import tenants_for
from opsconsole.lib.localtime import local_text, zone_label
from opsconsole.lib.paging import CappedPaginator
from opsconsole.models import User
from opsconsole.roles import PARTNER_WIDE, Perm, can
from sla.clock import clocks_for

PAGE_SIZES = (25, 50, 100)
# The inbox counts at most this many exceptions (a multiple of every page size).
COUNT_CAP = 10_000
ERROR_CLASSES = (
    "validation",
    "mapping",
    "reference",
    "duplicate",
    "auth",
    "rate_limit",
    "timeout",
    "connectivity",
    "target_error",
    "unknown",
)


def staff_users(user):
    """Who exceptions can be assigned to: the partner's active staff."""
    if not getattr(user, "partner_id", None):
        return User.objects.none()
    return User.objects.filter(partner_id=user.partner_id, role__in=PARTNER_WIDE, is_active=True).order_by("email")


def clock_badge(clock, tenant=None):
    """(text, css class, tooltip) of an exception's SLA clock for a list row:
    the deadline that comes next, else whether they were met."""
    from integrations.templatetags.triage import duration

    d = clock.next
    if d is not None:
        if d.breached:
            text, css = f"{d.kind.capitalize()} overdue {duration(d.left_seconds)}", "clock-breached"
        else:
            css = "clock-soon" if d.left_seconds < 7200 else "clock-ok"
            text = f"{d.kind.capitalize()} in {duration(d.left_seconds)}"
        return text, css, f"Due {local_text(d.due, tenant)} ({d.within_business_minutes} business minutes)"
    done = [x for x in (clock.acknowledge, clock.resolve) if x is not None]
    if not done:
        return "no objective", "muted", ""
    if all(x.met for x in done):
        return "met", "clock-ok", ""
    return "missed", "clock-breached", ""


def _page_size(request):
    try:
        size = int(request.GET.get("page_size", PAGE_SIZES[0]))
    except ValueError:
        return PAGE_SIZES[0]
    return size if size in PAGE_SIZES else PAGE_SIZES[0]


def _errors_text(exc):
    detail = exc.detail if isinstance(exc.detail, dict) else {"filter": exc.detail}
    return "; ".join(f"{name}: {' '.join(str(m) for m in msgs)}" for name, msgs in detail.items())


@login_required
def inbox(request):
    now = timezone.now()
    try:
        qs, filters = filter_exceptions(request.user, request.GET, default_open=True, now=now)
    except ValidationError as exc:
        return HttpResponseBadRequest(f"Bad filter: {_errors_text(exc)}", content_type="text/plain")
    qs = qs.select_related("tenant", "integration", "assignee")
    paginator = CappedPaginator(qs, _page_size(request), cap=COUNT_CAP)
    # A malformed page is the first, one past the end the last.
    page = paginator.get_page(request.GET.get("page"))
    rows = list(page.object_list)
    clocks = clocks_for(rows, now)
    examples = example_messages(rows)
    items = [(e, clock_badge(clocks[e.pk], e.tenant), examples.get(e.pk, "")) for e in rows]
    may_act = can(request.user, Perm.ACT)
    tenants = list(tenants_for(request.user).order_by("name").only("slug", "name", "timezone"))
    zones = {t.timezone for t in tenants}
    integrations = list(
        integrations_for(request.user).order_by("tenant__name", "name").values("slug", "name", "tenant__name")
    )
    context = {
        "page": page,
        "items": items,
        "filters": filters,
        "saved_views": SAVED_VIEWS,
        "tenants": tenants,
        "integrations": integrations,
        "statuses": ExceptionStatus.values + ["all"],
        "priorities": Priority.values,
        "error_classes": ERROR_CLASSES,
        "page_sizes": PAGE_SIZES,
        "may_act": may_act,
        "staff": list(staff_users(request.user).values_list("email", flat=True)) if may_act else [],
        "any_filter": any(request.GET.get(k) for k in request.GET if k not in ("page", "page_size")),
        "now": now,
        # The zone the bulk "Until" is read in: one zone for all tenants in
        # reach, else each exception's tenant's own.
        "until_zone": zone_label(zones.pop()) if len(zones) == 1 else "each tenant's local time",
    }
    return render(request, "integrations/inbox.html", context)


def _back(request, default="/inbox/"):
    target = request.POST.get("next") or default
    if not url_has_allowed_host_and_scheme(target, {request.get_host()}, require_https=request.is_secure()):
        target = default
    return target


@login_required
@require_POST
def inbox_bulk(request):
    """Bulk acknowledge, assign, resolve or ignore; each exception audited.
    Exceptions not in reach are not touched; those whose state forbids the
    action are skipped and counted."""
    if not can(request.user, Perm.ACT):
        raise PermissionDenied("Your role does not allow this.")
    form = BulkForm(request.POST, staff=staff_users(request.user))
    if not form.is_valid():
        for field, errors in form.errors.items():
            prefix = "" if field == "__all__" else f"{field}: "
            messages.error(request, prefix + " ".join(errors))
        return redirect(_back(request))
    data = form.cleaned_data
    chosen = list(exceptions_for(request.user).filter(pk__in=data["ids"]).select_related("tenant").order_by("pk"))
    done, skipped = 0, 0
    # "Until" is wall-clock time, read in each exception's tenant's zone.
    until_by_tenant, refused = {}, {}
    if data["action"] == "ignore" and data["until"] is not None:
        for exception in chosen:
            tenant = exception.tenant
            if tenant.pk in until_by_tenant or tenant.pk in refused:
                continue
            try:
                until_by_tenant[tenant.pk] = until_in(data["until"], tenant)
            except forms.ValidationError as exc:
                refused[tenant.pk] = f"{tenant.name}: until: {' '.join(exc.messages)}"
        for text in refused.values():
            messages.error(request, f"Not ignored in {text}")
    for exception in chosen:
        if exception.tenant_id in refused:
            skipped += 1
            continue
        try:
            if data["action"] == "acknowledge":
                staff.acknowledge(exception, request.user)
            elif data["action"] == "assign":
                staff.assign(exception, request.user, data["assignee"] or None)
            elif data["action"] == "resolve":
                staff.resolve(exception, request.user, data["note"])
            elif data["action"] == "ignore":
                staff.ignore(exception, request.user, data["note"], until_by_tenant.get(exception.tenant_id))
            done += 1
        except (IllegalTransition, InvalidAssignee):
            skipped += 1
    verb = {"acknowledge": "Acknowledged", "assign": "Assigned", "resolve": "Resolved", "ignore": "Ignored"}
    text = f"{verb[data['action']]} {done} exception{'s' if done != 1 else ''}."
    if skipped:
        text += f" {skipped} skipped: their status does not allow it."
    messages.success(request, text)
    return redirect(_back(request))
