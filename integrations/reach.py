"""The reach check of the API's error handler (contract section 2): anything
outside a caller's reach answers 404 before any scope or role check."""

from integrations import access
from integrations import query_params as params

# URL names of the API whose ``pk`` names an object of this app, with the
# function that finds it within a caller's reach.
_REACH_BY_URL = (
    ("api-exception", lambda user, pk: access.get_exception_for_user(user, pk)),
    ("api-replay", lambda user, pk: access.get_replay_for_user(user, pk)),
    ("api-run", lambda user, pk: access.get_run_for_user(user, pk)),
)


def check_reach(request, kwargs):
    """Raise Http404 when the request names anything outside the caller's
    reach: the object of its URL, or the ``tenant`` or ``integration`` it
    filters on. Contract section 2: that 404 takes precedence over every
    scope and role check, so the API's error handler calls this before it
    answers 403 (opsconsole.errors, through
    ``settings.OPSCONSOLE_REACH_CHECK``)."""
    user = request.user
    match = getattr(request, "resolver_match", None)
    name = getattr(match, "url_name", None) or ""
    if "pk" in kwargs:
        for prefix, find in _REACH_BY_URL:
            if name == prefix or name.startswith(prefix + "-"):
                find(user, kwargs["pk"])
                break
    query = getattr(request, "query_params", request.GET)
    tenant = params.tenant(query, user)
    params.integration(query, user, tenant)
