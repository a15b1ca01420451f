"""Approving an integration write from the phone: the agent asks to create a GitHub issue from
Telegram, or to post in Slack from WhatsApp; the person gets Confirm/Cancel buttons (Telegram's
inline keyboard, WhatsApp's interactive reply buttons); Confirm makes the call at the service
exactly once and the activity log records it with the channel it was asked in; Cancel makes
no call at all."""

from __future__ import annotations

import pytest

from tests.channels.helpers import drain, link_telegram, link_whatsapp, post_update, post_whatsapp
from tests.channels.test_confirmations import CHAT, NUMBER, _question_id, _tool_rows
from tests.core.integrations.conftest import github  # noqa: F401  (fixture)
from tests.core.integrations.test_slack import slack  # noqa: F401  (fixture)
from tests.fakes.ai_provider import Reply, tool_call
from tests.fakes.github import FakeGitHub
from tests.fakes.slack import FakeSlack
from tests.fakes.telegram_api import make_text_update
from tests.fakes.whatsapp_api import make_text_webhook
from vopix.core.integrations import activity, connections
from vopix.core.kinds import MessageStatus

pytestmark = [pytest.mark.asyncio, pytest.mark.promise("P18")]

GITHUB_TOKEN = "gho_phoneconfirm0123456789abcdef"
ISSUE = {"repo": "octocat/hello", "title": "Crash on save", "body": "Saving a note crashes the app."}


def _issue_posts(github: FakeGitHub) -> int:  # noqa: F811
    return sum(1 for r in github.requests if r.method == "POST" and r.path == "/repos/octocat/hello/issues")


def _slack_posts(slack: FakeSlack) -> int:  # noqa: F811
    return sum(1 for r in slack.requests if r.path == "/api/chat.postMessage")


def _connect_github(github: FakeGitHub, user_id: int) -> None:  # noqa: F811
    github.add_token(GITHUB_TOKEN, "octocat")
    connections.save(user_id, "github", method="oauth", account="octocat", account_id="1", scopes="repo",
                     access_token=GITHUB_TOKEN)


@pytest.mark.parametrize("button", ["Confirm", "Cancel"])
async def test_telegram_buttons_answer_a_github_issue(
    api, agent_user, telegram_api, fake_ai, github, button: str  # noqa: F811
) -> None:
    _connect_github(github, agent_user)
    link_telegram(agent_user, CHAT)
    fake_ai.script(tool_call("github_create_issue", ISSUE), Reply("Press Confirm below to file it."))
    assert await post_update(api, make_text_update(1, CHAT, "File an issue about the crash on save")) == 200
    await drain()
    message_id = _question_id(telegram_api)
    question = telegram_api.message(CHAT, message_id)
    assert question["text"].startswith("Create an issue in octocat/hello: “Crash on save”?")
    [row] = _tool_rows(agent_user)
    buttons = question["reply_markup"]["inline_keyboard"][0]
    assert [(b["text"], b["callback_data"]) for b in buttons] == [
        ("Confirm", f"c:{row.id}"), ("Cancel", f"x:{row.id}"),
    ]
    assert row.status == MessageStatus.AWAITING_CONFIRMATION
    assert _issue_posts(github) == 0 and len(github.issues("octocat/hello")) == 1  # asking made no call

    press = telegram_api.press(2, CHAT, message_id, button)
    assert await post_update(api, press) == 200
    assert await post_update(api, press) == 200  # Telegram delivered the press twice
    await drain()
    edited = telegram_api.message(CHAT, message_id)
    assert "reply_markup" not in edited
    [row] = _tool_rows(agent_user)
    log, _ = activity.list_activity(agent_user, service="github")
    if button == "Confirm":
        assert _issue_posts(github) == 1
        assert [i["title"] for i in github.issues("octocat/hello")] == ["Crash on start", "Crash on save"]
        assert "\n\nDone: Created issue #2" in edited["text"]
        assert row.status == MessageStatus.COMPLETE and row.channel == "telegram"
        [entry] = log
        assert (entry.action, entry.outcome, entry.channel) == ("created issue #2 in octocat/hello", "ok",
                                                                "telegram")
        assert entry.conversation_id == row.conversation_id
    else:
        assert _issue_posts(github) == 0 and len(github.issues("octocat/hello")) == 1
        assert edited["text"].endswith("\n\nCancelled. Nothing was changed.")
        assert row.status == MessageStatus.CANCELLED and log == []
    assert len(fake_ai.requests) == 2  # answering the press did not ask the agent again


@pytest.mark.parametrize("button", ["Confirm", "Cancel"])
async def test_whatsapp_reply_buttons_answer_a_slack_post(
    api, agent_user, whatsapp_api, fake_ai, slack, button: str  # noqa: F811
) -> None:
    token = slack.add_token("xoxb-1111-2222-phoneconfirm")
    connections.save(agent_user, "slack", method="token", account="Acme", account_id=slack.team_id, scopes="",
                     access_token=token)
    link_whatsapp(agent_user, NUMBER)
    fake_ai.script(tool_call("slack_post_message", {"channel": "#general", "text": "Deploy at 5"}),
                   Reply("Tap Confirm to post it."))
    assert await post_whatsapp(api, make_text_webhook("wamid.ask9", NUMBER, "tell #general: deploy at 5")) == 200
    await drain()
    [row] = _tool_rows(agent_user)
    [prompt] = whatsapp_api.interactive_to(NUMBER)
    assert prompt["interactive"]["type"] == "button"
    assert prompt["interactive"]["body"]["text"].startswith("Post in #general: “Deploy at 5”?")
    assert [b["reply"] for b in prompt["interactive"]["action"]["buttons"]] == [
        {"id": f"confirm:{row.id}", "title": "Confirm"}, {"id": f"cancel:{row.id}", "title": "Cancel"},
    ]
    assert _slack_posts(slack) == 0

    await post_whatsapp(api, whatsapp_api.press(NUMBER, button, message_id="wamid.tap9"))
    await post_whatsapp(api, whatsapp_api.press(NUMBER, button, message_id="wamid.tap10"))  # a second tap
    await drain()
    [row] = _tool_rows(agent_user)
    log, _ = activity.list_activity(agent_user, service="slack")
    first, second = whatsapp_api.texts_to(NUMBER)[-2:]
    if button == "Confirm":
        assert _slack_posts(slack) == 1 and [p["text"] for p in slack.posted] == ["Deploy at 5"]
        assert first.startswith("Done: Posted in #general")
        assert second.startswith("This was already answered. Done: Posted in #general")
        assert row.status == MessageStatus.COMPLETE and row.channel == "whatsapp"
        [entry] = log
        assert (entry.action, entry.outcome, entry.channel) == ("posted in #general", "ok", "whatsapp")
        assert entry.conversation_id == row.conversation_id
    else:
        assert _slack_posts(slack) == 0 and slack.posted == []
        assert first == "Cancelled. Nothing was changed."
        assert row.status == MessageStatus.CANCELLED and log == []
    assert len(fake_ai.requests) == 2
