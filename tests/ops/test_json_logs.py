"""Structured logs (issue 17): VOPIX_LOG_FORMAT=json gives one JSON object per line with time,
level, logger and the id of the webhook event or turn that caused it; the lines of one turn share
one id, another turn has another; and no line holds the credentials the run used."""

from __future__ import annotations

import asyncio
import io
import json
import logging
import os
from collections.abc import Iterator

import pytest

from tests.channels.conftest import TELEGRAM_SECRET
from tests.channels.helpers import drain, link_telegram, post_update
from tests.core.agent.conftest import collect
from tests.fakes.ai_provider import Reply
from tests.fakes.telegram_api import make_text_update
from vopix.core import log_format
from vopix.core.agent import history, runtime

pytestmark = pytest.mark.asyncio
PROVIDER_KEY = "sk-test-abcdefghijklmnop1234"  # the agent_user fixture's key


@pytest.fixture
def json_lines(monkeypatch: pytest.MonkeyPatch) -> Iterator[io.StringIO]:
    """Every log line of the test, formatted as the app formats it with VOPIX_LOG_FORMAT=json."""
    monkeypatch.setenv("VOPIX_LOG_FORMAT", "json")
    log_format.install()
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.setFormatter(log_format.JsonFormatter())
    root = logging.getLogger()
    old_level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    try:
        yield out
    finally:
        root.removeHandler(handler)
        root.setLevel(old_level)


def _parsed(out: io.StringIO, start: int = 0) -> list[dict]:
    lines = out.getvalue()[start:].splitlines()
    return [json.loads(line) for line in lines if line.strip()]


async def test_each_line_is_one_json_object_with_time_level_logger_and_id(json_lines) -> None:
    token = log_format.bind_new("req")
    try:
        logging.getLogger("vopix.test").warning("a line with %s", "an argument")
    finally:
        log_format.unbind(token)
    logging.getLogger("vopix.test").info("a line outside any request")
    first, second = _parsed(json_lines)[-2:]
    assert set(first) == {"time", "level", "logger", "message", "event_id"}
    assert first["level"] == "WARNING" and first["logger"] == "vopix.test"
    assert first["message"] == "a line with an argument"
    assert first["event_id"].startswith("req-") and first["time"].endswith("+00:00")
    assert "event_id" not in second


async def test_a_telegram_turns_lines_share_the_webhooks_event_id(
    json_lines, api, agent_user, telegram_api, fake_ai
) -> None:
    link_telegram(agent_user, 424242)
    fake_ai.script(Reply("first answer"), Reply("second answer"))
    mark = len(json_lines.getvalue())
    assert await post_update(api, make_text_update(8101, 424242, "hello")) == 200
    assert await post_update(api, make_text_update(8102, 424242, "again")) == 200
    assert await drain() == 2
    lines = _parsed(json_lines, mark)
    first_id = log_format.event_id_for("telegram", "8101")
    second_id = log_format.event_id_for("telegram", "8102")
    by_id: dict[str, list[dict]] = {}
    for line in lines:
        by_id.setdefault(line.get("event_id", ""), []).append(line)
    # The worker's lines for each update (the Bot API calls, the provider call) carry its id.
    for event_id in (first_id, second_id):
        loggers = {line["logger"] for line in by_id.get(event_id, [])}
        assert "telegram.Bot" in loggers, (event_id, sorted(by_id))
    provider_calls = [ln for ln in lines if "chat/completions" in ln["message"]]
    assert len(provider_calls) == 2
    assert {ln.get("event_id") for ln in provider_calls} == {first_id, second_id}
    # The Bot API URL holds the bot token: scrubbed in every line.
    text = json_lines.getvalue()
    assert telegram_api.token not in text and telegram_api.token.split(":")[1] not in text
    assert TELEGRAM_SECRET not in text


async def test_a_web_turn_gets_its_own_id_and_the_next_turn_another(json_lines, agent_user, fake_ai) -> None:
    fake_ai.script(Reply("one"), Reply("two"))
    conv = await asyncio.to_thread(history.create_conversation, agent_user)
    ids = []
    for text in ("first", "second"):
        mark = len(json_lines.getvalue())
        await collect(runtime.run_turn(agent_user, text, channel="web", conversation_id=conv.id))
        turn_ids = {ln.get("event_id") for ln in _parsed(json_lines, mark)}
        assert len(turn_ids) == 1, turn_ids  # every line of the turn, one id
        (turn_id,) = turn_ids
        assert turn_id and turn_id.startswith("turn-")
        ids.append(turn_id)
    assert ids[0] != ids[1]
    assert PROVIDER_KEY not in json_lines.getvalue()


async def test_two_worker_processes_forked_from_one_never_hand_out_the_same_ids() -> None:
    """Ids come from a generator seeded per process (not a system call per id): a worker forked
    from the server's main process must not repeat its parent's ids, or one grep would mix two
    requests."""
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: a second worker
        os.write(write_end, " ".join(log_format.new_id("req") for _ in range(5)).encode())
        os._exit(0)
    os.close(write_end)
    mine = {log_format.new_id("req") for _ in range(5)}
    os.waitpid(pid, 0)
    with os.fdopen(read_end) as pipe:
        theirs = set(pipe.read().split())
    assert len(theirs) == 5 and len(mine) == 5
    assert not mine & theirs
