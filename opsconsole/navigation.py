"""The main navigation: which sections a role sees, the tenant the per-tenant
sections (SLA, Trends, Reports) open on, and the tenant switcher, which keeps
the kind of page when it changes tenant (SLA of one tenant → SLA of another).

Only URL names of the apps are used here (no imports of them), so the project
package stays the bottom floor."""

from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect
from django.urls import NoReverseMatch, reverse
from django.utils.http import urlencode

from opsconsole.access import get_tenant_for_user, tenants_for
from opsconsole.roles import PARTNER_WIDE, Perm, can

SESSION_KEY = "nav_tenant"

# Pages of one tenant, by URL name: switching tenant opens the same page of the other.
SAME_KIND = {
    "sla-page": "sla-page",
    "sla-trends": "sla-trends",
    "reports-archive": "reports-archive",
    "reports-html": "reports-archive",
    "reports-pdf": "reports-archive",
    "reports-csv": "reports-archive",
    "alerts-tenant": "alerts-tenant",
    "alerts-partner": "alerts-tenant",
    "integrations-tenant": "integrations-tenant",
    "integrations-connect": "integrations-connect",
    "integrations-tenant-replays": "integrations-tenant-replays",
    "portal-tenant": "portal-tenant",
    "portal": "portal-tenant",
}
# Lists across tenants that filter by ``?tenant=``: switching narrows them.
FILTERED_LISTS = {"integrations-inbox"}


def _overview(user):
    return "portal-tenant" if getattr(user, "is_customer", False) else "integrations-tenant"


def switch_target(user, tenant, kind):
    """Where the switcher takes ``user`` for ``tenant`` from a page of ``kind``."""
    if kind in FILTERED_LISTS or (kind or "").startswith("governance-"):
        try:
            return f"{reverse(kind)}?{urlencode({'tenant': tenant.slug})}"
        except NoReverseMatch:
            pass
    name = SAME_KIND.get(kind, _overview(user))
    if name == "integrations-connect" and not can(user, Perm.CONFIGURE):
        name = _overview(user)
    return reverse(name, kwargs={"tenant": tenant.slug})


@login_required
def switch_tenant(request):
    """``/switch/?tenant=<slug>&kind=<url name>``: remember the tenant for the
    navigation and open the same kind of page for it (404 outside reach)."""
    slug = request.GET.get("tenant", "")
    if not slug:
        raise Http404("No such tenant.")
    tenant = get_tenant_for_user(request.user, slug)
    request.session[SESSION_KEY] = tenant.slug
    return redirect(switch_target(request.user, tenant, request.GET.get("kind", "")[:80]))


def navigation(request):
    """``nav`` for base.html: the tenants of the switcher, the current one and
    what the role may open."""
    user = getattr(request, "user", None)
    if not getattr(user, "is_authenticated", False) or not getattr(user, "role", None) and not user.is_superuser:
        return {}
    tenants = list(tenants_for(user).order_by("name").values_list("slug", "name"))
    slugs = [slug for slug, _ in tenants]
    match = getattr(request, "resolver_match", None)
    wanted = (
        (match.kwargs.get("tenant") if match else None) or request.GET.get("tenant") or request.session.get(SESSION_KEY)
    )
    current = wanted if wanted in slugs else (slugs[0] if slugs else None)
    role = user.role
    staff = role in PARTNER_WIDE or user.is_superuser
    return {
        "nav": {
            "tenants": tenants,
            "tenant": current,
            "kind": match.url_name if match else "",
            "staff": staff,
            "govern": can(user, Perm.GOVERN),
            "approve": can(user, Perm.APPROVE),
            "customer": not staff,
        }
    }
