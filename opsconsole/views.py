"""Home page (staff: the tenants they may see, each with its integrations;
customers land on their portal) and the favicon."""

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.cache import patch_vary_headers

from integrations.overview import integration_rows
from opsconsole.access import tenants_for
from opsconsole.branding import branding_for
from opsconsole.lib.icons import icon_from_logo, letter_icon


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


def favicon(request):
    """The request's brand as an icon (/favicon.ico and <link rel=icon>): the
    partner's logo when it is square enough, else its initial on its colour."""
    brand = branding_for(getattr(request, "partner", None))
    logo = icon_from_logo(brand.logo)
    if logo:
        content_type, body = logo
    else:
        content_type = "image/svg+xml"
        body = letter_icon(brand.initial, brand.primary_color, brand.on_primary)
    response = HttpResponse(body, content_type=content_type)
    # The icon depends on the host name and on who is signed in.
    response["Cache-Control"] = "private, max-age=86400"
    patch_vary_headers(response, ("Host", "Cookie"))
    return response
