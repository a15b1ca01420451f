"""Confirming an action from the phone: a destructive tool call asked on Telegram or WhatsApp
waits, its question comes with Confirm/Cancel buttons, and a press answers it for the linked
person only, once, with the outcome in the chat and in the web history."""

from __future__ import annotations

import copy

import pytest

from tests.channels.helpers import (
    drain,
    inbound_events,
    link_telegram,
    link_whatsapp,
    post_update,
    post_whatsapp,
)
from tests.core.agent.conftest import add_tool  # noqa: F401
from tests.fakes.ai_provider import Reply, tool_call
from tests.fakes.telegram_api import make_callback_query, make_text_update
from tests.fakes.whatsapp_api import make_button_reply_webhook, make_text_webhook
from vopix.channels import confirmations, queue, telegram
from vopix.channels.errors import MalformedPayload
from vopix.channels.telegram_protocol import confirm_callback_data, parse_confirm_callback, parse_update
from vopix.channels.whatsapp_buttons import build_button_message, confirm_button_id, parse_confirm_button
from vopix.channels.whatsapp_protocol import parse_webhook
from vopix.core.agent import history, runtime
from vopix.core.agent.tools import Tool
from vopix.core.kinds import MessageStatus
from vopix.core.workspace import store
from vopix.state.chat_rows import message_row

CHAT = 600_100_200
NUMBER = "15557654321"


def _tool_rows(user_id: int) -> list[history.MessageView]:
    [conv] = history.list_conversations(user_id)
    page, _ = history.messages_page(user_id, conv.id)
    return [m for m in page if m.role == "tool"]


async def _ask_on_telegram(api, user_id: int, telegram_api, fake_ai, update_id: int = 1) -> int:
    """The person asks on Telegram to delete README.md; returns the question's message id."""
    store.write_text(user_id, "README.md", "# My notes\n")
    fake_ai.script(
        tool_call("delete_file", {"path": "README.md"}),
        Reply("I need your OK first: press Confirm below."),
    )
    assert await post_update(api, make_text_update(update_id, CHAT, "Please delete the readme")) == 200
    await drain()
    return _question_id(telegram_api)


def _question_id(telegram_api, chat: int = CHAT) -> int:
    """The bot's last message in the chat that shows buttons."""
    *_, question = [m for m in telegram_api.messages_in(chat) if telegram_api.buttons(m)]
    return question["message_id"]


@pytest.mark.asyncio
async def test_telegram_confirm_deletes_the_file_and_the_web_history_shows_done(
    api, agent_user, telegram_api, fake_ai
) -> None:
    link_telegram(agent_user, CHAT)
    message_id = await _ask_on_telegram(api, agent_user, telegram_api, fake_ai)
    reply, question = telegram_api.sent_messages[-2:]
    assert reply["text"] == "I need your OK first: press Confirm below."
    # The model was told the call waits for the person's answer on the phone.
    assert "Confirm and Cancel buttons" in fake_ai.requests[-1].body["messages"][-1]["content"]
    [row] = _tool_rows(agent_user)
    assert row.status == MessageStatus.AWAITING_CONFIRMATION and store.exists(agent_user, "README.md")
    # The question as a person would read it, with two buttons whose data stays under 64 bytes.
    assert question["text"] == "Delete README.md?" and "parse_mode" not in question
    buttons = question["reply_markup"]["inline_keyboard"][0]
    assert [(b["text"], b["callback_data"]) for b in buttons] == [
        ("Confirm", f"c:{row.id}"), ("Cancel", f"x:{row.id}"),
    ]
    assert telegram_api.message(CHAT, message_id)["text"] == "Delete README.md?"

    press = telegram_api.press(2, CHAT, message_id, "Confirm")
    assert await post_update(api, press) == 200
    assert await drain() == 1
    # The spinner stopped, the file is gone, the question's message shows the outcome and no
    # buttons any more.
    assert list(telegram_api.answered_queries) == [press["callback_query"]["id"]]
    assert not store.exists(agent_user, "README.md")
    edited = telegram_api.message(CHAT, message_id)
    assert edited["text"].startswith("Delete README.md?\n\nDone: Deleted README.md (1 file")
    assert "reply_markup" not in edited
    # The web chat reads the same row: Done, with what came of it.
    [row] = _tool_rows(agent_user)
    assert row.status == MessageStatus.COMPLETE and row.channel == "telegram"
    web = message_row(row, "UTC")
    assert (web["tool_title"], web["tool_state"]) == ("Delete README.md", "Done")
    assert web["tool_result"].startswith("Deleted README.md")
    assert len(fake_ai.requests) == 2  # answering the press did not ask the agent again
    assert [e.outcome for e in inbound_events()] == ["answered", "confirmed"]


