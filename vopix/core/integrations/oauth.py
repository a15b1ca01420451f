"""Connecting a service with OAuth 2.0's authorization code flow, through authlib's httpx client
(PKCE S256 where the service takes it). The `state` is random, stored only as its SHA-256,
bound to the login session that began the connect, single use and good for 10 minutes: a
forged, reused, expired or foreign state ends the flow before any code is exchanged."""

from __future__ import annotations

import hashlib
import logging
import secrets
import warnings
from dataclasses import dataclass
from datetime import datetime, timedelta

import authlib.deprecate  # noqa: F401  (it sets its warnings to "always" when first imported)
from sqlalchemy import delete, update
from sqlmodel import col, select

from vopix.core.clock import utcnow
from vopix.core.integrations import connections
from vopix.core.integrations.services import Service, service
from vopix.db import session_scope
from vopix.models import OAuthState
from vopix.settings import get_settings

with warnings.catch_warnings():  # authlib suggests httpx2; httpx is what we ship
    warnings.simplefilter("ignore")
    from authlib.common.security import generate_token
    from authlib.integrations.base_client.errors import OAuthError
    from authlib.integrations.httpx_client import AsyncOAuth2Client

STATE_TTL = timedelta(minutes=10)
log = logging.getLogger("vopix.integrations.oauth")


# Why a connect failed, by code: the callback puts only the code in the page's address (never
# free text an attacker could write there); the page shows the sentence.
MESSAGES = {
    "no_app": "{label} cannot be connected with a sign-in here (no OAuth app is set up).",
    "state": "This connect link is not valid (expired, used already, or started in another session). "
             "Start again from the Integrations page.",
    "denied": "{label} was not connected: the sign-in was cancelled or refused on {label}.",
    "no_code": "{label} did not send an authorization code. Try again.",
    "exchange": "{label} did not accept the sign-in. Try again.",
    "token": "{label} did not accept the token: check that it is complete and still valid.",
    "paste": "Paste the whole token, with nothing else.",
    "not_offered": "{label} is not offered yet.",
}


class ConnectFailed(Exception):
    """A connect that did not happen; `code` names its sentence in MESSAGES."""

    def __init__(self, code: str, label: str) -> None:
        self.code = code if code in MESSAGES else "exchange"
        super().__init__(MESSAGES[self.code].format(label=label))


def message_for(code: str, service_id: str) -> str:
    from vopix.core.integrations.services import SERVICES

    svc = SERVICES.get(service_id)
    return MESSAGES.get(code, MESSAGES["exchange"]).format(label=svc.label if svc else "The service")


@dataclass(frozen=True)
class Endpoints:
    authorize: str
    token: str
    extra: dict[str, str]  # more parameters of the authorization request


def endpoints(svc: Service) -> Endpoints:
    cfg = get_settings()
    if svc.id == "github":
        return Endpoints(f"{cfg.github_base_url}/login/oauth/authorize",
                         f"{cfg.github_base_url}/login/oauth/access_token", {})
    if svc.id == "slack":
        return Endpoints(f"{cfg.slack_base_url}/oauth/v2/authorize",
                         f"{cfg.slack_base_url}/api/oauth.v2.access", {})
    # Google gives a refresh token only offline and, after the first consent, only with prompt=consent.
    return Endpoints(f"{cfg.google_auth_base_url}/o/oauth2/v2/auth", f"{cfg.google_oauth2_base_url}/token",
                     {"access_type": "offline", "prompt": "consent", "include_granted_scopes": "true"})


def _hash(state: str) -> str:
    return hashlib.sha256(state.encode()).hexdigest()


def _client(svc: Service) -> AsyncOAuth2Client:
    cfg = get_settings()
    return AsyncOAuth2Client(
        svc.client_id(cfg), svc.client_secret(cfg), scope=svc.scope_separator.join(svc.scopes),
        redirect_uri=svc.redirect_uri(cfg), token_endpoint_auth_method="client_secret_post",
        code_challenge_method="S256" if svc.pkce else None, timeout=20.0,
    )


def begin(user_id: int, session_id: int, service_id: str, now: datetime | None = None) -> str:
    """The service's consent page for this person and login session."""
    svc = service(service_id)
    if not svc.oauth_ready():
        raise ConnectFailed("no_app", svc.label)
    state = secrets.token_urlsafe(32)
    verifier = generate_token(64) if svc.pkce else ""
    moment = now or utcnow()
    with session_scope() as s:
        s.add(OAuthState(state_hash=_hash(state), user_id=user_id, session_id=session_id, service=service_id,
                         code_verifier=verifier, expires_at=moment + STATE_TTL))
    ends = endpoints(svc)
    url, _ = _client(svc).create_authorization_url(
        ends.authorize, state=state, code_verifier=verifier or None, **ends.extra
    )
    return str(url)


