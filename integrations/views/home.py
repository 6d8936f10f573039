"""Home page (``/``): the tenants a user may see, each with its integrations."""

from django.contrib.auth.decorators import login_required
from django.shortcuts import render

from integrations.overview import integration_rows
from opsconsole.access import tenants_for


@login_required
def home(request):
    tenants = list(tenants_for(request.user).order_by("name"))
    rows = integration_rows(tenants)
    by_tenant = {t.pk: [] for t in tenants}
    for row in rows:
        by_tenant[row.integration.tenant_id].append(row)
    sections = [(t, by_tenant[t.pk]) for t in tenants]
    return render(request, "opsconsole/home.html", {"sections": sections})
