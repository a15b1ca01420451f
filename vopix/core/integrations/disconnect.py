"""Disconnecting: revoke the token at the service where it offers that, then delete it from the
vault; the person is told if the revocation failed (the token is deleted here either way)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

import httpx

from vopix.core.integrations import connections, github_api, gmail_api, slack_api
from vopix.core.integrations.services import service


def revocable(service_id: str, method: str) -> bool:
    """Can VOPIX revoke this token at the service? Not a pasted GitHub token (only its owner
    can, on GitHub); Slack's auth.revoke takes any token; Google's comes only from its consent."""
    return not (service_id == "github" and method == "token")


@dataclass(frozen=True)
class Disconnected:
    message: str
    revoked: bool  # the service confirmed the token is dead


async def revoke_at_service(service_id: str, method: str, token: str) -> bool:
    """Revoke the token at its service where it offers that; True when the service confirmed
    (also used by an account deletion, which removes the connections itself)."""
    try:
        if service_id == "github" and method == "oauth":
            return await github_api.revoke(token)
        if service_id == "slack":  # auth.revoke takes OAuth and pasted bot tokens alike
            return await slack_api.revoke(token)
        if service_id == "google":  # revoking the access token revokes the refresh token too
            return await gmail_api.revoke(token)
    except httpx.HTTPError:
        return False
    return False


async def disconnect(user_id: int, service_id: str, *, ip: str = "", device: str = "") -> Disconnected | None:
    svc = service(service_id)
    found = await asyncio.to_thread(connections.tokens_for_revoke, user_id, service_id)
    if found is None:
        return None
    method, token = found
    revoked = await revoke_at_service(service_id, method, token)
    await asyncio.to_thread(connections.remove, user_id, service_id, ip=ip, device=device)
    if revoked:
        return Disconnected(f"{svc.label} is disconnected and its token revoked.", True)
    if not revocable(service_id, method):
        return Disconnected(
            f"{svc.label} is disconnected and the token deleted here. A pasted token can only be revoked "
            f"on {svc.label} itself: delete it there too.", False)
    return Disconnected(
        f"{svc.label} is disconnected and the token deleted here, but {svc.label} did not confirm the "
        "revocation: remove VOPIX from your authorized apps there to be sure.", False)
