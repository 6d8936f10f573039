"""apply_config 1.1: integration templates, tenant currency and book close,
routing by amount (contract section 1). The example file uses one template
per flow pattern; each test changes a copy of it."""

import copy
import shutil
from decimal import Decimal
from io import StringIO
from pathlib import Path

import pytest
import yaml
from django.conf import settings as django_settings
from django.core.management import call_command
from django.core.management.base import CommandError

from integrations.models import Integration, RoutingRule
from opsconsole.models import AuditEntry, Partner, Tenant
from provisioning.config.currencies import ISO_4217
from provisioning.config.loading import load_file
from sla.models import Objective

EXAMPLE = Path(django_settings.BASE_DIR) / "examples" / "northwind.yaml"


@pytest.fixture
def doc():
    return copy.deepcopy(load_file(EXAMPLE))


@pytest.fixture
def workdir(tmp_path, db):
    shutil.copytree(EXAMPLE.parent / "logos", tmp_path / "logos")
    return tmp_path


def apply(workdir, document, *args):
    path = workdir / "northwind.yaml"
    path.write_text(yaml.safe_dump(document, sort_keys=False))
    out = StringIO()
    call_command("apply_config", str(path), *args, stdout=out, stderr=StringIO())
    return out.getvalue()


def apply_failing(workdir, document):
    path = workdir / "northwind.yaml"
    path.write_text(yaml.safe_dump(document, sort_keys=False))
    err = StringIO()
    with pytest.raises(CommandError) as info:
        call_command("apply_config", str(path), stdout=StringIO(), stderr=err)
    assert info.value.returncode == 1
    return err.getvalue().splitlines()


def integration(slug):
    return Integration.objects.get(tenant__slug="contoso", slug=slug)


def objectives(slug):
    return {(o.objective, o.priority): o for o in Objective.objects.filter(integration=integration(slug))}


def rules():
    return list(RoutingRule.objects.filter(tenant__slug="contoso").order_by("position"))


def config_audit():
    return list(AuditEntry.objects.filter(action="config.apply").order_by("id"))


def contoso_integration(document, slug):
    return next(i for i in document["tenants"][0]["integrations"] if i["slug"] == slug)


# -- merging -----------------------------------------------------------------------------------


def test_an_integration_takes_every_key_it_does_not_write_from_its_template(workdir, doc):
    apply(workdir, doc)
    opp = integration("opportunity-to-project")
    assert (opp.pattern, opp.mode, opp.every_minutes, opp.grace_minutes) == ("opportunity_to_project", "event", 30, 15)
    assert opp.entities == ["opportunity", "project"]
    assert opp.approval_required is False
    # What it writes itself stays its own: name, systems, owner ...
    assert (opp.name, opp.source.slug, opp.target.slug) == (
        "Won opportunities to Kantata projects",
        "salesforce",
        "kantata",
    )
    assert opp.owner.email == "ana@northwind.example"
    # ... and a key the template also gives: the integration's schedule wins.
    util = integration("utilization-analytics")
    assert (util.every_minutes, util.grace_minutes) == (120, 60)
    assert util.pattern == "utilization_analytics"
    revrec = integration("revenue-recognition")
    assert revrec.approval_required is True and revrec.every_minutes == 240


def test_objectives_merge_by_identity_the_integrations_own_winning(workdir, doc):
    te = contoso_integration(doc, "time-expense-posting")
    te["sla"] = [
        {"objective": "freshness", "target": 97.0, "threshold_minutes": 45},  # the template says 95 / 60
        {"objective": "run_success", "target": 98.0},  # the template has none
    ]
    apply(workdir, doc)
    own = objectives("time-expense-posting")
    assert set(own) == {("freshness", None), ("record_success", None), ("run_success", None)}
    assert (own[("freshness", None)].target, own[("freshness", None)].threshold_minutes) == (Decimal("97.0"), 45)
    assert own[("record_success", None)].target == Decimal("99.5")  # from the template
    assert own[("run_success", None)].target == Decimal("98.0")


