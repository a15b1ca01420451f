"""Integrations page: each service's state and what the agent may do with it, connect (OAuth or a
pasted token), disconnect, and the log of what the agent did with them."""

from __future__ import annotations

import asyncio
import json

import reflex as rx

from vopix.core import sessions
from vopix.core.agent.profile import timezone_of
from vopix.core.clock import local_time
from vopix.core.integrations import activity, connections, disconnect, oauth
from vopix.core.integrations.services import SERVICES
from vopix.core.kinds import ConnectionStatus
from vopix.state.session import REFRESH_SCRIPT, Reply, SessionState, for_user

OFFERED = frozenset({"github", "slack", "google"})
CHANNEL_NAMES = {"web": "web chat", "telegram": "Telegram", "whatsapp": "WhatsApp"}


def _disconnect_question(service_id: str, label: str, method: str) -> str:
    if not disconnect.revocable(service_id, method):
        return (f"Disconnect {label}? Your agent can no longer use it; the token is deleted here, "
                f"and only {label} itself can revoke it.")
    return f"Disconnect {label}? Your agent can no longer use it, and the token is revoked at {label}."


class IntegrationsState(SessionState):
    cards: list[dict[str, str]] = []
    abilities: dict[str, list[str]] = {}
    message: str = ""
    error: str = ""
    asking_disconnect: str = ""
    # The card whose button takes the focus when it appears: the one the disconnect question
    # held (its buttons disappear with it).
    focus_service: str = ""
    log: list[dict[str, str]] = []
    log_more: bool = False
    log_service: str = ""

    async def _fill(self, user_id: int) -> None:
        found = await asyncio.to_thread(connections.list_connections, user_id)
        cards = []
        for svc in SERVICES.values():
            conn = found.get(svc.id)
            offered, problem = svc.id in OFFERED, ""
            if conn is None:
                state = "Not connected" if offered else "Coming soon"
            elif conn.status == ConnectionStatus.REVOKED:
                state = "Revoked — reconnect"
                problem = (f"{svc.label} says the access of {conn.account} was revoked there: reconnect to "
                           f"let your agent use {svc.label} again.")
            elif conn.status != ConnectionStatus.CONNECTED:
                state = "Needs reconnecting"
                problem = (f"{svc.label} refused the saved token of {conn.account}: reconnect to let your "
                           f"agent use {svc.label} again.")
            else:
                state = f"Connected as {conn.account}"
            cards.append({
                "id": svc.id, "label": svc.label, "state": state,
                "connected": "yes" if conn is not None else "",
                "needs_reconnect": "yes" if conn and conn.status != ConnectionStatus.CONNECTED else "",
                "offered": "yes" if offered else "",
                "oauth": "yes" if offered and svc.oauth_ready() else "",
                "paste": svc.paste if offered else "", "paste_hint": svc.paste_hint,
                "hint": f"Token ending in {conn.token_hint}" if conn is not None and conn.token_hint else "",
                "disconnect_question": _disconnect_question(svc.id, svc.label, conn.method if conn else ""),
                "problem": problem,
            })
        self.cards = cards
        self.abilities = {svc.id: list(svc.can_do) for svc in SERVICES.values()}

    async def _fill_log(self, user_id: int, *, more: bool = False) -> None:
        before = int(self.log[-1]["id"]) if more and self.log else None
        rows, has_more = await asyncio.to_thread(
            activity.list_activity, user_id, service=self.log_service, before_id=before
        )
        zone = await asyncio.to_thread(timezone_of, user_id)
        shown = [
            {
                "id": str(a.id), "when": local_time(a.at, zone),
                "service": SERVICES[a.service].label if a.service in SERVICES else a.service,
                "action": a.action, "outcome": "Done" if a.outcome == "ok" else f"Failed: {a.detail}",
                "where": f"{a.conversation_title or 'a conversation'} "
                         f"({CHANNEL_NAMES.get(a.channel, a.channel)})",
                "conversation": str(a.conversation_id or ""),
            }
            for a in rows
        ]
        self.log = self.log + shown if more else shown
        self.log_more = has_more

    @rx.event
    @for_user
    async def load(self, user_id: int) -> Reply:
        self.message = self.error = self.asking_disconnect = self.focus_service = ""
        query = self.router.url.query_parameters
        connected, failed = str(query.get("connected", "")), str(query.get("error", ""))
        if connected in SERVICES:
            self.message = f"{SERVICES[connected].label} is connected."
        elif failed:
            self.error = oauth.message_for(failed, str(query.get("service", "")))
        await self._fill(user_id)
        await self._fill_log(user_id)
        # The address held the outcome only for this visit: a reload does not say it again.
        clean = "window.history.replaceState(window.history.state, '', window.location.pathname)"
        return [rx.call_script(REFRESH_SCRIPT), rx.call_script(clean)]

    @rx.event
    @for_user
    async def connect(self, user_id: int, service_id: str) -> Reply:
        self.message = self.error = ""
        try:
            url = await asyncio.to_thread(oauth.begin, user_id, self._session_id, service_id)
        except (oauth.ConnectFailed, KeyError) as exc:
            self.error = str(exc)
            return None
        return rx.call_script(f"window.location.assign({json.dumps(url)})")

    @rx.event
    @for_user
    async def paste_token(self, user_id: int, form: dict) -> Reply:
        self.message = self.error = ""
        service_id = str(form.get("service", ""))
        if service_id not in OFFERED:
            self.error = "That service is not offered here."
            return None
        try:
            view = await oauth.connect_with_token(
                user_id, service_id, str(form.get("token", "")), ip=self.router.session.client_ip,
                device=sessions.describe_user_agent(self.router.headers.user_agent),
            )
        except oauth.ConnectFailed as exc:
            self.error = str(exc)
            return None
        self.message = f"{SERVICES[service_id].label} is connected as {view.account}."
        await self._fill(user_id)
        return rx.set_value(f"token-{service_id}", "")

    @rx.event
    def ask_disconnect(self, service_id: str) -> None:
        self.asking_disconnect, self.focus_service = service_id, ""

    @rx.event
    def keep_connection(self) -> None:
        self.focus_service, self.asking_disconnect = self.asking_disconnect, ""

    @rx.event
    @for_user
    async def confirm_disconnect(self, user_id: int) -> Reply:
        service_id, self.asking_disconnect = self.asking_disconnect, ""
        self.focus_service = service_id
        self.message = self.error = ""
        if service_id not in SERVICES:
            return None
        done = await disconnect.disconnect(
            user_id, service_id, ip=self.router.session.client_ip,
            device=sessions.describe_user_agent(self.router.headers.user_agent),
        )
        if done is None:
            self.error = f"{SERVICES[service_id].label} was not connected."
        elif done.revoked:
            self.message = done.message
        else:
            self.error = done.message
        await self._fill(user_id)
        return None

    @rx.event
    @for_user
    async def filter_log(self, user_id: int, service_id: str) -> None:
        self.log_service = service_id if service_id in SERVICES else ""
        await self._fill_log(user_id)

    @rx.event
    @for_user
    async def older_log(self, user_id: int) -> None:
        await self._fill_log(user_id, more=True)
