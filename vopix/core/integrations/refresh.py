"""Short-lived access tokens (Google's, one hour; Slack's, 12 hours when the app has token
rotation on) kept fresh: refreshed ahead of expiry, and once after a 401, by exactly one worker
at a time. When a refresh is due the connection row is locked (PostgreSQL; an in-process lock as
well, for SQLite), read again under the lock, and the new pair is stored in that same
transaction. A refresh the service refuses for good (Google's invalid_grant, Slack's
invalid_refresh_token) marks the connection "needs reconnecting" and tells the person (security
alert: mail, notice, linked chats)."""

from __future__ import annotations

import threading
import warnings
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

import authlib.deprecate  # noqa: F401  (it sets its warnings to "always" when first imported)
import httpx
from sqlmodel import Session, select

from vopix.core import vault
from vopix.core.agent.tools import ToolFailed
from vopix.core.clock import utcnow
from vopix.core.integrations.connections import alert_reconnect
from vopix.core.integrations.services import service
from vopix.core.kinds import ConnectionStatus
from vopix.models import IntegrationConnection
from vopix.settings import get_settings

with warnings.catch_warnings():  # authlib suggests httpx2; httpx is what we ship
    warnings.simplefilter("ignore")
    from authlib.integrations.base_client.errors import OAuthError
    from authlib.integrations.httpx_client import OAuth2Client

AHEAD = timedelta(minutes=2)  # refresh this long before the token would expire
_locks: defaultdict[tuple[int, str], threading.Lock] = defaultdict(threading.Lock)


class GrantRevoked(ToolFailed):
    """The refresh token no longer works: the person must connect again."""


@dataclass(frozen=True)
class Fresh:
    access_token: str
    expires_at: datetime | None
    refresh_token: str | None  # a new one, when the service rotates them


# What each service answers when the refresh token itself is dead (not a passing failure).
GOOGLE_REFUSED = frozenset({"invalid_grant"})
SLACK_REFUSED = frozenset({"invalid_refresh_token", "invalid_grant", "token_revoked", "token_expired",
                           "invalid_auth", "account_inactive"})


def _refresh(url: str, client_id: str, client_secret: str, refresh_token: str, *, label: str,
             reconnect: str, refused: frozenset[str]) -> Fresh:
    """grant_type=refresh_token at `url` (authlib reads an {"error": ...} answer, Slack's HTTP 200
    {"ok": false, ...} too, as the refusal it is)."""
    client = OAuth2Client(client_id, client_secret, token_endpoint_auth_method="client_secret_post",
                          timeout=20.0)
    try:
        token = client.refresh_token(url, refresh_token=refresh_token)
    except OAuthError as exc:
        if getattr(exc, "error", "") in refused:
            raise GrantRevoked(f"{label} no longer accepts VOPIX's access: reconnect {reconnect} on the "
                               "Integrations page.") from None
        raise ToolFailed(f"{label} did not refresh the access just now; try again in a moment.") from None
    except (httpx.TransportError, ValueError):
        raise ToolFailed(f"{label} did not refresh the access just now; try again in a moment.") from None
    finally:
        client.close()
    if not token.get("access_token"):
        raise ToolFailed(f"{label} did not refresh the access just now; try again in a moment.")
    expires = utcnow() + timedelta(seconds=int(token["expires_in"])) if token.get("expires_in") else None
    return Fresh(str(token["access_token"]), expires, token.get("refresh_token"))


def _google(refresh_token: str) -> Fresh:
    cfg = get_settings()
    return _refresh(f"{cfg.google_oauth2_base_url}/token", cfg.google_client_id, cfg.google_client_secret,
                    refresh_token, label="Google", reconnect="Gmail", refused=GOOGLE_REFUSED)


def _slack(refresh_token: str) -> Fresh:
    """A rotating Slack token: oauth.v2.access with grant_type=refresh_token gives a new access
    token (12 hours) and a new refresh token (the old one is then spent)."""
    cfg = get_settings()
    return _refresh(f"{cfg.slack_base_url}/api/oauth.v2.access", cfg.slack_client_id, cfg.slack_client_secret,
                    refresh_token, label="Slack", reconnect="Slack", refused=SLACK_REFUSED)


REFRESHERS: dict[str, Callable[[str], Fresh]] = {"google": _google, "slack": _slack}


def lock_for(user_id: int, service_id: str) -> threading.Lock:
    """This process's lock on one connection: SQLite has no row locks to make the second
    refresher wait (PostgreSQL's FOR UPDATE does that across processes)."""
    return _locks[(user_id, service_id)]


def fresh_token(s: Session, row: IntegrationConnection, token: str, *, failed: str | None = None) -> str:
    """The row's access token, refreshed first when it is about to expire or when `failed` (the
    token a call was just refused with) is still the stored one. Only then is the row locked
    (and read again under the lock): the usual call takes no lock, which on PostgreSQL would
    cost a WAL flush at commit."""
    refresh = REFRESHERS.get(row.service)
    if refresh is None or not row.refresh_secret_id or not _needs(row, token, failed):
        return token
    s.refresh(row, with_for_update=True)  # the second refresher waits here, then sees the new token
    assert row.access_secret_id is not None and row.refresh_secret_id is not None
    token = vault.read_secret(s, row.user_id, row.access_secret_id)
    if row.status != ConnectionStatus.CONNECTED:
        raise GrantRevoked(f"{service(row.service).label} needs reconnecting on the Integrations page.")
    if not _needs(row, token, failed):
        return token  # another worker refreshed it meanwhile
    try:
        new = refresh(vault.read_secret(s, row.user_id, row.refresh_secret_id))
    except GrantRevoked:
        row.status, row.updated_at = ConnectionStatus.NEEDS_RECONNECT, utcnow()
        s.add(row)
        alert_reconnect(s, row)  # once: the row was "connected" under the lock, and is no longer
        raise
    assert row.id is not None and row.access_secret_id is not None
    vault.store_secret(s, row.user_id, f"integration:{row.service}:{row.id}:access", new.access_token,
                       secret_id=row.access_secret_id)
    if new.refresh_token:
        vault.store_secret(s, row.user_id, f"integration:{row.service}:{row.id}:refresh", new.refresh_token,
                           secret_id=row.refresh_secret_id)
    row.expires_at, row.updated_at = new.expires_at, utcnow()
    s.add(row)
    return new.access_token


def _needs(row: IntegrationConnection, token: str, failed: str | None) -> bool:
    due = row.expires_at is not None and row.expires_at - AHEAD <= utcnow()
    return due or (failed is not None and failed == token)


def connection_row(s: Session, user_id: int, service_id: str) -> IntegrationConnection | None:
    return s.exec(
        select(IntegrationConnection).where(
            IntegrationConnection.user_id == user_id, IntegrationConnection.service == service_id
        )
    ).first()
