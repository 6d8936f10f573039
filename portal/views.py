"""The customer portal: the page a customer user lands on (every tenant they
may see), and one tenant's portal (staff preview what its customers see)."""

from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.utils import timezone

from opsconsole.access import get_tenant_for_user, tenants_for
from portal.summary import tenant_summary


@login_required
def portal(request):
    if not request.user.is_customer:
        # Partner staff start from the integrations; a tenant's portal is one click away.
        return redirect("home")
    now = timezone.now()
    tenants = tenants_for(request.user).select_related("partner").order_by("name")
    sections = [tenant_summary(t, request.user, now) for t in tenants]
    return render(request, "portal/portal.html", {"sections": sections, "single": len(sections) == 1})


@login_required
def portal_tenant(request, tenant):
    tenant = get_tenant_for_user(request.user, tenant)
    summary = tenant_summary(tenant, request.user, timezone.now())
    return render(request, "portal/portal.html", {"sections": [summary], "single": True, "tenant": tenant})