@pytest.mark.asyncio
async def test_telegram_cancel_changes_nothing(api, agent_user, telegram_api, fake_ai) -> None:
    link_telegram(agent_user, CHAT)
    message_id = await _ask_on_telegram(api, agent_user, telegram_api, fake_ai)
    await post_update(api, telegram_api.press(2, CHAT, message_id, "Cancel"))
    await drain()
    assert store.exists(agent_user, "README.md")
    edited = telegram_api.message(CHAT, message_id)
    assert edited["text"] == "Delete README.md?\n\nCancelled. Nothing was changed."
    assert "reply_markup" not in edited
    [row] = _tool_rows(agent_user)
    assert row.status == MessageStatus.CANCELLED
    assert message_row(row, "UTC")["tool_state"] == "Cancelled"


@pytest.mark.parametrize("button", ["Confirm", "Cancel"])
@pytest.mark.asyncio
async def test_whatsapp_reply_buttons_confirm_or_cancel(
    api, agent_user, whatsapp_api, fake_ai, button: str
) -> None:
    link_whatsapp(agent_user, NUMBER)
    store.write_text(agent_user, "README.md", "# My notes\n")
    fake_ai.script(tool_call("delete_file", {"path": "README.md"}), Reply("Tap Confirm below to go ahead."))
    assert await post_whatsapp(api, make_text_webhook("wamid.ask1", NUMBER, "delete the readme")) == 200
    await drain()
    assert whatsapp_api.texts_to(NUMBER) == ["Tap Confirm below to go ahead."]
    [row] = _tool_rows(agent_user)
    [prompt] = whatsapp_api.interactive_to(NUMBER)
    assert prompt["interactive"]["type"] == "button"
    assert prompt["interactive"]["body"] == {"text": "Delete README.md?"}
    assert [b["reply"] for b in prompt["interactive"]["action"]["buttons"]] == [
        {"id": f"confirm:{row.id}", "title": "Confirm"}, {"id": f"cancel:{row.id}", "title": "Cancel"},
    ]
    assert store.exists(agent_user, "README.md")

    tap = whatsapp_api.press(NUMBER, button, message_id="wamid.tap1")
    assert await post_whatsapp(api, tap) == 200
    await drain()
    assert "wamid.tap1" in whatsapp_api.read_receipts
    *_, outcome = whatsapp_api.texts_to(NUMBER)
    [row] = _tool_rows(agent_user)
    if button == "Confirm":
        assert outcome.startswith("Done: Deleted README.md (1 file")
        assert not store.exists(agent_user, "README.md") and row.status == MessageStatus.COMPLETE
    else:
        assert outcome == "Cancelled. Nothing was changed."
        assert store.exists(agent_user, "README.md") and row.status == MessageStatus.CANCELLED
    assert len(fake_ai.requests) == 2
    assert len(whatsapp_api.interactive_to(NUMBER)) == 1


@pytest.mark.asyncio
async def test_a_press_from_an_unlinked_chat_changes_nothing(
    api, agent_user, telegram_api, whatsapp_api, fake_ai
) -> None:
    link_telegram(agent_user, CHAT)
    await _ask_on_telegram(api, agent_user, telegram_api, fake_ai)
    [row] = _tool_rows(agent_user)
    stranger = 777_000_111
    forged = make_callback_query(5, stranger, f"c:{row.id}", user_id=stranger)
    telegram_api.issue_callback(forged)
    await post_update(api, forged)
    await drain()
    assert forged["callback_query"]["id"] in telegram_api.answered_queries  # no spinning button
    assert telegram_api.sent_messages[-1]["chat_id"] == stranger
    assert telegram_api.sent_messages[-1]["text"] == (
        "This chat is not linked to a VOPIX account, so nothing was done."
    )
    # WhatsApp: a number linked to nobody.
    await post_whatsapp(api, make_button_reply_webhook("wamid.x1", "15550001111", f"confirm:{row.id}", "Confirm"))
    await drain()
    assert whatsapp_api.texts_to("15550001111") == [
        "This number is not linked to a VOPIX account, so nothing was done."
    ]
    [row] = _tool_rows(agent_user)
    assert row.status == MessageStatus.AWAITING_CONFIRMATION and store.exists(agent_user, "README.md")
    assert telegram_api.calls_to("editMessageText") == []