def test_template_rules_follow_the_tenants_rules_each_limited_to_its_integration(workdir, doc):
    apply(workdir, doc)
    found = rules()
    assert [r.position for r in found] == list(range(1, len(found) + 1))
    # The tenant's own rule first, as the file writes it.
    assert found[0].match == {"integration": "time-expense-posting", "error_class": "validation"}
    # Then each integration's template rules, in the order of the integrations.
    order = [i["slug"] for i in doc["tenants"][0]["integrations"]]
    templates = doc["templates"]
    expected = []
    for item in doc["tenants"][0]["integrations"]:
        for rule in templates[item["template"]]["routing"]:
            expected.append(({"integration": item["slug"], **rule["match"]}, rule["priority"], rule["runbook"]))
    assert [(r.match, r.priority, r.runbook) for r in found[1:]] == expected
    assert [r.match["integration"] for r in found[1:]] == sorted(
        (r.match["integration"] for r in found[1:]), key=order.index
    )
    big = next(r for r in found if r.match.get("min_amount") == 25000)
    assert big.match == {"integration": "billing-milestone-sync", "min_amount": 25000}
    assert big.priority == "P1"


def test_changing_a_template_changes_every_integration_using_it_in_one_audited_apply(workdir, doc):
    doc["tenants"][0]["integrations"].append(
        {"slug": "te-subcontractors", "name": "Subcontractor time to NetSuite", "template": "time-expense-posting",
         "source": "kantata", "target": "netsuite"}
    )  # fmt: skip
    apply(workdir, doc)
    assert len(config_audit()) == 1
    before = len(rules())

    template = doc["templates"]["time-expense-posting"]
    template["schedule"]["grace_minutes"] = 20
    template["sla"][1]["target"] = 99.0  # record_success
    template["routing"][0]["runbook"] = "Call the controller, then replay."
    out = apply(workdir, doc)

    assert "updated" in out and "created" not in out
    for slug in ("time-expense-posting", "te-subcontractors"):
        assert integration(slug).grace_minutes == 20
        assert objectives(slug)[("record_success", None)].target == Decimal("99.0")
        [rule] = [r for r in rules() if r.match == {"integration": slug, "min_amount": 5000}]
        assert rule.runbook == "Call the controller, then replay."
    assert len(rules()) == before
    [_, entry] = config_audit()
    assert set(entry.data["updated"]["integration"]) == {"contoso/time-expense-posting", "contoso/te-subcontractors"}
    assert len(entry.data["updated"]["routing"]) == 2

    # The same file again: nothing changes, nothing is recorded.
    assert apply(workdir, doc).strip() == "northwind.yaml: no changes."
    assert len(config_audit()) == 2


def test_an_integration_leaving_its_template_keeps_what_it_writes(workdir, doc):
    apply(workdir, doc)
    opp = contoso_integration(doc, "opportunity-to-project")
    del opp["template"]
    opp["pattern"] = "opportunity_to_project"
    apply(workdir, doc)
    found = integration("opportunity-to-project")
    # Without the template: defaults for what it no longer gets.
    assert (found.mode, found.every_minutes, found.pattern) == ("batch", None, "opportunity_to_project")
    # Nothing is deleted without --prune: its template objective and rules stay until then.
    assert set(objectives("opportunity-to-project")) == {("freshness", None)}
    apply(workdir, doc, "--prune")
    assert objectives("opportunity-to-project") == {}
    assert not [r for r in rules() if r.match.get("integration") == "opportunity-to-project"]


def test_dry_run_shows_what_each_integration_takes_from_which_template(workdir, doc):
    out = apply(workdir, doc, "--dry-run")
    lines = out.splitlines()
    assert (
        "northwind.yaml: contoso/time-expense-posting takes from template time-expense-posting: pattern, entities, "
        "mode, schedule, approval_required, sla (record_success), routing (3 rules); keeps its own sla freshness"
    ) in lines
    assert (
        "northwind.yaml: contoso/utilization-analytics takes from template utilization-analytics: pattern, "
        "entities, mode, sla (freshness), routing (1 rule); keeps its own schedule"
    ) in lines
    assert "Dry run: nothing was written." in lines
    assert not Partner.objects.exists() and not AuditEntry.objects.exists()
    # Applied, then dry-run again: the template lines, and no changes.
    apply(workdir, doc)
    again = apply(workdir, doc, "--dry-run").splitlines()
    assert again[-1] == "northwind.yaml: no changes."
    assert len([line for line in again if "takes from template" in line]) == 6


# -- currency, close, min_amount -------------------------------------------------------------


