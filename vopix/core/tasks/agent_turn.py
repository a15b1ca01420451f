"""An agent task's turn: the prompt run as a turn of the person's agent, its lease kept while
the turn lasts."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING

from vopix.core import usage
from vopix.core.agent import history
from vopix.core.kinds import TurnEventKind
from vopix.core.tasks import claim as claims
from vopix.core.tasks.runs import CHANNEL, Run, clock, conversation, prompt_recorder

if TYPE_CHECKING:
    from vopix.core.agent.runtime import TurnEvent


async def agent_answer(due: claims.Due, run: Run, note: str, worker_id: str) -> tuple[int, str, str]:
    """Run the prompt as a turn of the person's agent (their tools and integrations, counted
    against their quotas like any turn, checked first). (message id, text, outcome)."""
    conversation_id = await asyncio.to_thread(conversation, due)
    try:
        if run.prompt_id is None:  # (a retry: the prompt was admitted already)
            await asyncio.to_thread(usage.check_quota, due.user_id)
    except usage.QuotaExceeded as exc:
        text = f"Your task \u201c{due.title}\u201d did not run: {exc}"
        msg = await asyncio.to_thread(
            history.add_message, due.user_id, conversation_id, "notice", text, channel=CHANNEL)
        return msg.id, text, "refused"
    parts: list[str] = []
    last_id: int | None = None
    failed = False

    async def keep_lease() -> None:
        while True:
            await asyncio.sleep(claims.LEASE.total_seconds() / 3)
            await asyncio.to_thread(claims.renew, due.task_id, worker_id, clock())

    keeper = asyncio.create_task(keep_lease())
    try:
        async for event in _turn(due, run, conversation_id):
            if event.kind == TurnEventKind.TEXT:
                parts.append(event.text)
            elif event.kind in (TurnEventKind.DONE, TurnEventKind.ERROR, TurnEventKind.TOOL_RESULT):
                if event.kind == TurnEventKind.ERROR:
                    failed = True
                    parts.append(f"\n\n{event.text}")
                elif event.kind == TurnEventKind.TOOL_RESULT:
                    parts.append("\n\n")
                if event.message_id and event.kind != TurnEventKind.TOOL_RESULT:
                    last_id = event.message_id
    finally:
        keeper.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await keeper
    answer = "".join(parts).strip() or "(The agent gave no answer.)"
    text = f"{due.title}\n\n{answer}{note}"
    if last_id is None:
        last_id = (await asyncio.to_thread(
            history.add_message, due.user_id, conversation_id, "notice", answer, channel=CHANNEL)).id
    return last_id, text, "failed" if failed else "delivered"


async def _turn(due: claims.Due, run: Run, conversation_id: int) -> AsyncIterator[TurnEvent]:
    """The prompt stored (with its id on the run, in one transaction) and answered; or, when a
    crashed attempt stored it already, answered again from there: what that attempt left after
    it is deleted, and it is not counted a second time. Stored, then deleted by the person
    meanwhile: stored afresh."""
    from vopix.core.agent import message_actions, runtime

    if run.prompt_id is not None:
        rewind = message_actions.answer_again_rewind(due.user_id, conversation_id, run.prompt_id)
        try:
            async for event in runtime.respond(due.user_id, conversation_id, channel=CHANNEL,
                                               rewind=rewind, admitted=True):
                yield event
            return
        except history.NotFound:
            pass
    async for event in runtime.run_turn(due.user_id, due.text, channel=CHANNEL,
                                        conversation_id=conversation_id,
                                        on_stored=prompt_recorder(run.id)):
        yield event
