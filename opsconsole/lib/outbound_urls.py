"""Which URLs the console may send webhooks and alerts to (contract section 1).

Unless ``settings.OPSCONSOLE_ALLOW_PRIVATE_WEBHOOKS`` is on (tests, on-premises
use), a target must be ``https`` and must not be loopback, private, link-local
or otherwise non-public. The check covers literal addresses (including the
legacy IPv4 spellings ``127.1`` and ``2130706433``, and IPv4-mapped IPv6),
``localhost`` and ``*.localhost``, and the addresses a host name resolves to.
A name that does not resolve (offline, or a reserved name such as
``*.example``) is allowed: it cannot be reached now, and whoever delivers to it
must check the address it resolves to at sending time.

The setting is read at call time so tests can switch it.
"""

import ipaddress
import socket
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


def is_public_address(address):
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return address.is_global and not address.is_multicast


def _resolve(host, port):
    infos = socket.getaddrinfo(host, port, proto=socket.IPPROTO_TCP)
    return {info[4][0] for info in infos}


def resolved_addresses(host, port):
    """The addresses ``host`` resolves to, or an empty set when it does not
    resolve within RESOLVE_TIMEOUT_SECONDS."""
    future = _resolver.submit(_resolve, host, port)
    try:
        raw = future.result(timeout=RESOLVE_TIMEOUT_SECONDS)
    except (OSError, UnicodeError, FutureTimeout):
        return set()
    addresses = set()
    for item in raw:
        try:
            addresses.add(ipaddress.ip_address(item.split("%", 1)[0]))
        except ValueError:
            continue
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