def test_currency_and_close_are_stored_and_default_to_usd_and_no_close(workdir, doc):
    doc["tenants"][0]["currency"] = "EUR"
    doc["tenants"][0]["close"] = {"business_day": 10}
    apply(workdir, doc)
    contoso = Tenant.objects.get(slug="contoso")
    assert (contoso.currency, contoso.close_business_day) == ("EUR", 10)
    del doc["tenants"][0]["currency"]
    del doc["tenants"][0]["close"]
    apply(workdir, doc)
    contoso.refresh_from_db()
    assert (contoso.currency, contoso.close_business_day) == ("USD", None)
    assert config_audit()[-1].data["updated"]["tenant"]["contoso"] == ["currency", "close_business_day"]


def test_min_amount_is_kept_as_a_number(workdir, doc):
    doc["tenants"][0]["routing"].append({"match": {"min_amount": 1250.5}, "priority": "P1"})
    doc["tenants"][0]["routing"].append({"match": {"error_class": "mapping", "min_amount": 0}, "priority": "P2"})
    apply(workdir, doc)
    assert rules()[1].match == {"min_amount": 1250.5}
    assert Decimal(str(rules()[1].match["min_amount"])) == Decimal("1250.5")
    assert rules()[2].match == {"error_class": "mapping", "min_amount": 0}


def test_the_currency_list_is_iso_4217():
    assert {"USD", "EUR", "SGD", "GBP", "JPY", "CHF", "XCG", "ZWG"} <= ISO_4217
    assert not {"XAU", "XTS", "XXX", "HRK", "usd"} & ISO_4217
    assert all(len(code) == 3 and code.isupper() for code in ISO_4217)


# -- errors: each names its path, nothing is applied -----------------------------------------


def _tenant(key, value):
    return lambda d: d["tenants"][0].__setitem__(key, value)


def _integration(key, value, index=1):
    return lambda d: d["tenants"][0]["integrations"][index].__setitem__(key, value)


def _template(name, key, value):
    return lambda d: d["templates"][name].__setitem__(key, value)


def _routing_match(value):
    return lambda d: d["tenants"][0]["routing"].append({"match": {"min_amount": value}, "priority": "P1"})


ERRORS = [
    pytest.param(
        _integration("template", "opportunity-to-projekt"),
        "tenants[0].integrations[1].template: unknown template 'opportunity-to-projekt'",
        id="unknown-template",
    ),
    pytest.param(
        _template("billing-milestones", "source", "kantata"),
        "templates.billing-milestones.source: a template may not name source",
        id="template-source",
    ),
    pytest.param(
        _template("billing-milestones", "owner", "ana@northwind.example"),
        "templates.billing-milestones.owner: a template may not name owner",
        id="template-owner",
    ),
    pytest.param(
        _template("billing-milestones", "slug", "x"), "templates.billing-milestones.slug: a template may not", id="slug"
    ),
    pytest.param(
        lambda d: d["templates"]["master-data-sync"]["routing"][0]["match"].__setitem__("integration", "x"),
        "templates.master-data-sync.routing[0].match.integration: a template's rules apply to each integration",
        id="template-rule-integration",
    ),
    pytest.param(
        _template("master-data-sync", "schedule", {"every_minutes": 0}),
        "templates.master-data-sync.schedule.every_minutes: must be between 1 and",
        id="template-bad-value",
    ),
    pytest.param(
        lambda d: d["templates"]["revenue-recognition"]["sla"].append(
            {"objective": "acknowledge", "priority": "P1", "target": 90, "within_business_minutes": 30}
        ),
        "templates.revenue-recognition.sla[1].objective: acknowledge is tenant-wide",
        id="template-tenant-wide-objective",
    ),
    pytest.param(
        _template("revenue-recognition", "templat", "x"), "templates.revenue-recognition.templat: unknown key", id="key"
    ),
    pytest.param(lambda d: d.__setitem__("templates", ["x"]), "templates: must be a mapping", id="templates-list"),
    pytest.param(_tenant("close", {"business_day": 11}), "tenants[0].close.business_day: must be between 1 and 10"),
    pytest.param(_tenant("close", {"business_day": 0}), "tenants[0].close.business_day: must be between 1 and 10"),
    pytest.param(_tenant("close", {"business_day": "3"}), "tenants[0].close.business_day: must be a whole number"),
    pytest.param(_tenant("close", {"day": 3}), "tenants[0].close.day: unknown key", id="close-day"),
    pytest.param(_tenant("close", 3), "tenants[0].close: must be a mapping", id="close-number"),
    pytest.param(_tenant("currency", "usd"), "tenants[0].currency: 'usd' is not an ISO 4217 currency code (did you"),
    pytest.param(_tenant("currency", "XYZ"), "tenants[0].currency: 'XYZ' is not an ISO 4217 currency code"),
    pytest.param(_tenant("currency", 840), "tenants[0].currency: must be a string", id="currency-number"),
    pytest.param(_routing_match(-1), "tenants[0].routing[1].match.min_amount: must be a number from 0", id="neg"),
    pytest.param(_routing_match("100"), "tenants[0].routing[1].match.min_amount: must be a number", id="string"),
    pytest.param(_routing_match(True), "tenants[0].routing[1].match.min_amount: must be a number", id="bool"),
    pytest.param(_routing_match(1.23456), "tenants[0].routing[1].match.min_amount: must have at most 4", id="5dp"),
    pytest.param(_routing_match(1e15), "tenants[0].routing[1].match.min_amount: must be a number from 0", id="big"),
    pytest.param(_routing_match(float("nan")), "tenants[0].routing[1].match.min_amount: must be a number", id="nan"),
    pytest.param(
        lambda d: d["templates"]["time-expense-posting"]["routing"][0]["match"].__setitem__("min_amount", -5),
        "templates.time-expense-posting.routing[0].match.min_amount: must be a number from 0",
        id="template-min-amount",
    ),
]


