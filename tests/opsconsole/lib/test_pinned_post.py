"""Webhook posts go to the address that was checked (no DNS rebinding), keep
the name for Host and TLS, and refuse addresses that reach IPv4 through a
gateway. Real local HTTP(S) servers; the only stand-in is the resolver
(``socket.getaddrinfo`` for the test's own names)."""

import socket
import ssl
import subprocess
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from opsconsole.lib import outbound_urls, webhooks

REAL_GETADDRINFO = socket.getaddrinfo


class Server:
    """A local server on ``host`` recording each POST's Host header (and the
    TLS server name asked for, when ``tls`` is a (cert, key) pair)."""

    def __init__(self, host="127.0.0.1", port=0, tls=None):
        self.requests, self.server_names = [], []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - http.server's naming
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                server.requests.append({"host": self.headers.get("Host"), "path": self.path})
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer((host, port), Handler)
        self.httpd.daemon_threads = True
        if tls:
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(*tls)
            context.sni_callback = lambda sock, name, ctx: self.server_names.append(name)
            self.httpd.socket = context.wrap_socket(self.httpd.socket, server_side=True)
        self.port = self.httpd.server_address[1]

    def __enter__(self):
        threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        return self

    def __exit__(self, *exc):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def resolver(monkeypatch):
    """Answers for names the test defines, each a list of addresses per
    successive lookup (the last repeating); other names resolve as usual."""
    answers, lookups = {}, []

    def getaddrinfo(host, port, *args, **kwargs):
        if host in answers:
            lookups.append(host)
            plan = answers[host]
            address = plan.pop(0) if len(plan) > 1 else plan[0]
            if address is None:
                raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
            family = socket.AF_INET6 if ":" in address else socket.AF_INET
            return [(family, socket.SOCK_STREAM, socket.IPPROTO_TCP, "", (address, port))]
        return REAL_GETADDRINFO(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return answers, lookups


def post(url):
    return webhooks.post_signed(url, b"{}", secret="s", event="test", delivery_id="d", timeout=2)


def test_a_name_that_resolves_elsewhere_after_the_check_is_still_posted_to_the_checked_address(settings, resolver):
    """DNS rebinding: the first answer is checked and connected to; a later
    answer (another server on another address) never sees the request."""
    settings.OPSCONSOLE_ALLOW_PRIVATE_WEBHOOKS = True
    answers, lookups = resolver
    with Server("127.0.0.1") as checked, Server("127.0.0.2", checked.port) as rebound:
        answers["hooks.rebind.test"] = ["127.0.0.1", "127.0.0.2"]
        outcome = post(f"http://hooks.rebind.test:{checked.port}/replays?x=1")
    assert outcome.ok, outcome.error
    assert checked.requests == [{"host": f"hooks.rebind.test:{checked.port}", "path": "/replays?x=1"}]
    assert rebound.requests == []
    assert lookups == ["hooks.rebind.test"]


def make_cert(tmp_path, name):
    cert, key = tmp_path / f"{name}.pem", tmp_path / f"{name}.key"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", f"/CN={name}",
         "-addext", f"subjectAltName=DNS:{name}", "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True,
    )  # fmt: skip
    return cert, key


def test_a_name_checked_public_that_then_answers_loopback_never_reaches_loopback(
    settings, resolver, monkeypatch, tmp_path
):
    """Strict mode, DNS rebinding: the name answers a public address to the
    check and 127.0.0.1 afterwards. Exactly one lookup is made and the post
    goes to the public address (whose connection the test's resolver refuses,
    so no packet leaves the machine); the local server sees nothing."""
    settings.OPSCONSOLE_ALLOW_PRIVATE_WEBHOOKS = False
    cert, key = make_cert(tmp_path, "hooks.rebind.northwind.com")
    monkeypatch.setenv("SSL_CERT_FILE", str(cert))
    answers, lookups = resolver
    with Server("127.0.0.1", tls=(cert, key)) as local:
        answers["hooks.rebind.northwind.com"] = ["93.184.215.14", "127.0.0.1"]
        answers["93.184.215.14"] = [None]
        outcome = post(f"https://hooks.rebind.northwind.com:{local.port}/x")
    assert local.requests == []
    assert outcome.status_code is None and outcome.error.startswith("connection failed")
    assert lookups == ["hooks.rebind.northwind.com", "93.184.215.14"]


@pytest.mark.parametrize("name", ["hooks.northwind.example", "hooks.test", "a.invalid", "x.localhost"])
def test_reserved_names_are_resolved_and_checked_when_sending(settings, resolver, name):
    settings.OPSCONSOLE_ALLOW_PRIVATE_WEBHOOKS = False
    answers, _ = resolver
    answers[name] = ["10.1.2.3"]
    with pytest.raises(outbound_urls.TargetRefused):
        outbound_urls.checked_address(f"https://{name}/hook")


def test_a_name_that_does_not_resolve_when_sending_is_refused(settings, resolver):
    settings.OPSCONSOLE_ALLOW_PRIVATE_WEBHOOKS = False
    answers, _ = resolver
    answers["gone.northwind.example"] = [None]
    outcome = post("https://gone.northwind.example/hook")
    assert outcome.status_code is None and outcome.error == "refused: gone.northwind.example does not resolve"


@pytest.mark.parametrize(
    "address",
    ["64:ff9b::7f00:1", "64:ff9b::a00:1", "2002:7f00:1::1", "2002:5db8:d70e::1", "::127.0.0.1", "::8.8.8.8"],
)
def test_nat64_6to4_and_ipv4_compatible_addresses_are_refused(settings, resolver, address):
    settings.OPSCONSOLE_ALLOW_PRIVATE_WEBHOOKS = False
    assert outbound_urls.url_problem(f"https://[{address}]/hook") is not None
    answers, _ = resolver
    answers["v6.northwind.example"] = [address]
    with pytest.raises(outbound_urls.TargetRefused):
        outbound_urls.checked_address("https://v6.northwind.example/hook")


def test_https_keeps_the_name_for_sni_and_the_certificate(settings, resolver, monkeypatch, tmp_path):
    """Connected to 127.0.0.1, TLS still asks for and verifies hooks.tls.test."""
    settings.OPSCONSOLE_ALLOW_PRIVATE_WEBHOOKS = True
    cert, key = make_cert(tmp_path, "hooks.tls.test")
    monkeypatch.setenv("SSL_CERT_FILE", str(cert))
    answers, _ = resolver
    answers["hooks.tls.test"] = ["127.0.0.1"]
    answers["other.tls.test"] = ["127.0.0.1"]
    with Server("127.0.0.1", tls=(cert, key)) as server:
        outcome = post(f"https://hooks.tls.test:{server.port}/replays")
        wrong = post(f"https://other.tls.test:{server.port}/replays")
    assert outcome.ok, outcome.error
    assert server.requests == [{"host": f"hooks.tls.test:{server.port}", "path": "/replays"}]
    assert server.server_names[0] == "hooks.tls.test"
    # The certificate names hooks.tls.test only: another name at the same address is refused by TLS.
    assert wrong.status_code is None and "certificate" in wrong.error.lower()