@pytest.mark.asyncio
async def test_a_press_naming_another_persons_call_changes_nothing(
    api, agent_user, make_user, telegram_api, whatsapp_api, fake_ai
) -> None:
    link_telegram(agent_user, CHAT)
    await _ask_on_telegram(api, agent_user, telegram_api, fake_ai)
    [row] = _tool_rows(agent_user)
    mallory, _, _ = make_user()
    other_chat = 800_800_800
    link_telegram(mallory, other_chat)
    forged = make_callback_query(6, other_chat, f"c:{row.id}", user_id=other_chat, message_id=99)
    telegram_api.issue_callback(forged)
    await post_update(api, forged)
    link_whatsapp(mallory, NUMBER)
    await post_whatsapp(api, make_button_reply_webhook("wamid.m1", NUMBER, f"confirm:{row.id}", "Confirm"))
    await drain()
    refusal = "That button does not belong to anything waiting for you. Nothing was done."
    assert telegram_api.sent_messages[-1] == {"chat_id": other_chat, "text": refusal}
    assert whatsapp_api.texts_to(NUMBER) == [refusal]
    assert forged["callback_query"]["id"] in telegram_api.answered_queries
    [row] = _tool_rows(agent_user)
    assert row.status == MessageStatus.AWAITING_CONFIRMATION and store.exists(agent_user, "README.md")
    assert history.list_conversations(mallory) == []  # nothing was written for Mallory either


@pytest.mark.asyncio
async def test_a_press_after_the_web_confirmed_or_a_second_press_says_already_answered(
    api, agent_user, telegram_api, fake_ai
) -> None:
    link_telegram(agent_user, CHAT)
    message_id = await _ask_on_telegram(api, agent_user, telegram_api, fake_ai)
    [row] = _tool_rows(agent_user)
    await runtime.confirm_tool_call(agent_user, row.id, True)  # the web tab got there first
    assert not store.exists(agent_user, "README.md")
    first = telegram_api.press(2, CHAT, message_id, "Cancel")
    await post_update(api, first)
    await drain()
    assert telegram_api.answered_queries[first["callback_query"]["id"]]["text"] == "This was already answered."
    edited = telegram_api.message(CHAT, message_id)
    assert edited["text"].startswith("Delete README.md?\n\nThis was already answered. Done: Deleted README.md")
    assert "reply_markup" not in edited
    # A second press from a chat that still showed the buttons (a slow client).
    again = copy.deepcopy(first)
    again["update_id"], again["callback_query"]["id"] = 3, "9000000000000000001"
    telegram_api.issue_callback(again)
    await post_update(api, again)
    await drain()
    assert telegram_api.answered_queries["9000000000000000001"]["text"] == "This was already answered."
    [row] = _tool_rows(agent_user)
    assert row.status == MessageStatus.COMPLETE  # still the web's answer: nothing ran again
    assert [e.outcome for e in inbound_events()][-2:] == ["press_answered", "press_answered"]


@pytest.mark.asyncio
async def test_a_second_whatsapp_tap_says_already_answered(api, agent_user, whatsapp_api, fake_ai) -> None:
    link_whatsapp(agent_user, NUMBER)
    store.write_text(agent_user, "README.md", "# My notes\n")
    fake_ai.script(tool_call("delete_file", {"path": "README.md"}), Reply("Tap Confirm."))
    await post_whatsapp(api, make_text_webhook("wamid.ask2", NUMBER, "delete the readme"))
    await drain()
    await post_whatsapp(api, whatsapp_api.press(NUMBER, "Confirm", message_id="wamid.t1"))
    await post_whatsapp(api, whatsapp_api.press(NUMBER, "Confirm", message_id="wamid.t2"))
    await drain()
    done, already = whatsapp_api.texts_to(NUMBER)[-2:]
    assert done.startswith("Done: Deleted README.md")
    assert already.startswith("This was already answered. Done: Deleted README.md")


