"""Who is using this tab, learned on the server from the HttpOnly cookie of the socket.

The identity lives in backend-only vars (leading underscore, never sent to the browser) and is
checked against the cookie of the socket that sent each sensitive event, so a copied Reflex
client token without the cookie acts as nobody.
"""

from __future__ import annotations

import asyncio
import functools
import inspect
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Concatenate, ParamSpec, TypeAlias, TypeVar

import reflex as rx

from vopix.core import accounts, live, sessions
from vopix.core.passwords import sha256_hex

HOME_ROUTE = "/chat"  # where a logged-in person starts; / is the page for everyone else
LOGIN_ROUTE = "/login"

# An open tab learns of changes from live notices (SessionState.watch_session); without one
# for this long, it checks its login anyway (an expiry sends no notice).
FALLBACK_SECONDS = 30.0
RETRY_SECONDS = 1.0  # a follower busy with a streaming reply is asked again this soon

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


async def identify(
    proof: tuple[str, str], *, cookie_header: str, sid: str, ip: str = "", user_agent: str = ""
) -> tuple[sessions.SessionInfo | None, tuple[str, str]]:
    """Who the cookie of socket `sid` belongs to, and the proof to keep for its next event.

    `proof` is (socket id, token hash) of the last event that proved the identity. A token
    that socket already proved may be one a later page load rotated (an open socket keeps
    its handshake cookie); any other socket presenting a rotated token is a replay, which
    refuses it and revokes that login, as the refresh route does.
    """
    token = sessions.token_from_cookie_header(cookie_header)
    token_hash = sha256_hex(token) if token else ""
    proven = bool(sid and token_hash) and proof == (sid, token_hash)
    info = await asyncio.to_thread(
        sessions.resolve, token, ip=ip, user_agent=user_agent, proven_on_open_socket=proven
    )
    return info, ((sid, token_hash) if info is not None else ("", ""))


# What an event handler may answer with: a follow-up (redirect, script, event), several, or
# nothing.
Reply: TypeAlias = rx.event.EventSpec | rx.event.EventHandler | list[Any] | None

# The socket a client token is linked to right now (None: none), set by the app once its
# socket server exists (vopix/vopix.py); unset in tests without one.
linked_socket: Callable[[str], str | None] | None = None

P = ParamSpec("P")
S = TypeVar("S", bound="SessionState")


@dataclass(frozen=True)
class Follower:
    """A page's state that shows a topic's changes live while that page is open: `show` runs
    with the tab's state locked, reads what changed, and answers False when it cannot now."""

    topic: str
    route: str
    state: type[rx.State]
    show: Callable[[Any, int], Awaitable[bool]]


_FOLLOWERS: list[Follower] = []


def follow_live(
    topic: str, route: str, state: type[rx.State], show: Callable[[Any, int], Awaitable[bool]]
) -> None:
    """Have open tabs on `route` run `show(state, user_id)` when `topic` changes for their person."""
    _FOLLOWERS.append(Follower(topic, route, state, show))



def for_user(
    fn: Callable[Concatenate[S, int, P], Awaitable[Any]],
) -> Callable[Concatenate[S, P], Awaitable[Any]]:
    """An event handler that acts for the person of the socket's cookie: the cookie is
    re-checked, and the handler gets that person's id as its first argument, or the tab goes
    to the login page. Put it under `@rx.event`; Reflex sees the handler without `user_id`."""

    @functools.wraps(fn)
    async def handler(self: S, *args: P.args, **kwargs: P.kwargs) -> Any:
        user_id = await self.current_user_id()
        if user_id is None:
            return rx.redirect(LOGIN_ROUTE)
        return self._with_watcher(await fn(self, user_id, *args, **kwargs))

    signature = inspect.signature(fn)
    params = list(signature.parameters.values())
    user_param = params.pop(1).name
    handler.__signature__ = signature.replace(parameters=params)  # type: ignore[attr-defined]
    handler.__annotations__ = {k: v for k, v in fn.__annotations__.items() if k != user_param}
    return handler


