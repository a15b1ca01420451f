"""Where a person's own provider base URL may point.

On a hosted VOPIX, a base URL is a request the server makes on the person's behalf, so it
must not reach the server's own network (metadata services, databases, admin ports, carrier-grade
NAT). Only globally routable addresses are allowed, for every address a name resolves to, unless
the operator allows private ones (VOPIX_ALLOW_PRIVATE_PROVIDER_URLS): "auto" allows them only when
VOPIX itself is served from localhost, which is the self-hosted case of a local Ollama or LM Studio.
"""

from __future__ import annotations

import ipaddress
import socket
import time
from urllib.parse import urlparse

from vopix.settings import get_settings

_CACHE_SECONDS = 60.0
_cache: dict[str, tuple[float, bool]] = {}

# Not globally reachable per the IANA special-purpose address registries, yet `is_global` in
# Python 3.11 says they are (its tables were brought up to date only in 3.12.4). 192.0.0.9 and
# 192.0.0.10 are anycast services no provider is hosted on, so the whole /24 goes.
_NOT_GLOBAL = tuple(
    ipaddress.ip_network(net)
    for net in (
        "192.0.0.0/24",  # IETF protocol assignments (RFC 6890)
        "192.88.99.0/24",  # the retired 6to4 relay anycast (RFC 7526)
        "2002::/16",  # 6to4: a relay delivers to the embedded IPv4 address, which may be private
        "3fff::/20",  # documentation (RFC 9637)
    )
)
# RFC 6052: a NAT64 gateway delivers 64:ff9b::a.b.c.d to the IPv4 address a.b.c.d.
_NAT64 = ipaddress.ip_network("64:ff9b::/96")

Address = ipaddress.IPv4Address | ipaddress.IPv6Address


class PrivateAddressRefused(ValueError):
    pass


def private_allowed() -> bool:
    cfg = get_settings()
    mode = cfg.allow_private_provider_urls
    if mode == "auto":
        host = urlparse(cfg.public_url).hostname or ""
        return host in {"localhost", "127.0.0.1", "::1"}
    return mode in {"1", "true", "yes", "on"}


def _is_routable(ip: Address) -> bool:
    if isinstance(ip, ipaddress.IPv6Address):
        # An IPv6 form that the network turns back into IPv4 is judged by that IPv4 address.
        if ip.ipv4_mapped is not None:
            return _is_routable(ip.ipv4_mapped)
        if ip in _NAT64:
            return _is_routable(ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF))
        # Teredo (2001::/32) carries an IPv4 server and client too; `is_global` already refuses
        # all of 2001::/23, so both are covered here without unpacking them.
    return (
        ip.is_global
        and not ip.is_multicast  # `is_global` lets multicast through
        and not ip.is_reserved  # and, for IPv6, the unallocated and IPv4-compatible ::/8
        and not any(ip in net for net in _NOT_GLOBAL if net.version == ip.version)
    )


def _is_public(address: str) -> bool:
    return _is_routable(ipaddress.ip_address(address.split("%", 1)[0]))


def host_is_public(host: str) -> bool:
    """True when every address the host resolves to is globally routable (cached for a minute)."""
    now = time.monotonic()
    hit = _cache.get(host)
    if hit and now - hit[0] < _CACHE_SECONDS:
        return hit[1]
    try:
        infos = socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
        result = bool(infos) and all(_is_public(str(info[4][0])) for info in infos)
    except (OSError, ValueError):
        result = False
    if len(_cache) > 1000:
        _cache.clear()
    _cache[host] = (now, result)
    return result


def check_base_url(url: str) -> None:
    """Raise PrivateAddressRefused when `url` points into a private network not allowed here."""
    if not url or private_allowed():
        return
    host = urlparse(url).hostname or ""
    if not host or not host_is_public(host):
        raise PrivateAddressRefused(
            "That base URL points to a private or local network address, which this VOPIX "
            "does not allow. Use the provider's public address."
        )
