"""Issue 8, defect 2, end to end: a second browser that plants the first person's Reflex
client token while the first person's reply is streaming gets nothing of that person (no
reply text, conversation title, notice or email), on the screen or on its socket."""

from __future__ import annotations

import json
import secrets
import time

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import AT_HOME, AT_LOGIN, log_in, sign_up
from tests.browser.test_chat import _point_agent_at, provider  # noqa: F401 - the fixture
from tests.fakes.ai_provider import Reply

PASSWORD = "purple-otter-42-sings"
# Every word carries the marker, so any piece of the reply a socket frame holds names A.
WORDS = 60
CHUNKS, DELAY = 40, 0.2  # ~8 s of streaming: time to plant the token twice mid-stream

RECORD_TEXTS = (
    "window.__seen = [];"
    "new MutationObserver(() => window.__seen.push(document.body ? document.body.innerText : ''))"
    ".observe(document, {childList: true, subtree: true, characterData: true});"
)


def _plant(page: Page, token: str) -> list[str]:
    """Before the page's scripts run, put `token` in its sessionStorage (where Reflex keeps
    the tab's client token), once; record every socket frame the page receives."""
    page.add_init_script(
        "if (!window.sessionStorage.getItem('__planted')) {"
        " window.sessionStorage.setItem('__planted', '1');"
        f" window.sessionStorage.setItem('token', {json.dumps(token)}); }}" + RECORD_TEXTS
    )
    frames: list[str] = []

    def on_socket(ws) -> None:
        ws.on("framereceived", lambda payload: frames.append(str(payload)))

    page.on("websocket", on_socket)
    return frames


def _everything_seen(page: Page, frames: list[str]) -> str:
    return "\n".join(frames) + "\n" + "\n".join(page.evaluate("window.__seen || []"))


def _stored_reply(user_id: int) -> str | None:
    from vopix.core.agent import history

    convs = history.list_conversations(user_id)
    if not convs:
        return None
    page, _ = history.messages_page(user_id, convs[0].id)
    replies = [m.content for m in page if m.role == "assistant"]
    return replies[-1] if replies else None


@pytest.mark.parametrize("second", ["another person", "nobody"])
def test_a_client_token_copied_mid_stream_shows_the_second_browser_nothing_of_the_first(
    browser, app_url: str, provider, second: str  # noqa: F811 - the fixture
) -> None:
    from vopix.core import accounts, usage

    mark = secrets.token_hex(4)
    email_a, email_b = f"owner-{mark}@example.com", f"other-{secrets.token_hex(4)}@example.com"
    question = f"Tell me about heron {mark}"
    reply = " ".join(f"q{mark}w{i}" for i in range(WORDS))
    notice = f"A new sign-in to your account {mark}."
    ctx_a = browser.new_context(base_url=app_url)
    ctx_b = browser.new_context(base_url=app_url)
    ctx_again = browser.new_context(base_url=app_url)
    for ctx in (ctx_a, ctx_b, ctx_again):
        ctx.set_default_timeout(15_000)
    try:
        if second == "another person":
            sign_up(ctx_b.new_page(), email_b, PASSWORD)
        page_a = ctx_a.new_page()
        sign_up(page_a, email_a, PASSWORD)
        _point_agent_at(page_a, provider)
        a_id = accounts.find_user_id(email_a)
        assert a_id is not None
        page_a.goto("/chat")
        provider.script(Reply(reply, chunks=CHUNKS, delay=DELAY))
        page_a.get_by_label("Message", exact=True).fill(question)
        page_a.get_by_role("button", name="Send").click()
        log_a = page_a.get_by_role("log", name="Messages")
        expect(log_a).to_contain_text(f"q{mark}w0")  # the reply is streaming
        usage.add_notice(a_id, f"security:test:{mark}", notice)  # an unread notice for A
        token = page_a.evaluate("window.sessionStorage.getItem('token')")
        assert token

        # 1. A's tab still open: the copy opens /chat in B's browser (Reflex gives a token
        # already open in a live tab a fresh one, so this copy should never reach A's state).
        while_open = ctx_b.new_page()
        frames_open = _plant(while_open, token)
        while_open.goto("/chat")
        if second == "nobody":
            while_open.wait_for_url(AT_LOGIN)
        else:
            expect(while_open.get_by_role("navigation", name="Main")).to_contain_text(email_b)

        # 2. A closes the tab mid-stream (its socket goes); the copy opens /chat again.
        page_a.close()
        time.sleep(0.5)  # let the server drop A's socket, so the token is free to take
        after_close = ctx_b.new_page()
        frames_closed = _plant(after_close, token)
        after_close.goto("/chat")
        if second == "nobody":
            after_close.wait_for_url(AT_LOGIN)
        else:
            expect(after_close.get_by_role("navigation", name="Main")).to_contain_text(email_b)
        # The attack really reached A's state: Reflex kept the planted token for this tab
        # (it was free), and A's reply was still streaming when the copy connected.
        assert after_close.evaluate("window.sessionStorage.getItem('token')") == token
        assert _stored_reply(a_id) is None

        deadline = time.monotonic() + 20
        while _stored_reply(a_id) != reply and time.monotonic() < deadline:
            time.sleep(0.2)
        assert _stored_reply(a_id) == reply  # A's turn finished and was kept in full
        after_close.wait_for_timeout(1000)  # the turn's last writes would have arrived by now

        for page, frames in ((while_open, frames_open), (after_close, frames_closed)):
            seen = _everything_seen(page, frames)
            assert frames, "the page's socket frames were not recorded"
            for secret in (mark, email_a, notice):
                assert secret not in seen, f"B received {secret!r}: {seen[seen.find(secret) - 200:][:600]}"

        # B still acts as B (no provider, unlike A) or as nobody.
        if second == "nobody":
            expect(after_close).to_have_url(AT_LOGIN)
        else:
            expect(after_close.get_by_role("list", name="Conversations").get_by_role("button")).to_have_count(0)
            after_close.get_by_label("Message", exact=True).fill("hello?")
            after_close.get_by_role("button", name="Send").click()
            expect(after_close.get_by_role("note")).to_contain_text("No AI provider is set up")
            assert mark not in _everything_seen(after_close, frames_closed)

        # A, logging in again, finds the whole reply in the conversation.
        again = ctx_again.new_page()
        log_in(again, email_a, PASSWORD)
        again.wait_for_url(AT_HOME)
        again.goto("/chat")
        again.get_by_role("list", name="Conversations").get_by_role("button", name=question).click()
        log = again.get_by_role("log", name="Messages")
        expect(log).to_contain_text(question)
        expect(log).to_contain_text(reply)
        expect(again.get_by_role("status").filter(has_text=notice)).to_be_visible()
    finally:
        for ctx in (ctx_a, ctx_b, ctx_again):
            ctx.close()
