"""Where a person's own provider base URL may point.

On a hosted VOPIX, a base URL is a request the server makes on the person's behalf, so it
must not reach the server's own network (metadata services, databases, admin ports). Private,
loopback, link-local and reserved addresses are refused unless the operator allows them
(VOPIX_ALLOW_PRIVATE_PROVIDER_URLS): "auto" allows them only when VOPIX itself is served from
localhost, which is the self-hosted case of a local Ollama or LM Studio.
"""

from __future__ import annotations

import ipaddress
import socket
import time
from urllib.parse import urlparse

from vopix.settings import get_settings

_CACHE_SECONDS = 60.0
_cache: dict[str, tuple[float, bool]] = {}


class PrivateAddressRefused(ValueError):
    pass


def private_allowed() -> bool:
    cfg = get_settings()
    mode = cfg.allow_private_provider_urls
    if mode == "auto":
        host = urlparse(cfg.public_url).hostname or ""
        return host in {"localhost", "127.0.0.1", "::1"}
    return mode in {"1", "true", "yes", "on"}


def _is_public(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    return not (
        ip.is_private or ip.is_loopback or ip.is_link_local or ip.is_reserved
        or ip.is_multicast or ip.is_unspecified
    )


def host_is_public(host: str) -> bool:
    """True when every address the host resolves to is public (cached for a minute)."""
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