@pytest.mark.asyncio
async def test_a_repeated_callback_delivery_is_handled_once(api, agent_user, telegram_api, fake_ai, add_tool) -> None:  # noqa: F811
    runs: list[int] = []
    add_tool(Tool("wipe_notes", "Wipe the notes", {"type": "object", "properties": {}},
                  lambda ctx, args: runs.append(1) or "Wiped the notes.", needs_confirmation=True,
                  describe=lambda args: "Wipe the notes"))
    link_telegram(agent_user, CHAT)
    fake_ai.script(tool_call("wipe_notes", {}), Reply("Confirm below."))
    await post_update(api, make_text_update(1, CHAT, "wipe my notes"))
    await drain()
    message_id = _question_id(telegram_api)
    assert telegram_api.message(CHAT, message_id)["text"] == "Wipe the notes?"
    press = telegram_api.press(2, CHAT, message_id, "Confirm")
    assert await post_update(api, press) == 200
    assert await post_update(api, press) == 200  # Telegram retried the delivery
    await drain()
    assert await post_update(api, press) == 200  # and again, after it was handled
    await drain()
    assert runs == [1]
    assert len(inbound_events()) == 2  # the question's turn and one press
    assert len(telegram_api.calls_to("answerCallbackQuery")) == 1
    assert len(telegram_api.calls_to("editMessageText")) == 1
    assert telegram_api.message(CHAT, message_id)["text"] == "Wipe the notes?\n\nDone: Wiped the notes."


@pytest.mark.asyncio
async def test_a_crash_after_the_action_ran_reports_its_outcome_once_on_restart(
    api, agent_user, telegram_api, fake_ai, add_tool, monkeypatch  # noqa: F811
) -> None:
    runs: list[int] = []
    add_tool(Tool("wipe_notes", "Wipe the notes", {"type": "object", "properties": {}},
                  lambda ctx, args: runs.append(1) or "Wiped the notes.", needs_confirmation=True,
                  describe=lambda args: "Wipe the notes"))
    link_telegram(agent_user, CHAT)
    fake_ai.script(tool_call("wipe_notes", {}), Reply("Confirm below."))
    await post_update(api, make_text_update(1, CHAT, "wipe my notes"))
    await drain()
    message_id = _question_id(telegram_api)
    original = queue.queue_reply
    crashed: list[int] = []

    def crash_once(*args, **kwargs):
        if not crashed:
            crashed.append(1)
            raise RuntimeError("power cut")  # the action ran; its outcome was not yet queued
        return original(*args, **kwargs)

    monkeypatch.setattr(queue, "queue_reply", crash_once)
    monkeypatch.setattr(queue, "RETRY_BACKOFF", (0.0, 0.0, 0.0, 0.0))
    await post_update(api, telegram_api.press(2, CHAT, message_id, "Confirm"))
    await drain()  # the first attempt dies, the retry resumes from the recorded stage
    assert crashed and runs == [1]
    # The press's own outcome, not "already answered" (the call ran for this very press).
    assert telegram_api.message(CHAT, message_id)["text"] == "Wipe the notes?\n\nDone: Wiped the notes."
    assert len(telegram_api.calls_to("answerCallbackQuery")) == 1
    [*_, event] = inbound_events()
    assert (event.status, event.outcome, event.attempts) == ("done", "confirmed", 2)


@pytest.mark.asyncio
async def test_a_press_in_a_group_only_stops_the_spinner(api, agent_user, telegram_api) -> None:
    link_telegram(agent_user, CHAT)
    group = {"message_id": 4, "chat": {"id": -100200300, "type": "group", "title": "Team"},
             "date": 1_700_000_000, "text": "Delete README.md?"}
    press = make_callback_query(9, -100200300, "c:1", message=group)
    telegram_api.issue_callback(press)
    await post_update(api, press)
    await drain()
    assert press["callback_query"]["id"] in telegram_api.answered_queries
    assert telegram_api.sent_messages == [] and inbound_events()[-1].outcome == "ignored"