def _take_state(state: str, user_id: int, session_id: int, service_id: str, now: datetime) -> str:
    """Use up the state (once); its PKCE verifier. Any mismatch is the same refusal."""
    refused = ConnectFailed("state", service(service_id).label)
    with session_scope() as s:
        row = s.exec(select(OAuthState).where(OAuthState.state_hash == _hash(state or ""))).first()
        if (row is None or row.user_id != user_id or row.session_id != session_id
                or row.service != service_id or row.expires_at <= now or row.used_at is not None):
            raise refused
        used = s.execute(
            update(OAuthState).where(col(OAuthState.id) == row.id, col(OAuthState.used_at).is_(None))
            .values(used_at=now)
        )
        if not used.rowcount:  # type: ignore[attr-defined]
            raise refused  # a second tab's callback took it first
        return row.code_verifier


async def finish(
    service_id: str, *, state: str, code: str, user_id: int, session_id: int, ip: str = "", device: str = "",
    now: datetime | None = None,
) -> connections.ConnectionView:
    """The callback: check the state, exchange the code, find the account, save the connection."""
    import asyncio

    svc = service(service_id)
    verifier = await asyncio.to_thread(_take_state, state, user_id, session_id, service_id, now or utcnow())
    if not code:
        raise ConnectFailed("no_code", svc.label)
    async with _client(svc) as client:
        try:
            token = await client.fetch_token(
                endpoints(svc).token, code=code, code_verifier=verifier or None,
                headers={"Accept": "application/json"},
            )
        except (OAuthError, ValueError) as exc:
            log.warning("%s token exchange refused: %s", svc.id, _reason(exc))
            raise ConnectFailed("exchange", svc.label) from None
    access = str(token.get("access_token") or "")
    if not access:
        raise ConnectFailed("exchange", svc.label)
    login, account_id, scopes = await _account(svc, access)
    expires_at = utcnow() + timedelta(seconds=int(token["expires_in"])) if token.get("expires_in") else None
    return await asyncio.to_thread(
        lambda: connections.save(
            user_id, service_id, method="oauth", account=login, account_id=account_id,
            scopes=scopes or str(token.get("scope") or ""), access_token=access,
            refresh_token=str(token.get("refresh_token") or "") or None, expires_at=expires_at, ip=ip,
            device=device,
        )
    )


def _reason(exc: Exception) -> str:
    return str(getattr(exc, "error", "") or type(exc).__name__)[:80]


async def _account(svc: Service, token: str) -> tuple[str, str, str]:
    """(account name, account id, scopes) the token belongs to: checked before it is saved."""
    from vopix.core.agent.tools import ToolFailed
    from vopix.core.integrations import github_api, gmail_api, slack_api

    whoami = {"github": github_api.whoami, "slack": slack_api.whoami, "google": gmail_api.whoami}.get(svc.id)
    if whoami is None:
        raise ConnectFailed("not_offered", svc.label)
    try:
        return await whoami(token)
    except ToolFailed:
        raise ConnectFailed("token", svc.label) from None


async def connect_with_token(
    user_id: int, service_id: str, token: str, *, ip: str = "", device: str = ""
) -> connections.ConnectionView:
    """A pasted token (where no OAuth app is set up): checked against the service, then saved."""
    import asyncio

    svc = service(service_id)
    token = token.strip()
    if not svc.paste or not token or len(token) > 500 or any(c.isspace() for c in token):
        raise ConnectFailed("paste", svc.label)
    login, account_id, scopes = await _account(svc, token)
    return await asyncio.to_thread(
        lambda: connections.save(
            user_id, service_id, method="token", account=login, account_id=account_id, scopes=scopes,
            access_token=token, ip=ip, device=device,
        )
    )


def purge(now: datetime) -> int:
    """States are kept a day past their expiry (a late callback still gets the clear refusal)."""
    with session_scope() as s:
        old = col(OAuthState.expires_at) < now - timedelta(days=1)
        result = s.exec(delete(OAuthState).where(old))  # type: ignore[call-overload]
        return int(result.rowcount or 0)
