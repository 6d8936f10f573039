"""Query-string filters of the staff lists (contract 4.1, 4.2): malformed
values are a 400 naming the parameter, unknown or unreachable tenants and
integrations a 404. The HTML inbox reuses them."""

import datetime as dt

from django.http import Http404
from rest_framework.exceptions import ValidationError

from integrations.access import integrations_for
from opsconsole.access import get_tenant_for_user
from opsconsole.lib.time_params import iso_z, parse_instant  # noqa: F401 - iso_z is re-exported

MAX_PARAM = 200


def text(params, name, max_length=MAX_PARAM):
    value = params.get(name)
    if value is None:
        return None
    value = value.strip()
    if not value:
        return None
    if "\x00" in value:
        raise ValidationError({name: ["Must not contain NUL characters."]})
    if len(value) > max_length:
        raise ValidationError({name: [f"At most {max_length} characters."]})
    return value


def choice(params, name, choices):
    """One value, or several separated by commas, each among ``choices``."""
    value = text(params, name)
    if value is None:
        return None
    values = [v.strip() for v in value.split(",") if v.strip()]
    bad = [v for v in values if v not in choices]
    if bad or not values:
        raise ValidationError({name: [f"'{bad[0] if bad else value}' is not one of: {', '.join(choices)}."]})
    return values


def tenant(params, user, name="tenant"):
    slug = text(params, name)
    if slug is None:
        return None
    return get_tenant_for_user(user, slug)


def integration(params, user, tenant_obj=None, name="integration"):
    """The integrations named by slug (within ``tenant_obj`` when given), as a
    list: the same slug may exist in several tenants in reach."""
    slug = text(params, name)
    if slug is None:
        return None
    qs = integrations_for(user).filter(slug=slug)
    if tenant_obj is not None:
        qs = qs.filter(tenant=tenant_obj)
    found = list(qs)
    if not found:
        raise Http404("No such integration.")
    return found


def instant(params, name, tzinfo=dt.UTC, end_of_day=False):
    """An ISO date or timestamp (``opsconsole.lib.time_params``). A date is
    local midnight in ``tzinfo`` (the tenant's zone when one is filtered on);
    with ``end_of_day`` the midnight after it, so ``to=2026-11-26`` takes in
    the whole day."""
    value = text(params, name, max_length=64)
    if value is None:
        return None
    return parse_instant(value, name, tzinfo=tzinfo, end_of_day=end_of_day)