@pytest.mark.parametrize(("change", "expected"), ERRORS)
def test_an_error_names_its_path_and_applies_nothing(workdir, doc, change, expected):
    change(doc)
    lines = apply_failing(workdir, doc)
    assert any(line.startswith(expected) for line in lines), lines
    assert not Partner.objects.exists() and not Integration.objects.exists()
    assert not AuditEntry.objects.exists()


def test_a_broken_template_is_reported_once_not_for_each_integration(workdir, doc):
    doc["tenants"][0]["integrations"].append(
        {"slug": "billing-2", "name": "More billing", "template": "billing-milestones",
         "source": "kantata", "target": "netsuite"}
    )  # fmt: skip
    doc["templates"]["billing-milestones"]["mode"] = "sometimes"
    lines = apply_failing(workdir, doc)
    assert lines == ["templates.billing-milestones.mode: 'sometimes' is not one of: batch, event"]


def test_an_error_after_a_template_change_leaves_every_integration_as_it_was(workdir, doc):
    apply(workdir, doc)
    doc["templates"]["time-expense-posting"]["schedule"]["grace_minutes"] = 25
    doc["tenants"][0]["close"] = {"business_day": 12}
    lines = apply_failing(workdir, doc)
    assert lines == ["tenants[0].close.business_day: must be between 1 and 10"]
    assert integration("time-expense-posting").grace_minutes == 10
    assert Tenant.objects.get(slug="contoso").close_business_day == 3
    assert len(config_audit()) == 1


def test_an_integration_writing_a_key_as_null_keeps_it_empty(workdir, doc):
    contoso_integration(doc, "master-data-sync")["schedule"] = None
    out = apply(workdir, doc, "--dry-run")
    assert "contoso/master-data-sync takes from template master-data-sync: pattern, entities, mode," in out
    assert "keeps its own schedule" in out
    apply(workdir, doc)
    found = integration("master-data-sync")
    assert (found.every_minutes, found.grace_minutes, found.pattern) == (None, None, "master_data_sync")


def test_a_change_of_close_or_calendar_names_the_tenants_whose_close_deadlines_move(workdir, doc):
    from provisioning.config import apply_document

    assert apply_document(copy.deepcopy(doc), base_dir=workdir).close_moved == []
    contoso = Tenant.objects.get(slug="contoso")
    doc["tenants"][0]["close"] = {"business_day": 4}
    assert apply_document(copy.deepcopy(doc), base_dir=workdir).close_moved == [contoso.pk]
    doc["tenants"][0]["retention_days"] = 100
    assert apply_document(copy.deepcopy(doc), base_dir=workdir).close_moved == []
    doc["tenants"][0]["business_hours"]["start"] = "09:00"
    assert apply_document(copy.deepcopy(doc), base_dir=workdir).close_moved == [contoso.pk]
