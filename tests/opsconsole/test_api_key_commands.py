"""create_api_key and revoke_api_key (contract section 1)."""

from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from integrations.models import ApiKey
from tests import factories as f


def run(*args):
    out = StringIO()
    call_command(*args, stdout=out, stderr=StringIO())
    return out.getvalue()


def test_a_tenant_key_is_printed_alone_and_authenticates(contoso):
    out = run("create_api_key", "--tenant", "contoso", "--name", "te-poster")
    assert out.endswith("\n") and out.count("\n") == 1
    raw = out.strip()
    key = ApiKey.objects.get(name="te-poster")
    assert key.tenant == contoso and key.scopes == ["ingest"]
    assert raw.startswith(key.prefix + ".")
    assert raw not in (key.key_hash, key.prefix)
    # Authenticated (a key may not read the audit log: 403), not unknown (401).
    assert f.client_with(raw).get("/api/v1/audit").status_code == 403
    assert f.client_with(raw + "x").get("/api/v1/audit").status_code == 401


def test_scopes_can_be_given_several_times(contoso):
    run("create_api_key", "--tenant", "contoso", "--name", "bi", "--scope", "read", "--scope", "ingest")
    assert ApiKey.objects.get(name="bi").scopes == ["ingest", "read"]


def test_a_personal_token_acts_with_its_users_role(manager, support):
    raw = run("create_api_key", "--user", "max@northwind.example", "--name", "laptop").strip()
    assert ApiKey.objects.get(name="laptop").user == manager
    assert f.client_with(raw).get("/api/v1/audit").status_code == 200
    raw = run("create_api_key", "--user", "ana@northwind.example", "--name", "laptop2").strip()
    assert f.client_with(raw).get("/api/v1/audit").status_code == 403


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--tenant", "initech", "--name", "x"], "unknown tenant 'initech'"),
        (["--user", "nobody@northwind.example", "--name", "x"], "unknown user 'nobody@northwind.example'"),
    ],
)
def test_an_unknown_tenant_or_user_is_an_error(contoso, args, message):
    with pytest.raises(CommandError) as info:
        run("create_api_key", *args)
    assert info.value.returncode == 1
    assert str(info.value) == message
    assert ApiKey.objects.count() == 0


def test_revoking_by_prefix_or_whole_key_gives_401_afterwards(manager, contoso):
    raw = run("create_api_key", "--user", "max@northwind.example", "--name", "laptop").strip()
    client = f.client_with(raw)
    assert client.get("/api/v1/audit").status_code == 200
    out = run("revoke_api_key", raw.split(".")[0])
    assert out.startswith("Revoked 'laptop'")
    assert client.get("/api/v1/audit").status_code == 401

    raw = run("create_api_key", "--tenant", "contoso", "--name", "worker").strip()
    run("revoke_api_key", raw)
    assert f.client_with(raw).get("/api/v1/audit").status_code == 401
    assert ApiKey.objects.active().count() == 0


def test_revoking_an_unknown_key_is_an_error(db):
    with pytest.raises(CommandError) as info:
        run("revoke_api_key", "ok_000000000000.secret")
    assert info.value.returncode == 1
    assert str(info.value) == "unknown key"


def test_creating_and_revoking_are_audited(contoso):
    from opsconsole.models import AuditEntry

    raw = run("create_api_key", "--tenant", "contoso", "--name", "worker", "--actor", "admin@northwind.example")
    run("revoke_api_key", raw.strip())
    actions = list(AuditEntry.objects.order_by("id").values_list("action", "actor", "tenant_id"))
    assert actions == [
        ("apikey.create", "admin@northwind.example", contoso.pk),
        ("apikey.revoke", "system", contoso.pk),
    ]
