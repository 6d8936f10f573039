"""The configuration change log: config.apply audit entries keep old and new
values (secrets hidden), and the page shows them as created / updated
old → new / deleted."""

import copy
import shutil
from io import StringIO
from pathlib import Path

import pytest
import yaml
from django.conf import settings as django_settings
from django.core.management import call_command
from django.test import Client

from opsconsole import audit
from opsconsole.models import AuditEntry, Partner
from provisioning.config.loading import load_file

EXAMPLE = Path(django_settings.BASE_DIR) / "examples" / "northwind.yaml"


@pytest.fixture
def workdir(tmp_path, db):
    shutil.copytree(EXAMPLE.parent / "logos", tmp_path / "logos")
    return tmp_path


def apply(workdir, document, *args):
    path = workdir / "northwind.yaml"
    path.write_text(yaml.safe_dump(document, sort_keys=False))
    call_command("apply_config", str(path), *args, stdout=StringIO(), stderr=StringIO())
    return AuditEntry.objects.filter(action="config.apply").order_by("-at", "-id").first()


@pytest.fixture
def changed(workdir):
    doc = copy.deepcopy(load_file(EXAMPLE))
    apply(workdir, doc)
    tenant = doc["tenants"][0]
    tenant["retention_days"] = 90
    tenant["name"] = "<script>alert('x')</script> Contoso"
    integration = tenant["integrations"][0]
    integration["owner"] = "max@northwind.example"
    integration["replay_webhook"] = {"url": "https://worker.example/new", "secret": "s3cret-value"}
    del tenant["alerts"][1:]
    return apply(workdir, doc, "--prune")


def test_updates_keep_old_and_new_values_and_the_existing_keys(changed):
    data = changed.data
    assert data["updated"]["tenant"]["contoso"] == ["name", "retention_days"]
    values = data["values"]
    assert values["tenant"]["contoso"]["retention_days"] == {"old": 395, "new": 90}
    owner = values["integration"]["contoso/time-expense-posting"]["owner"]
    assert owner == {"old": "ana@northwind.example", "new": "max@northwind.example"}
    secret = values["integration"]["contoso/time-expense-posting"]["replay_webhook_secret"]
    assert secret == {"old": "[secret]", "new": "[secret]"}
    assert "s3cret-value" not in str(data)
    assert set(data) >= {"source", "prune", "created", "updated", "deleted", "counts"}
    assert data["deleted"]["alert"] == ["contoso#2 email"]


def test_the_page_reads_created_updated_and_deleted(changed, northwind_manager):
    page = northwind_manager.get("/governance/changes/").content.decode()
    assert "Updated" in page and "Deleted" in page and "Created" in page
    assert "<del>395</del> → <ins>90</ins>" in page
    assert "<del>ana@northwind.example</del> → <ins>max@northwind.example</ins>" in page
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt; Contoso" in page
    assert "<script>alert" not in page
    assert "s3cret-value" not in page


def test_entries_written_before_values_were_kept_still_read(db, northwind_manager):
    partner = Partner.objects.get(slug="northwind")
    audit.record(
        None,
        "config.apply",
        partner=partner,
        obj=partner,
        summary="old",
        data={"updated": {"tenant": {"contoso": ["timezone"]}}, "created": {}, "deleted": {"user": ["x@y.example"]}},
    )
    page = northwind_manager.get("/governance/changes/").content.decode()
    assert "changed (values not recorded)" in page and "x@y.example" in page


@pytest.fixture
def northwind_manager(workdir, db):
    from opsconsole.models import User
    from opsconsole.roles import Role

    if not Partner.objects.filter(slug="northwind").exists():
        apply(workdir, copy.deepcopy(load_file(EXAMPLE)))
    user = User.objects.create_user("boss@northwind.example", "pw", partner=Partner.objects.get(slug="northwind"))
    user.role = Role.MANAGER
    user.save(update_fields=["role"])
    client = Client()
    client.force_login(user)
    return client
