"""Ask the agent for a reminder in two minutes: the tool call creates it, /tasks shows it with
its next run, the reminder arrives in the web chat, and its run's "Open message" opens the chat
at it. The task workers' clock is moved forward through the server's clock file instead of
waiting two real minutes."""

from __future__ import annotations

import re
import secrets

from playwright.sync_api import expect

from tests.browser.conftest import TASK_CLOCK_FILE, point_agent_at, sign_up
from tests.fakes.ai_provider import Reply, tool_call


def test_a_reminder_asked_for_in_the_chat_is_listed_and_then_arrives(page, provider) -> None:
    TASK_CLOCK_FILE.write_text("0")
    try:
        sign_up(page, f"tasks-{secrets.token_hex(4)}@example.com")
        point_agent_at(page, provider)
        provider.script(
            tool_call("create_task", {"kind": "reminder", "text": "stretch your legs", "in_minutes": 2}),
            Reply("Done: I will remind you in two minutes."),
        )
        page.goto("/chat")
        page.get_by_label("Message", exact=True).fill("Remind me in two minutes to stretch my legs")
        page.get_by_role("button", name="Send").click()
        log = page.get_by_role("log", name="Messages")
        expect(log).to_contain_text("I will remind you in two minutes.")

        page.get_by_role("navigation", name="Main").get_by_role("link", name="Tasks").click()
        expect(page).to_have_title("Tasks · VOPIX")
        task = page.get_by_role("article", name="stretch your legs")
        expect(task).to_contain_text("Reminder")
        expect(task).to_contain_text(re.compile(r"Once, on \w{3} \d+ \w{3} \d{4} at \d\d:\d\d"))
        expect(task.get_by_role("listitem").first).to_have_text(re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d UTC"))
        expect(task).to_contain_text("Web chat")

        TASK_CLOCK_FILE.write_text("180")  # the workers' clock: three minutes on
        expect(task).to_contain_text("Delivered", timeout=30_000)  # shown live: the run's end is a notice
        # "Open message": the chat, at the delivered message, marked as a search hit is.
        task.get_by_role("button", name="Open the delivered message in the chat").click()
        expect(page).to_have_url(re.compile(r"/chat\?c=\d+&m=\d+$"))
        delivered = log.get_by_role("article").filter(has_text="\u23f0 Reminder: stretch your legs")
        expect(delivered).to_be_in_viewport()
        expect(delivered).to_have_class(re.compile(r"\bvx-msg-hit\b"))
        page.goto("/chat")
        conversations = page.get_by_role("list", name="Conversations", exact=True)
        conversations.get_by_role("button", name="Task: stretch your legs").click()
        expect(log).to_contain_text("\u23f0 Reminder: stretch your legs")
        expect(log).to_contain_text("task")  # marked as coming from a task
    finally:
        TASK_CLOCK_FILE.unlink(missing_ok=True)
