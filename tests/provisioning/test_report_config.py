"""The configuration file sets who receives a tenant's monthly report
(``report_recipients``) and the partner's delivery day (``reports.day``)."""

import pytest

from opsconsole.models import Partner, Tenant
from tests.provisioning.test_apply_config import apply, apply_failing, doc, workdir  # noqa: F401


def test_the_example_sets_report_recipients_and_the_delivery_day(workdir, doc):  # noqa: F811
    apply(workdir, doc)
    assert Partner.objects.get(slug="northwind").report_day == 2
    assert Tenant.objects.get(slug="contoso").report_recipients == ["cfo@contoso.example", "finance@contoso.example"]


def test_recipients_are_replaced_and_absent_keys_take_their_defaults(workdir, doc):  # noqa: F811
    apply(workdir, doc)
    doc["tenants"][0]["report_recipients"] = ["CEO@Contoso.example", "ceo@contoso.example"]
    del doc["partner"]["reports"]
    apply(workdir, doc)
    assert Tenant.objects.get(slug="contoso").report_recipients == ["ceo@contoso.example"]
    assert Partner.objects.get(slug="northwind").report_day == 1


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (
            lambda d: d["tenants"][0].update(report_recipients=["cfo@contoso.example", "not-an-address"]),
            "tenants[0].report_recipients[1]: 'not-an-address' is not a valid e-mail address",
        ),
        (
            lambda d: d["tenants"][0].update(report_recipients="cfo@contoso.example"),
            "tenants[0].report_recipients: must be a list",
        ),
        (lambda d: d["partner"].update(reports={"day": 31}), "partner.reports.day: must be between 1 and 28"),
        (lambda d: d["partner"].update(reports={"dya": 3}), "partner.reports.dya: unknown key"),
    ],
)
def test_a_bad_recipient_or_day_names_its_path_and_applies_nothing(workdir, doc, change, expected):  # noqa: F811
    change(doc)
    lines = apply_failing(workdir, doc)
    assert any(line.startswith(expected) for line in lines), lines
    assert not Tenant.objects.exists()
