"""GET /api/integrations/{service}/callback: where a service's consent page sends the person
back. The login cookie says who; core/integrations/oauth.py checks the state against that login
before any code is exchanged; the answer is always a redirect to /integrations saying how it went."""

from __future__ import annotations

import asyncio
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from vopix.api.http import client_ip
from vopix.core import sessions
from vopix.core.integrations import oauth
from vopix.core.integrations.services import SERVICES

PAGE = "/integrations"


def _back(**params: str) -> Response:
    # 303: the browser GETs the page; no-store: the code in this URL is never cached.
    return RedirectResponse(
        f"{PAGE}?{urlencode(params)}", status_code=303, headers={"Cache-Control": "no-store"}
    )


async def callback(request: Request) -> Response:
    service_id = request.path_params["service"]
    if service_id not in SERVICES:
        return _back(error="exchange")
    token = sessions.token_from_cookie_header(request.headers.get("cookie"))
    info = await asyncio.to_thread(
        sessions.resolve, token, ip=client_ip(request), user_agent=request.headers.get("user-agent", "")
    ) if token else None
    if info is None:
        return RedirectResponse("/login", status_code=303)
    query = request.query_params
    if query.get("error"):  # the person said no on the service's page, or it failed there
        return _back(service=service_id, error="denied")
    try:
        await oauth.finish(
            service_id, state=query.get("state", ""), code=query.get("code", ""), user_id=info.user_id,
            session_id=info.session_id, ip=client_ip(request),
            device=sessions.describe_user_agent(request.headers.get("user-agent", "")),
        )
    except oauth.ConnectFailed as exc:
        return _back(service=service_id, error=exc.code)
    return _back(connected=service_id)
