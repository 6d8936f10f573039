"""The role matrix of contract section 2, and who sees which tenants."""

import pytest

from opsconsole.access import KeyPrincipal, get_tenant_for_user, tenants_for
from opsconsole.roles import Perm, Role, can
from tests import factories as f

# Contract section 2, row by row.
EXPECTED = {
    Perm.VIEW: {Role.PARTNER_ADMIN, Role.MANAGER, Role.SUPPORT, Role.CUSTOMER_APPROVER, Role.CUSTOMER_VIEWER},
    Perm.ACT: {Role.PARTNER_ADMIN, Role.MANAGER, Role.SUPPORT},
    Perm.APPROVE: {Role.PARTNER_ADMIN, Role.MANAGER, Role.CUSTOMER_APPROVER},
    Perm.GOVERN: {Role.PARTNER_ADMIN, Role.MANAGER},
    Perm.CONFIGURE: {Role.PARTNER_ADMIN},
}


@pytest.mark.parametrize("perm", list(Perm))
@pytest.mark.parametrize("role", list(Role))
def test_the_matrix_matches_the_contract(role, perm, northwind):
    user = f.make_user(northwind, role)
    assert can(user, perm) is (role in EXPECTED[perm])


def test_anonymous_users_can_do_nothing():
    from django.contrib.auth.models import AnonymousUser

    assert not any(can(AnonymousUser(), perm) for perm in Perm)


@pytest.mark.parametrize("role", [Role.PARTNER_ADMIN, Role.MANAGER, Role.SUPPORT])
def test_partner_wide_roles_see_every_tenant_of_their_partner(role, northwind, contoso, fabrikam, globex):
    user = f.make_user(northwind, role)
    assert set(tenants_for(user)) == {contoso, fabrikam}


@pytest.mark.parametrize("role", [Role.CUSTOMER_APPROVER, Role.CUSTOMER_VIEWER])
def test_customers_see_only_their_own_tenants(role, northwind, contoso, fabrikam):
    user = f.make_user(northwind, role, tenants=[contoso])
    assert list(tenants_for(user)) == [contoso]
    with pytest.raises(Exception) as excinfo:
        get_tenant_for_user(user, "fabrikam")
    assert excinfo.typename == "Http404"


def test_a_customer_attached_to_another_partners_tenant_still_sees_nothing_of_it(northwind, globex):
    user = f.make_user(northwind, Role.CUSTOMER_VIEWER, tenants=[globex])
    assert list(tenants_for(user)) == []


def test_a_tenant_key_sees_its_own_tenant_only(contoso, fabrikam):
    from integrations.keys import create_key

    key, _ = create_key(name="reader", tenant=contoso, scopes=["read"])
    assert list(tenants_for(KeyPrincipal(key))) == [contoso]
