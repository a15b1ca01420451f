"""Who is using this tab, learned on the server from the HttpOnly cookie of the socket.

The identity lives in backend-only vars (leading underscore, never sent to the browser) and is
checked against the cookie of the socket that sent each sensitive event, so a copied Reflex
client token without the cookie acts as nobody.
"""

from __future__ import annotations

import asyncio
import json

import reflex as rx

from vopix.core import accounts, sessions

HOME_ROUTE = "/"
LOGIN_ROUTE = "/login"

# Rotates the refresh token when it is due; the cookie comes back HttpOnly from the route.
REFRESH_SCRIPT = (
    "fetch('/api/auth/refresh',{method:'POST',credentials:'same-origin'})"
    ".then(r=>{if(r.status===401){window.location.assign('/login')}}).catch(()=>{})"
)


def cookie_post_script(path: str, body: dict[str, str] | None, then_go: str) -> str:
    payload = json.dumps(json.dumps(body or {}))
    return (
        f"fetch({json.dumps(path)},{{method:'POST',credentials:'same-origin',"
        f"headers:{{'Content-Type':'application/json'}},body:{payload}}})"
        f".then(()=>window.location.assign({json.dumps(then_go)}))"
    )


class SessionState(rx.State):
    _user_id: int = 0
    _session_id: int = 0
    user_email: str = ""

    @rx.var
    def logged_in(self) -> bool:
        return self.user_email != ""

    def _forget(self) -> None:
        self._user_id = 0
        self._session_id = 0
        self.user_email = ""

    async def current_user_id(self) -> int | None:
        """The user of this event's socket cookie, re-checked against the database."""
        token = sessions.token_from_cookie_header(self.router.headers.cookie)
        info = await asyncio.to_thread(
            sessions.resolve,
            token,
            ip=self.router.session.client_ip,
            user_agent=self.router.headers.user_agent,
            socket=True,
        )
        if info is None or (self._user_id and info.user_id != self._user_id):
            self._forget()
            return None
        if info.user_id != self._user_id or not self.user_email:
            user = await asyncio.to_thread(accounts.get_user, info.user_id)
            if user is None:
                self._forget()
                return None
            self.user_email = user.email
        self._user_id, self._session_id = info.user_id, info.session_id
        return info.user_id

    @rx.event
    async def require_login(self):
        """on_load of every private page."""
        if await self.current_user_id() is None:
            return rx.redirect(LOGIN_ROUTE)
        return rx.call_script(REFRESH_SCRIPT)

    @rx.event
    async def skip_if_logged_in(self):
        """on_load of the login and sign-up pages."""
        if await self.current_user_id() is not None:
            return rx.redirect(HOME_ROUTE)
        return None

    @rx.event
    async def log_out(self):
        self._forget()
        return rx.call_script(cookie_post_script("/api/auth/logout", None, LOGIN_ROUTE))
