"""Home page (``/``): staff see the tenants they may see, each with its
integrations; customers land on their portal."""

from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render

from integrations.overview import integration_rows
from opsconsole.access import tenants_for


@login_required
def home(request):
    if getattr(request.user, "is_customer", False):
        return redirect("portal")
    tenants = list(tenants_for(request.user).order_by("name"))
    rows = integration_rows(tenants)
    by_tenant = {t.pk: [] for t in tenants}
    for row in rows:
        by_tenant[row.integration.tenant_id].append(row)
    sections = [(t, by_tenant[t.pk]) for t in tenants]
    return render(request, "opsconsole/home.html", {"sections": sections})
