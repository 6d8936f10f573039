"""The tenant overview page (HTML): its integrations with health."""

from django.contrib.auth.decorators import login_required
from django.shortcuts import render

from integrations.overview import integration_rows
from opsconsole.access import get_tenant_for_user
from opsconsole.roles import Perm, can


@login_required
def tenant_overview(request, tenant):
    tenant = get_tenant_for_user(request.user, tenant)
    rows = integration_rows([tenant])
    can_connect = can(request.user, Perm.ACT)  # staff: the "Connect a worker" page
    return render(request, "integrations/tenant.html", {"tenant": tenant, "rows": rows, "can_connect": can_connect})