# --------------------------------------------------------------------------- wire formats


def test_python_telegram_bot_parses_a_callback_query() -> None:
    update = make_callback_query(41, CHAT, "c:12", message_id=7, query_id="4382bfdwdsb323b2d9", username="ada")
    press = parse_update(update, None)
    assert press is not None
    assert (press.kind, press.update_id, press.chat_id, press.chat_type) == ("callback", 41, CHAT, "private")
    assert (press.callback_id, press.callback_data, press.message_id) == ("4382bfdwdsb323b2d9", "c:12", 7)
    assert (press.user_id, press.username) == (111_222_333, "ada")
    assert parse_confirm_callback(press.callback_data) == (12, True)
    # Without its message (inline mode), the chat is the presser's own private chat.
    bare = copy.deepcopy(update)
    del bare["callback_query"]["message"]
    parsed = parse_update(bare, None)
    assert parsed is not None and (parsed.chat_id, parsed.message_id) == (111_222_333, 0)
    # A press is stored like a message: deduplicated on its update_id.
    event = telegram.new_event(update)
    assert event is not None and event.external_id == "41"


@pytest.mark.parametrize("breakage", ["no_id", "data_not_text", "no_sender", "chat_not_object"])
def test_malformed_callback_queries_are_refused(breakage: str) -> None:
    update = make_callback_query(42, CHAT, "c:12")
    query = update["callback_query"]
    if breakage == "no_id":
        del query["id"]
    elif breakage == "data_not_text":
        query["data"] = {"c": 12}
    elif breakage == "no_sender":
        del query["from"]
    else:
        query["message"]["chat"] = "private"
    with pytest.raises(MalformedPayload):
        parse_update(update, None)


def test_confirm_callback_data_and_button_ids() -> None:
    biggest = 10**18
    assert confirm_callback_data(12, True) == "c:12" and confirm_callback_data(12, False) == "x:12"
    assert len(confirm_callback_data(biggest, False).encode()) <= 64
    assert parse_confirm_callback(confirm_callback_data(biggest, False)) == (biggest, False)
    assert confirm_button_id(12, True) == "confirm:12" and parse_confirm_button("cancel:12") == (12, False)
    for junk in ["", "c:", "c:0", "c:-1", "c:12 ", "y:12", "c:1e3", None, 12, "c:" + "9" * 30]:
        assert parse_confirm_callback(junk) is None
    for junk in ["", "confirm:", "confirm:abc", "Confirm", "ok:12", None]:
        assert parse_confirm_button(junk) is None
    with pytest.raises(ValueError):
        confirm_callback_data(0, True)


def test_whatsapp_button_reply_is_parsed_from_the_cloud_api_shape() -> None:
    body = make_button_reply_webhook("wamid.tap", NUMBER, "confirm:12", "Confirm", context_id="wamid.q")
    [tap] = parse_webhook(body).messages
    assert (tap.type, tap.text, tap.button_id, tap.reply_to_id) == ("interactive", "Confirm", "confirm:12", "wamid.q")
    broken = copy.deepcopy(body)
    broken["entry"][0]["changes"][0]["value"]["messages"][0]["interactive"]["button_reply"] = {"title": "Confirm"}
    with pytest.raises(MalformedPayload):
        parse_webhook(broken)


def test_whatsapp_button_message_limits() -> None:
    message = build_button_message(NUMBER, "Delete README.md?", [("confirm:1", "Confirm"), ("cancel:1", "Cancel")])
    assert message["type"] == "interactive" and message["interactive"]["type"] == "button"
    for text, buttons in [
        ("", [("a", "A")]),
        ("x" * 1025, [("a", "A")]),
        ("ok", []),
        ("ok", [("a", "A"), ("b", "B"), ("c", "C"), ("d", "D")]),
        ("ok", [("a", "x" * 21)]),
    ]:
        with pytest.raises(ValueError):
            build_button_message(NUMBER, text, buttons)
    # The question never outgrows WhatsApp's body limit, however long the arguments.
    assert len(confirmations.question("delete_file", {"path": "a/" * 2000})) <= 1024
