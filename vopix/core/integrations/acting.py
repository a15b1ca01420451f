"""What every integration tool does around its call: take the person's token for this turn
(connections.credential), run the call, log what it did in words (or why it failed), and stop
using a connection whose token the service refused."""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from vopix.core.agent.tools import SharedCheck, Tool, ToolContext, ToolFailed
from vopix.core.integrations import activity, connections
from vopix.core.integrations.refresh import REFRESHERS

# A service call: (the person's token, the arguments) -> (text for the model, what was done in words).
Action = Callable[[str, dict[str, Any]], Awaitable[tuple[str, str]]]


class TokenRefused(ToolFailed):
    """401 / invalid_auth: the token is revoked or expired; the connection needs reconnecting.
    `revoked`: the service said it was revoked (Slack's token_revoked; GitHub's 401 and Google's
    invalid_grant do not tell a revoked token from an expired one)."""

    def __init__(self, message: str, *, revoked: bool = False) -> None:
        super().__init__(message)
        self.revoked = revoked


def connected(service: str) -> SharedCheck:
    """Offered while the service is connected; one query per turn answers it for every service."""
    return SharedCheck(connections.connected_services, service)


def acting_tool(
    service: str, fn: Action, describe: Mapping[str, Callable[[dict[str, Any]], str]], description: str,
    parameters: dict[str, Any], *, confirm: bool = False,
) -> Tool:
    words_of = describe[fn.__name__]

    async def run(ctx: ToolContext, args: dict[str, Any]) -> str:
        words = words_of(args)
        try:
            token = (await asyncio.to_thread(connections.credential, ctx, service)).access_token
            try:
                result, done = await fn(token, args)
            except TokenRefused as refused:
                if service not in REFRESHERS or refused.revoked:
                    raise
                # A short-lived token refused early: refreshed once (unless another call did),
                # then the call is made again; a second refusal stops the connection. A token
                # that cannot be refreshed (no refresh token) comes back the same: no second call.
                again = await asyncio.to_thread(functools.partial(connections.credential, ctx, service,
                                                                  failed=token))
                if again.access_token == token:
                    raise
                result, done = await fn(again.access_token, args)
        except ToolFailed as exc:
            if isinstance(exc, TokenRefused):  # marked once, alerted once (mark_needs_reconnect)
                await asyncio.to_thread(functools.partial(
                    connections.mark_needs_reconnect, ctx.user_id, service, revoked=exc.revoked))
            await asyncio.to_thread(
                activity.record, ctx, service, fn.__name__, words, ok=False, detail=str(exc)
            )
            raise
        await asyncio.to_thread(activity.record, ctx, service, fn.__name__, done, ok=True)
        return result

    return Tool(
        fn.__name__, description, parameters, run, needs_confirmation=confirm, available=connected(service),
        describe=lambda a: (lambda w: w[:1].upper() + w[1:])(words_of(a)),
    )
