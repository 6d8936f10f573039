"""Which webhook and alert targets are refused (contract section 1)."""

import ipaddress
import socket

import pytest

from opsconsole.lib.outbound_urls import url_problem


@pytest.fixture
def strict(settings):
    settings.OPSCONSOLE_ALLOW_PRIVATE_WEBHOOKS = False


@pytest.mark.parametrize(
    "url",
    [
        "https://hooks.northwind.example/ops",
        "https://93.184.215.14/hook",
        "https://[2606:4700:4700::1111]/hook",
        "https://hooks.northwind.example:8443/ops?x=1",
    ],
)
def test_public_https_targets_are_accepted(strict, url):
    assert url_problem(url) is None


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("http://hooks.northwind.example/ops", "must be an https URL"),
        ("ftp://hooks.northwind.example/ops", "must be an https URL"),
        ("https:///path-only", "must name a host"),
        ("https://localhost/x", "loopback"),
        ("https://api.localhost/x", "loopback"),
        ("https://127.0.0.1/x", "(127.0.0.1)"),
        ("https://127.1/x", "(127.0.0.1)"),
        ("https://2130706433/x", "(127.0.0.1)"),
        ("https://0x7f.0.0.1/x", "(127.0.0.1)"),
        ("https://0.0.0.0/x", "(0.0.0.0)"),
        ("https://10.20.30.40/x", "private"),
        ("https://172.16.0.1/x", "private"),
        ("https://192.168.1.1/x", "private"),
        ("https://100.64.0.1/x", "private"),
        ("https://169.254.169.254/latest/meta-data", "link-local"),
        ("https://[::1]/x", "(::1)"),
        ("https://[fe80::1]/x", "(fe80::1)"),
        ("https://[fd00::1]/x", "(fd00::1)"),
        ("https://[::ffff:10.0.0.1]/x", "(::ffff:a00:1)"),
        ("https://224.0.0.1/x", "(224.0.0.1)"),
        ("https://hooks.example/a b", "spaces"),
        ("https://[::1/x", "not a valid URL"),
    ],
)
def test_private_loopback_link_local_and_plain_http_are_refused(strict, url, expected):
    problem = url_problem(url)
    assert problem is not None and expected in problem, problem


def test_everything_but_garbage_is_allowed_when_private_targets_are(settings):
    settings.OPSCONSOLE_ALLOW_PRIVATE_WEBHOOKS = True
    assert url_problem("http://127.0.0.1:8080/hook") is None
    assert url_problem("https://10.0.0.5/hook") is None
    assert url_problem("ftp://10.0.0.5/hook") == "must be an https URL"


def test_a_host_name_is_judged_by_the_addresses_it_resolves_to(strict):
    # This machine's own name resolves through /etc/hosts (no network needed),
    # usually to a loopback or private address.
    host = socket.gethostname().lower()
    try:
        addresses = {ipaddress.ip_address(i[4][0].split("%")[0]) for i in socket.getaddrinfo(host, 443)}
    except OSError:
        addresses = set()
    private = [a for a in addresses if not (a.is_global and not a.is_multicast)]
    problem = url_problem(f"https://{host}/hook")
    if private:
        assert problem is not None and f"{host} resolves to" in problem
    else:
        assert problem is None
    assert url_problem(f"https://{host}/hook", resolve=False) is None


def test_a_name_that_does_not_resolve_is_allowed(strict):
    assert url_problem("https://no-such-host.invalid/hook") is None  # reserved: not looked up
    assert url_problem("https://no-such-host-7f3a9.northwind-nonexistent/hook") is None
