"""Which URLs the console may send webhooks and alerts to (contract section 1).

Unless ``settings.OPSCONSOLE_ALLOW_PRIVATE_WEBHOOKS`` is on (tests, on-premises
use), a target must be ``https`` and must not be loopback, private, link-local
or otherwise non-public. The check covers literal addresses (including the
legacy IPv4 spellings ``127.1`` and ``2130706433``, and IPv4-mapped IPv6),
``localhost`` and ``*.localhost``, and the addresses a host name resolves to.
A name that does not resolve (offline, or a reserved name such as
``*.example``) is allowed: it cannot be reached now, and whoever delivers to it
must check the address it resolves to at sending time.

Sending (``pinned_post``) resolves the name once, checks every address it
resolves to, and connects to the checked address itself, keeping the name for
the Host header and for TLS (SNI and the certificate's name): a name that
resolves elsewhere a moment later (DNS rebinding) cannot redirect the
request. At sending time every name is resolved, reserved ones included, and
a name that does not resolve is refused.

The setting is read at call time so tests can switch it.
"""

import http.client
import ipaddress
import socket
import ssl
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from urllib.parse import urlsplit

from django.conf import settings

RESOLVE_TIMEOUT_SECONDS = 2.0
# RFC 6761/2606 names that never resolve: no lookup needed.
_NEVER_RESOLVED = (".example", ".invalid", ".test")
_resolver = ThreadPoolExecutor(max_workers=2, thread_name_prefix="url-check")


def private_targets_allowed():
    return bool(getattr(settings, "OPSCONSOLE_ALLOW_PRIVATE_WEBHOOKS", False))


def _literal_address(host):
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        pass
    # Legacy IPv4 forms (127.1, 0x7f.0.0.1, 2130706433) that resolvers accept.
    if host and all(c in "0123456789abcdefxABCDEFX." for c in host) and any(c.isdigit() for c in host):
        try:
            return ipaddress.IPv4Address(socket.inet_aton(host))
        except OSError:
            return None
    return None


# IPv6 ranges that carry an IPv4 address or reach one through a gateway
# (NAT64, 6to4, Teredo, IPv4-compatible): refused whatever they embed.
_TRANSLATED = tuple(
    ipaddress.ip_network(net) for net in ("64:ff9b::/96", "64:ff9b:1::/48", "2002::/16", "2001::/32", "::/96")
)


def is_public_address(address):
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            address = address.ipv4_mapped
        elif any(address in net for net in _TRANSLATED):
            return False
    return address.is_global and not address.is_multicast


def _resolve(host, port):
    infos = socket.getaddrinfo(host, port, proto=socket.IPPROTO_TCP)
    return [info[4][0] for info in infos]


def resolved_addresses(host, port):
    """The addresses ``host`` resolves to, in the resolver's order, or an
    empty list when it does not resolve within RESOLVE_TIMEOUT_SECONDS."""
    future = _resolver.submit(_resolve, host, port)
    try:
        raw = future.result(timeout=RESOLVE_TIMEOUT_SECONDS)
    except (OSError, UnicodeError, FutureTimeout):
        return []
    addresses = []
    for item in raw:
        try:
            address = ipaddress.ip_address(item.split("%", 1)[0])
        except ValueError:
            continue
        if address not in addresses:
            addresses.append(address)
    return addresses


def url_problem(url, *, resolve=True):
    """None when ``url`` is an acceptable webhook or alert target, else a
    sentence saying why not."""
    if not isinstance(url, str) or not url:
        return "must be a URL"
    if any(c.isspace() or ord(c) < 32 for c in url):
        return "must not contain spaces or control characters"
    try:
        parts = urlsplit(url)
        host = parts.hostname
        port = parts.port
    except ValueError as exc:
        return f"is not a valid URL ({exc})"
    allowed_private = private_targets_allowed()
    schemes = ("https", "http") if allowed_private else ("https",)
    if parts.scheme.lower() not in schemes:
        return "must be an https URL"
    if not host:
        return "must name a host"
    if allowed_private:
        return None
    host = host.rstrip(".").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return f"must not point at a loopback address ({host})"
    literal = _literal_address(host)
    if literal is not None:
        if not is_public_address(literal):
            return f"must not point at a loopback, private or link-local address ({literal})"
        return None
    if not resolve or host.endswith(_NEVER_RESOLVED):
        return None
    for address in resolved_addresses(host, port or 443):
        if not is_public_address(address):
            return f"must not point at a loopback, private or link-local address ({host} resolves to {address})"
    return None


class TargetRefused(Exception):
    """The URL may not be posted to now; the message says why."""


def checked_address(url):
    """(scheme, host, port, address) to send ``url`` to: the name resolved
    once, every address it resolves to checked, the first one to connect to.
    Raises TargetRefused."""
    problem = url_problem(url, resolve=False)
    if problem:
        raise TargetRefused(problem)
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    host = parts.hostname.rstrip(".").lower()
    port = parts.port or (443 if scheme == "https" else 80)
    literal = _literal_address(host)
    addresses = [literal] if literal is not None else resolved_addresses(host, port)
    if not addresses:
        raise TargetRefused(f"{host} does not resolve")
    if not private_targets_allowed():
        for address in addresses:
            if not is_public_address(address):
                raise TargetRefused(
                    f"must not point at a loopback, private or link-local address ({host} resolves to {address})"
                )
    return scheme, host, port, addresses[0]


class _PinnedHTTPConnection(http.client.HTTPConnection):
    """Connects to ``address``; Host stays the URL's name."""

    def __init__(self, host, port, address, timeout):
        super().__init__(host, port, timeout=timeout)
        self._address = str(address)

    def connect(self):
        self.sock = socket.create_connection((self._address, self.port), self.timeout)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    """Connects to ``address``; SNI, the certificate check and Host use the name."""

    def __init__(self, host, port, address, timeout):
        super().__init__(host, port, timeout=timeout, context=ssl.create_default_context())
        self._address = str(address)

    def connect(self):
        sock = socket.create_connection((self._address, self.port), self.timeout)
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)


def pinned_post(url, body, headers, timeout):
    """POST ``body`` to ``url`` at the address that was checked (see the
    module docstring); redirects are answers, never followed. Returns
    (status, the first bytes of the answer). Raises TargetRefused, or
    OSError (TimeoutError included) for network trouble."""
    scheme, host, port, address = checked_address(url)
    connection_class = _PinnedHTTPSConnection if scheme == "https" else _PinnedHTTPConnection
    connection = connection_class(host, port, address, timeout)
    parts = urlsplit(url)
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    try:
        connection.request("POST", target, body=body, headers=headers)
        response = connection.getresponse()
        return response.status, response.read(65536)
    except http.client.HTTPException as exc:
        raise OSError(f"bad answer from {host}: {exc!r}"[:300]) from None
    finally:
        connection.close()
