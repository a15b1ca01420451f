"""A person's connections: stored with their tokens in the vault (AES-256-GCM, bound to the
person, the connection and the purpose), shown without them, and handed to a tool only inside a
turn the person started (`credential` takes the turn's ToolContext: no other path reads a token)."""

from __future__ import annotations

from contextlib import nullcontext
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import update
from sqlmodel import Session, col, select

from vopix.core import security_alerts, vault
from vopix.core.agent.tools import ToolContext, ToolFailed
from vopix.core.clock import utcnow
from vopix.core.integrations.services import SERVICES, service
from vopix.core.kinds import ConnectionStatus
from vopix.db import session_scope
from vopix.models import IntegrationConnection, Secret

LAST_USED_EVERY = timedelta(minutes=1)


@dataclass(frozen=True)
class ConnectionView:
    service: str
    status: str
    method: str
    account: str
    scopes: str
    token_hint: str  # the last 4 characters, at most
    connected_at: datetime


@dataclass(frozen=True)
class Credential:
    connection_id: int
    access_token: str
    method: str


def _purpose(service_id: str, connection_id: int, what: str) -> str:
    return f"integration:{service_id}:{connection_id}:{what}"


def _view(s: Session, row: IntegrationConnection) -> ConnectionView:
    secret = s.get(Secret, row.access_secret_id) if row.access_secret_id else None
    hint = secret.hint if secret is not None and secret.user_id == row.user_id else ""
    return ConnectionView(row.service, row.status, row.method, row.account, row.scopes, hint, row.created_at)


def list_connections(user_id: int) -> dict[str, ConnectionView]:
    with session_scope() as s:
        rows = s.exec(select(IntegrationConnection).where(IntegrationConnection.user_id == user_id)).all()
        return {r.service: _view(s, r) for r in rows if r.service in SERVICES}


def is_connected(user_id: int, service_id: str) -> bool:
    """Is the service usable for this person now (its tools are offered only then)?"""
    with session_scope() as s:
        return s.exec(
            select(IntegrationConnection.id).where(
                IntegrationConnection.user_id == user_id, IntegrationConnection.service == service_id,
                IntegrationConnection.status == ConnectionStatus.CONNECTED,
            )
        ).first() is not None


def connected_services(user_id: int) -> frozenset[str]:
    """The services usable for this person now, in one query (tools_for offers their tools)."""
    with session_scope() as s:
        return frozenset(s.exec(
            select(IntegrationConnection.service).where(
                IntegrationConnection.user_id == user_id,
                IntegrationConnection.status == ConnectionStatus.CONNECTED,
            )
        ).all())


def save(
    user_id: int, service_id: str, *, method: str, account: str, account_id: str, scopes: str,
    access_token: str, refresh_token: str | None = None, expires_at: datetime | None = None,
    ip: str = "", device: str = "",
) -> ConnectionView:
    """Store a connection (replacing this person's earlier one for the service) and raise the
    security alert that says so (mail, notice, linked chats)."""
    svc = service(service_id)
    with session_scope() as s:
        row = s.exec(
            select(IntegrationConnection).where(
                IntegrationConnection.user_id == user_id, IntegrationConnection.service == service_id
            ).with_for_update()
        ).first()
        if row is None:
            row = IntegrationConnection(user_id=user_id, service=service_id)
            s.add(row)
            s.flush()
        assert row.id is not None
        row.status, row.method = ConnectionStatus.CONNECTED, method
        row.account, row.account_id, row.scopes = account[:200], account_id[:120], scopes[:600]
        row.access_secret_id = vault.store_secret(
            s, user_id, _purpose(service_id, row.id, "access"), access_token, secret_id=row.access_secret_id
        )
        if refresh_token:
            row.refresh_secret_id = vault.store_secret(
                s, user_id, _purpose(service_id, row.id, "refresh"), refresh_token,
                secret_id=row.refresh_secret_id,
            )
        row.expires_at = expires_at
        row.created_at = row.updated_at = utcnow()
        s.add(row)
        s.flush()
        security_alerts.raise_alert(
            s, user_id, security_alerts.AlertKind.INTEGRATION_CONNECTED, ip=ip, device=device,
            detail=f"{svc.label} as {account}",
        )
        return _view(s, row)


