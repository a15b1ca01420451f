"""GET /metrics (Prometheus text format) and GET /healthz (readiness), issue 17.

/metrics and /healthz?verbose=1 answer only an allowed caller: one whose address is in
VOPIX_METRICS_ALLOW (comma-separated CIDRs, default loopback), or one that sends
`Authorization: Bearer <VOPIX_METRICS_TOKEN>`; anyone else gets 403.

The address checked is the connection's peer, and, when the request came through a proxy
(it carries X-Forwarded-For), also the address that proxy saw (the last entry it appended):
behind nginx on loopback every request comes from 127.0.0.1, so the peer alone would let the
whole internet in, and the client-supplied first entry would let anyone claim any address.
"""

from __future__ import annotations

import asyncio
import functools
import hmac
import ipaddress
import os
from collections.abc import Iterable

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from vopix.core import metrics, readiness
from vopix.settings import get_settings

DEFAULT_ALLOW = "127.0.0.0/8,::1/128"
Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@functools.lru_cache(maxsize=8)
def _networks(spec: str) -> tuple[Network, ...]:
    nets: list[Network] = []
    for item in spec.split(","):
        item = item.strip()
        if item:
            nets.append(ipaddress.ip_network(item, strict=False))
    return tuple(nets)


def allow_spec() -> str:
    return os.environ.get("VOPIX_METRICS_ALLOW", "").strip() or DEFAULT_ALLOW


def _address_allowed(address: str, nets: Iterable[Network]) -> bool:
    try:
        ip = ipaddress.ip_address(address.strip().strip("[]"))
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return any(ip in net for net in nets)


def _token_ok(request: Request) -> bool:
    expected = os.environ.get("VOPIX_METRICS_TOKEN", "")
    header = request.headers.get("authorization", "")
    scheme, _, given = header.partition(" ")
    if not expected or scheme.lower() != "bearer" or not given:
        return False
    return hmac.compare_digest(given.strip().encode(), expected.encode())


def allowed(request: Request) -> bool:
    if _token_ok(request):
        return True
    try:
        nets = _networks(allow_spec())
    except ValueError:
        return False  # a malformed allow-list lets nobody in (and says so at start-up)
    peer = request.client.host if request.client else ""
    if not _address_allowed(peer, nets):
        return False
    forwarded = request.headers.get("x-forwarded-for")
    if forwarded is not None:
        return _address_allowed(forwarded.split(",")[-1], nets)
    return True


def _forbidden() -> Response:
    return JSONResponse({"error": "forbidden"}, status_code=403)


async def metrics_endpoint(request: Request) -> Response:
    if not allowed(request):
        return _forbidden()
    body, content_type = await asyncio.to_thread(metrics.render)
    return Response(body, media_type=content_type)


async def healthz(request: Request) -> Response:
    verbose = request.query_params.get("verbose", "") not in ("", "0", "false")
    if verbose and not allowed(request):
        return _forbidden()
    report = await asyncio.to_thread(readiness.check, get_settings().redis_url)
    body: dict[str, object] = {
        "status": report.status,
        "database": "reachable" if report.database_ok else "unreachable",
    }
    if verbose:
        body["checks"] = report.checks
        body["failed"] = [name for name, c in report.checks.items() if not c["ok"]]
    return JSONResponse(body, status_code=report.http_status)
