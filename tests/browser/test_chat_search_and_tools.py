"""Issue 14, bugs 4 and 6 in the browser: a search hit shows its match marked and opens the
conversation at that message; a tool call reads as a person would describe it."""

from __future__ import annotations

import secrets

from playwright.sync_api import expect

from tests.browser.conftest import point_agent_at, sign_up
from tests.fakes.ai_provider import Reply, tool_call

LONG_BEFORE = " ".join(f"before{i}" for i in range(40))


def _seed_long_conversation(email: str) -> None:
    """'Deep talk': 300 messages, the one about the zebra crossing 40th, deep in a long text;
    'Zoo' mentions a zebra once, later, in a longer text."""
    from sqlalchemy import insert

    from vopix.core import accounts
    from vopix.core.agent import history
    from vopix.core.clock import utcnow
    from vopix.db import session_scope
    from vopix.models import Message

    user_id = accounts.find_user_id(email)
    deep = history.create_conversation(user_id, "Deep talk").id
    rows = [f"line {i}" for i in range(300)]
    rows[40] = f"{LONG_BEFORE} the <b>zebra</b> zebra crossing by the school"
    with session_scope() as s:
        s.execute(insert(Message), [
            {"conversation_id": deep, "user_id": user_id, "role": "user", "content": text,
             "channel": "web", "status": "complete", "created_at": utcnow()}
            for text in rows
        ])
    zoo = history.create_conversation(user_id, "Zoo").id
    animals = " ".join(f"animal{i}" for i in range(80))
    history.add_message(user_id, zoo, "user", f"we saw one zebra at the zoo last summer, and {animals}")


def test_a_search_hit_shows_its_match_marked_and_opens_at_the_message(page) -> None:
    email = f"search-{secrets.token_hex(4)}@example.com"
    sign_up(page, email)
    _seed_long_conversation(email)
    page.goto("/chat")
    page.get_by_role("search", name="Search messages").get_by_label("Search messages").fill("zebra")
    page.get_by_role("button", name="Search", exact=True).click()
    results = page.get_by_role("list", name="Search results")
    hits = results.get_by_role("button")
    expect(hits).to_have_count(2)
    first = hits.first
    # The most relevant first (twice "zebra"), though the zoo message is newer.
    expect(first).to_contain_text("Deep talk")
    # Marked with <mark> elements, inside the visible snippet; no brackets; the message's
    # markup shown as text, not turned into elements.
    marks = first.locator("mark")
    expect(marks).to_have_text(["zebra", "zebra"])
    expect(first).to_contain_text("<b>zebra</b> zebra crossing")
    assert "[" not in first.inner_text()
    assert results.locator("b").count() == 0
    box, mark = first.bounding_box(), marks.first.bounding_box()
    assert box and mark and box["x"] <= mark["x"] and mark["x"] + mark["width"] <= box["x"] + box["width"] + 1
    assert mark["y"] + mark["height"] <= box["y"] + box["height"] + 1

    first.click()
    log = page.get_by_role("log", name="Messages")
    hit = log.get_by_role("article").filter(has_text="zebra crossing")
    expect(hit).to_be_in_viewport()
    expect(log).to_contain_text("line 39")
    expect(log).not_to_contain_text("line 299")  # the page around the hit, not the latest

    # From there the person scrolls (or presses the buttons) both ways.
    page.get_by_role("button", name="Load newer messages").click()
    expect(log).to_contain_text("line 100")
    log.evaluate("l => { l.scrollTop = 0; }")
    expect(log).to_contain_text("line 0")
    expect(hit).to_have_count(1)
    expect(hit).not_to_be_in_viewport()
    first.click()  # the same hit again brings the message back into view
    expect(hit).to_be_in_viewport()
    # "Jump to latest" leaves the hit's page for the latest one.
    page.get_by_role("button", name="Jump to latest").click()
    expect(log).to_contain_text("line 299")
    expect(page.get_by_role("button", name="Load newer messages")).to_have_count(0)


def _ask(page, text: str, calls, count: int):
    """Send `text`; the reply makes the `count`th tool call of the conversation: return it."""
    page.get_by_label("Message", exact=True).fill(text)
    page.get_by_role("button", name="Send").click()
    expect(calls).to_have_count(count)
    expect(page.get_by_role("button", name="Send")).to_be_visible()  # the turn is over
    return calls.nth(count - 1)


def _details(call) -> dict[str, str]:
    terms, values = call.get_by_role("term").all_inner_texts(), call.get_by_role("definition").all_inner_texts()
    return dict(zip(terms, values, strict=True))


INTERNALS = ("awaiting_confirmation", "complete", "{", "Waiting: the person", "Error:", "delete_file")


def test_tool_calls_read_as_a_person_would_describe_them(page, provider) -> None:
    sign_up(page, f"tools-{secrets.token_hex(4)}@example.com")
    point_agent_at(page, provider)
    page.goto("/chat")
    log = page.get_by_role("log", name="Messages")
    calls = log.get_by_role("article").filter(has_text="Action")

    # A destructive call asks, in words, with its arguments as labelled fields.
    provider.script(tool_call("delete_file", {"path": "README.md"}), Reply("Please confirm."))
    ask = _ask(page, "Delete the readme", calls, 1)
    expect(ask).to_contain_text("Delete README.md?")
    expect(ask).to_contain_text("Waiting for you")
    assert _details(ask) == {"Path": "README.md"}
    for internal in INTERNALS:
        expect(ask).not_to_contain_text(internal)
    ask.get_by_role("button", name="Confirm").click()
    expect(ask).to_contain_text("Done")
    expect(ask).not_to_contain_text("Delete README.md?")
    expect(ask).to_contain_text("Delete README.md")
    expect(ask.get_by_role("button", name="Confirm")).to_have_count(0)

    # A failed call says so, with the reason and without the text written for the model.
    provider.script(tool_call("read_file", {"path": "README.md", "start_line": 3}), Reply("It is gone."))
    failed = _ask(page, "Read the readme again", calls, 2)
    expect(failed).to_contain_text("Read README.md from line 3")
    expect(failed).to_contain_text("Failed")
    expect(failed).to_contain_text("There is no “README.md” in your workspace.")
    assert _details(failed) == {"Path": "README.md", "Start line": "3"}
    expect(failed).not_to_contain_text("Error:")

    # Cancelled: nothing happened, and it says so.
    provider.script(tool_call("delete_file", {"path": "skills"}), Reply("Please confirm."))
    cancelled = _ask(page, "Delete the skills", calls, 3)
    cancelled.get_by_role("button", name="Cancel").click()
    expect(cancelled).to_contain_text("Cancelled")
    expect(cancelled).to_contain_text("You cancelled it. Nothing was changed.")
    expect(cancelled).not_to_contain_text("Cancelled by the person")

    # A tool with no description of its own still reads as words and fields.
    provider.script(tool_call("get_weather", {"city": "Lyon", "metric": True}), Reply("No weather tool."))
    unknown = _ask(page, "Weather?", calls, 4)
    expect(unknown).to_contain_text("Get weather")
    assert _details(unknown) == {"City": "Lyon", "Metric": "Yes"}

    # After a reload, the stored calls read the same.
    page.reload()
    page.get_by_role("list", name="Conversations").get_by_role("button", name="Delete the readme").click()
    expect(calls.filter(has_text="Delete README.md")).to_contain_text("Done")
    expect(calls.filter(has_text="Read README.md from line 3")).to_contain_text("Failed")
    expect(calls.filter(has_text="Delete skills")).to_contain_text("Cancelled")
