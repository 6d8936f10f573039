"""Access functions for the objects of the integrations app (contract
section 2). Every view and viewset reaches exceptions, runs and integrations
through these: they scope by partner, tenant and role via
``opsconsole.access.tenants_for``, and anything outside reach is a 404."""

from django.core.exceptions import PermissionDenied
from django.http import Http404

from integrations.models import Integration, Run, SyncException
from opsconsole.access import is_key, tenants_for
from opsconsole.roles import Perm, can


def _pk(value):
    try:
        pk = int(value)
    except (TypeError, ValueError):
        raise Http404("Not found.") from None
    if not 0 < pk < 2**63:
        raise Http404("Not found.")
    return pk


def exceptions_for(user):
    return SyncException.objects.filter(tenant__in=tenants_for(user))


def get_exception_for_user(user, pk, *, for_update=False):
    qs = exceptions_for(user).select_related("tenant", "tenant__partner", "integration", "assignee")
    if for_update:
        qs = qs.select_for_update(of=("self",))
    exception = qs.filter(pk=_pk(pk)).first()
    if exception is None:
        raise Http404("No such exception.")
    return exception


def runs_for(user):
    return Run.objects.filter(tenant__in=tenants_for(user))


def get_run_for_user(user, pk):
    run = runs_for(user).select_related("tenant", "integration").filter(pk=_pk(pk)).first()
    if run is None:
        raise Http404("No such run.")
    return run


def integrations_for(user):
    return Integration.objects.filter(tenant__in=tenants_for(user))


def get_integration_for_user(user, tenant_slug, slug):
    integration = (
        integrations_for(user)
        .select_related("tenant", "source", "target", "owner")
        .filter(tenant__slug=tenant_slug, slug=slug)
        .first()
    )
    if integration is None:
        raise Http404("No such integration.")
    return integration


def require_act(user):
    """403 unless the user's role may acknowledge, assign, comment, resolve
    and ignore (call once the object was found, so 404 comes first). The same
    check as ``opsconsole.access.require``, raised as Django's PermissionDenied
    so that HTML views answer 403 as well as the API."""
    if is_key(user) or not can(user, Perm.ACT):
        raise PermissionDenied("Your role does not allow this.")


def replays_for(user):
    """Replays of the tenants ``user`` (or a tenant key) may see."""
    from integrations.models import Replay

    return Replay.objects.filter(tenant__in=tenants_for(user)).select_related(
        "tenant", "integration", "requested_by", "approved_by"
    )


def get_replay_for_user(user, pk):
    replay = replays_for(user).filter(pk=pk).first()
    if replay is None:
        raise Http404("No such replay.")
    return replay