def remove(
    user_id: int, service_id: str, *, ip: str = "", device: str = "", alert: bool = True
) -> str | None:
    """Delete the connection and its tokens from the vault (the caller revokes the token at the
    service first); the account it was, or None when there was nothing to remove. `alert`:
    raise the "disconnected" security alert (not for an account being deleted)."""
    svc = service(service_id)
    with session_scope() as s:
        row = s.exec(
            select(IntegrationConnection).where(
                IntegrationConnection.user_id == user_id, IntegrationConnection.service == service_id
            ).with_for_update()
        ).first()
        if row is None:
            return None
        account = row.account
        for secret_id in (row.access_secret_id, row.refresh_secret_id):
            if secret_id:
                vault.remove_secret(s, user_id, secret_id)
        s.delete(row)
        if alert:
            security_alerts.raise_alert(
                s, user_id, security_alerts.AlertKind.INTEGRATION_DISCONNECTED, ip=ip, device=device,
                detail=f"{svc.label} ({account})",
            )
        return account


def tokens_for_revoke(user_id: int, service_id: str) -> tuple[str, str] | None:
    """(method, access token) of the connection, to revoke before it is removed."""
    with session_scope() as s:
        row = s.exec(
            select(IntegrationConnection).where(
                IntegrationConnection.user_id == user_id, IntegrationConnection.service == service_id
            )
        ).first()
        if row is None or not row.access_secret_id:
            return None
        return row.method, vault.read_secret(s, user_id, row.access_secret_id)


def credential(ctx: ToolContext, service_id: str, *, failed: str | None = None) -> Credential:
    """The token for a tool call in a turn the person started: the one way a token is read.
    A short-lived token is refreshed first when it is about to expire, or when `failed` (the
    token a call was just refused with) is still the stored one (refresh.py)."""
    from vopix.core.integrations import refresh

    label = service(service_id).label
    lock = refresh.lock_for(ctx.user_id, service_id) if service_id in refresh.REFRESHERS else nullcontext()
    revoked: ToolFailed | None = None
    with lock, session_scope() as s:
        row = refresh.connection_row(s, ctx.user_id, service_id)
        if row is None or not row.access_secret_id:
            raise ToolFailed(f"{label} is not connected. Connect it on the Integrations page.")
        if row.status == ConnectionStatus.REVOKED:
            raise ToolFailed(f"{label} revoked the access: reconnect it on the Integrations page to use it.")
        if row.status != ConnectionStatus.CONNECTED:
            raise ToolFailed(f"{label} needs reconnecting on the Integrations page before it can be used.")
        token = vault.read_secret(s, ctx.user_id, row.access_secret_id)
        try:
            token = refresh.fresh_token(s, row, token, failed=failed)
        except refresh.GrantRevoked as exc:
            revoked = exc  # the transaction commits "needs reconnecting" and the alert first
        else:
            now = utcnow()
            if row.last_used_at is None or now - row.last_used_at > LAST_USED_EVERY:
                row.last_used_at = now  # a write per minute at most, not one per call
                s.add(row)
            assert row.id is not None
            found = Credential(row.id, token, row.method)
    if revoked is not None:
        raise revoked
    return found


def alert_reconnect(s: Session, row: IntegrationConnection, *, revoked: bool = False) -> None:
    """Tell the person (mail, notice, linked chats) that the connection stopped working. The
    caller has just moved the row out of "connected", which happens once per connection."""
    said = ", which says the access was revoked" if revoked else ""
    security_alerts.raise_alert(
        s, row.user_id, security_alerts.AlertKind.INTEGRATION_NEEDS_RECONNECT,
        detail=f"{service(row.service).label} ({row.account}){said}",
    )


def mark_needs_reconnect(user_id: int, service_id: str, *, revoked: bool = False) -> bool:
    """The service refused the token: stop using it until the person reconnects, and raise the
    security alert. Several calls refused at once alert once: only the one whose conditional
    UPDATE moves the row out of "connected" does. `revoked`: the service said the token was
    revoked (Slack's token_revoked), shown as such. True when this call marked it."""
    status = ConnectionStatus.REVOKED if revoked else ConnectionStatus.NEEDS_RECONNECT
    with session_scope() as s:
        mine = (col(IntegrationConnection.user_id) == user_id) & (IntegrationConnection.service == service_id)
        moved = s.execute(
            update(IntegrationConnection)
            .where(mine, col(IntegrationConnection.status) == ConnectionStatus.CONNECTED)
            .values(status=status, updated_at=utcnow())
        )
        if not moved.rowcount:  # type: ignore[attr-defined]
            return False  # already marked (and alerted) by another call
        row = s.exec(select(IntegrationConnection).where(mine)).one()
        alert_reconnect(s, row, revoked=revoked)
        return True
