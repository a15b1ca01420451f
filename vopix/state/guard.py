"""Binds a tab's Reflex state to the login cookie of the socket that opens it.

Reflex sends the whole state of a client token when a page hydrates. If that token was copied
into another browser (which lacks the cookie), the state still holds the owner's data; this
middleware empties it before anything is sent, so the copy acts as, and sees, nobody.
Event handlers re-check the cookie themselves before sensitive work (SessionState).
"""

from __future__ import annotations

import asyncio
from typing import Any

import reflex as rx
from reflex.middleware import Middleware
from reflex_base.constants.event import Endpoint
from reflex_base.constants.route import RouteVar
from reflex_base.event.context import EventContext
from starlette.datastructures import Headers
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from vopix.core import sessions
from vopix.state.session import SessionState, identify

HYDRATE_EVENTS = frozenset({"hydrate", "hydrate_and_load"})


class CookieBoundState(Middleware):
    async def preprocess(self, app: Any, state: Any, event: Any) -> None:
        if event.name.rsplit(".", 1)[-1] not in HYDRATE_EVENTS:
            return None
        session = await state.get_state(SessionState)
        if not session._user_id:
            return None
        router_data = event.router_data or {}
        headers = router_data.get(RouteVar.HEADERS) or {}
        info, proof = await identify(
            (session._proof_sid, session._proof_token),
            cookie_header=headers.get("cookie", ""),
            sid=router_data.get(RouteVar.SESSION_ID, ""),
        )
        if info is None or info.user_id != session._user_id:
            state.reset()
            session._forget()
        else:
            session._proof_sid, session._proof_token = proof
        return None


class UploadGuard:
    """ASGI wrapper for POST /_upload. Reflex runs the page's upload event in the state of the
    client token named by a request header, and that state's router still holds the cookie of
    the tab's socket, not of this request: a copied client token alone would upload into its
    owner's workspace. Let an upload through only when the request's own cookie belongs to the
    person the token's workspace state belongs to."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] == "http"
            and scope.get("method") == "POST"
            and scope.get("path", "").rstrip("/") == str(Endpoint.UPLOAD)  # "/_upload"
            and not await self._allowed(Headers(scope=scope))
        ):
            response = JSONResponse({"error": "Log in again to upload."}, status_code=403)
            await response(scope, receive, send)
            return
        await self.app(scope, receive, send)

    @staticmethod
    async def _allowed(headers: Headers) -> bool:
        from vopix.state.chat import ChatState
        from vopix.state.workspace import WorkspaceState

        # The state whose upload event this is: the chat composer's attachments, or the
        # workspace page's upload (anything else is checked against the workspace's state).
        handler = headers.get("reflex-event-handler", "")
        owner_cls = ChatState if handler.startswith(ChatState.get_full_name() + ".") else WorkspaceState
        token = sessions.token_from_cookie_header(headers.get("cookie"))
        client_token = headers.get("reflex-client-token", "")
        if not token or not client_token:
            return False
        info = await asyncio.to_thread(sessions.resolve, token)
        if info is None:
            return False
        manager = EventContext.get().state_manager
        root = await manager.get_state(rx.BaseStateToken(ident=client_token, cls=owner_cls))
        owner = await root.get_state(owner_cls)
        return bool(owner._user_id) and owner._user_id == info.user_id