class SessionState(rx.State):
    _user_id: int = 0
    _session_id: int = 0
    # The socket and token (hash) that last proved _user_id: see identify().
    _proof_sid: str = ""
    _proof_token: str = ""
    # The socket whose session watcher runs (see watch_session); "" while none does.
    _watch_sid: str = ""
    user_email: str = ""

    @rx.var
    def logged_in(self) -> bool:
        return self.user_email != ""

    def _forget(self) -> None:
        self._user_id = 0
        self._session_id = 0
        self._proof_sid = self._proof_token = ""
        self.user_email = ""

    def _owned_by(self, user_id: int) -> bool:
        """Does this state still belong to `user_id` on the socket that proved it? A background
        task checks this before every write: a client token copied into another browser
        re-links the state to that browser's socket (and the hydrate guard empties it), and
        nothing of the person the task started for may reach it.

        Reflex links a token to a new socket at connect, before the state hears of it, and
        sends a write's delta to the socket linked when the `async with self` block ends. So
        the live link is checked too, and a writer makes this check the last thing in its
        block, with no await after it (fetch first, then check and assign)."""
        sid = self._proof_sid
        if not user_id or self._user_id != user_id or sid != self.router.session.session_id:
            return False
        live = linked_socket(self.router.session.client_token) if linked_socket else None
        return live is None or live == sid

    async def current_user_id(self) -> int | None:
        """The user of this event's socket cookie, re-checked against the database."""
        info, proof = await identify(
            (self._proof_sid, self._proof_token),
            cookie_header=self.router.headers.cookie,
            sid=self.router.session.session_id,
            ip=self.router.session.client_ip,
            user_agent=self.router.headers.user_agent,
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
        self._proof_sid, self._proof_token = proof
        return info.user_id

    def _with_watcher(self, reply: Reply) -> Reply:
        """`reply`, plus the start of this socket's session watcher if it has none yet.

        Called after a guarded event proved the person. Every (re)connect and every navigation
        runs the page's on_load, so a socket that reconnects, to this instance or another, gets
        its watcher from its first guarded event; a socket id of "" (no socket: unit tests)
        gets none."""
        sid = self.router.session.session_id
        if not sid or not self._user_id or self._watch_sid == sid:
            return reply
        self._watch_sid = sid
        watch = SessionState.watch_session
        if reply is None:
            return watch
        return [*reply, watch] if isinstance(reply, list) else [reply, watch]

    @rx.event(background=True)
    async def watch_session(self) -> Reply:
        """While the tab's socket is open, it follows what changes for its person elsewhere,
        told by live notices (vopix/core/live.py) rather than found by polling:
        - its login revoked, expired, or its account suspended or being deleted: the tab
          forgets everything of the person and goes to the login page by itself;
        - their history changed (Telegram, WhatsApp, a task, another tab): the open page's
          follower (see `follow_live`) shows it.
        Idle, it costs nothing but a login check every FALLBACK_SECONDS (expiry comes without
        a notice; a notice may be lost while Redis restarts). Runs where its socket is; stops
        when the socket goes away or another socket takes the tab (that one starts its own)."""
        async with self:
            sid, token = self._watch_sid, self.router.session.client_token
            user_id, session_id = self._user_id, self._session_id
            if not sid or not user_id:
                return None
        ended = False
        try:
            while True:
                outcome = await self._watch_login(sid, token, user_id, session_id)
                if not isinstance(outcome, tuple):
                    ended = outcome is not None
                    return outcome
                user_id, session_id = outcome  # the tab proved another login: watch that one
        finally:
            if not ended:
                async with self:
                    if self._watch_sid == sid:
                        self._watch_sid = ""

    async def _watch_login(
        self, sid: str, token: str, user_id: int, session_id: int
    ) -> Reply | tuple[int, int]:
        """Follow one login until it ends (the redirect to the login page, the tab emptied),
        the socket goes (None), or the tab proves another login (its user and session ids)."""
        async with live.subscribe(user_id) as waiter:
            again: set[str] = set()  # topics a busy follower asked to be told again
            retry = RETRY_SECONDS
            while True:
                topics = await waiter.wait(retry if again else FALLBACK_SECONDS)
                if linked_socket is not None and linked_socket(token) != sid:
                    return None
                check = (not topics and not again) or live.SESSION in topics
                if check and not await asyncio.to_thread(sessions.is_active, session_id, user_id):
                    async with self:
                        if self._watch_sid != sid or not self._user_id:
                            return None  # replaced, or the person logged out here
                        if (self._user_id, self._session_id) != (user_id, session_id):
                            return self._user_id, self._session_id
                        await self._forget_tab()
                    return rx.redirect(LOGIN_ROUTE, replace=True)
                still = await self._follow(user_id, (topics | again) - {live.SESSION})
                # Asked again while a reply streams here: 1 s, then less and less often (each
                # try loads and saves the tab's state; a long reply on a busy server would
                # otherwise pay one a second).
                retry = min(retry * 2, FALLBACK_SECONDS) if still and again else RETRY_SECONDS
                again = still

    async def _follow(self, user_id: int, topics: set[str]) -> set[str]:
        """Run the followers of `topics` that belong to the tab's open page; the topics whose
        follower was busy (a reply streaming) come back, to be tried again shortly."""
        due = [f for f in _FOLLOWERS if f.topic in topics]
        if not due:
            return set()
        busy: set[str] = set()
        async with self:
            if self._user_id != user_id:
                return set()
            route = self.router.route_id
            for follower in due:
                if follower.route == route:
                    state = await self.get_state(follower.state)
                    if not await follower.show(state, user_id):
                        busy.add(follower.topic)
        return busy

    async def _forget_tab(self) -> None:
        """Empty every private state of this tab (each page's state derives from this one),
        loading those the state manager has not yet (Redis loads states lazily)."""
        pending: list[type[rx.State]] = list(self.__class__.get_substates())  # a StateProxy here
        while pending:
            cls = pending.pop()
            pending.extend(cls.get_substates())
            await self.get_state(cls)
        self.reset()
        self._forget()

    @rx.event
    async def require_login(self) -> Reply:
        """on_load of every private page."""
        if await self.current_user_id() is None:
            return rx.redirect(LOGIN_ROUTE)
        return self._with_watcher(rx.call_script(REFRESH_SCRIPT))

    @rx.event
    async def skip_if_logged_in(self) -> Reply:
        """on_load of the login and sign-up pages."""
        if await self.current_user_id() is not None:
            return rx.redirect(HOME_ROUTE)
        return None

    @rx.event
    async def log_out(self) -> Reply:
        self._forget()
        return rx.call_script(cookie_post_script("/api/auth/logout", None, LOGIN_ROUTE))
