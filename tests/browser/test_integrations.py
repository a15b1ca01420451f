"""Issue 11 (GitHub) in the browser: connect GitHub through its consent page, ask the agent to
create an issue, confirm it in the chat, find it in the activity log, disconnect; a forged
callback is refused on the page and connects nothing."""

from __future__ import annotations

import re
import secrets

from playwright.sync_api import expect

from tests.browser.conftest import BROWSER_GITHUB_REPO, point_agent_at, sign_up
from tests.fakes.ai_provider import Reply, tool_call
from tests.fakes.github import FakeGitHub
from vopix.core import accounts
from vopix.core.integrations import connections

AT_INTEGRATIONS = re.compile(r"/integrations/?$")  # the outcome is gone from the address


def _github(page):
    return page.get_by_role("region", name="GitHub")


def _token_exchanges(fake_github: FakeGitHub) -> list:
    return [r for r in list(fake_github.requests) if r.path.startswith("/login/oauth/access_token")]


def _connect_github(page, fake_github: FakeGitHub) -> None:
    page.goto("/integrations")
    card = _github(page)
    expect(card).to_contain_text("Not connected")
    card.get_by_role("button", name="Connect GitHub").click()
    # GitHub's consent page (the fake's), then back.
    expect(page.get_by_role("heading", name="Authorize VOPIX")).to_be_visible()
    assert page.url.startswith(fake_github.url)
    page.get_by_role("button", name="Authorize").click()
    page.wait_for_url(AT_INTEGRATIONS)
    expect(page.get_by_role("status").filter(has_text="GitHub is connected.")).to_be_visible()
    expect(_github(page)).to_contain_text("Connected as octocat")


def test_connect_github_create_an_issue_see_it_logged_and_disconnect(page, provider, fake_github) -> None:
    email = f"github-{secrets.token_hex(4)}@example.com"
    sign_up(page, email)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Integrations").click()
    page.wait_for_url(AT_INTEGRATIONS)
    card = _github(page)
    expect(card).to_contain_text("Not connected")
    abilities = card.get_by_role("list", name="What the agent may do with GitHub")
    expect(abilities.get_by_role("listitem")).to_have_text([
        "List your repositories", "List, search and read issues and pull requests",
        "Create issues and comment (after you confirm each one)",
    ])
    expect(page.get_by_role("table", name="Activity log")).to_have_count(0)
    expect(page.get_by_role("region", name="Activity")).to_contain_text("Nothing yet")

    _connect_github(page, fake_github)
    # A reload does not say it again (the address no longer holds the outcome).
    page.reload()
    expect(_github(page)).to_contain_text("Connected as octocat")
    expect(page.get_by_text("GitHub is connected.")).to_have_count(0)

    # In the chat: the agent wants to create an issue, and asks first.
    point_agent_at(page, provider)
    page.goto("/chat")
    log = page.get_by_role("log", name="Messages")
    calls = log.get_by_role("article").filter(has_text="Action")
    before = len(fake_github.issues(BROWSER_GITHUB_REPO))
    provider.script(
        tool_call("github_create_issue", {"repo": BROWSER_GITHUB_REPO, "title": "Dark mode is too dark"}),
        Reply("Shall I?"),
    )
    page.get_by_label("Message", exact=True).fill("File the dark mode bug on GitHub")
    page.get_by_role("button", name="Send").click()
    expect(calls).to_have_count(1)
    ask = calls.first
    expect(ask).to_contain_text(f"Create an issue in {BROWSER_GITHUB_REPO}: “Dark mode is too dark”?")
    expect(ask).to_contain_text("Waiting for you")
    assert len(fake_github.issues(BROWSER_GITHUB_REPO)) == before  # nothing until confirmed
    ask.get_by_role("button", name="Confirm").click()
    expect(ask).to_contain_text("Done")
    expect(ask.get_by_role("button", name="Confirm")).to_have_count(0)
    issues = fake_github.issues(BROWSER_GITHUB_REPO)
    assert [i["title"] for i in issues[before:]] == ["Dark mode is too dark"]
    number = issues[-1]["number"]

    # The activity log says what the agent did, where it was asked, and how it went.
    page.goto("/integrations")
    table = page.get_by_role("table", name="Activity log")
    rows = table.get_by_role("row").filter(has=page.get_by_role("cell"))
    expect(rows).to_have_count(1)
    row = rows.first
    expect(row).to_contain_text(f"created issue #{number} in {BROWSER_GITHUB_REPO}")
    expect(row).to_contain_text("File the dark mode bug on GitHub")
    expect(row).to_contain_text("web chat")
    expect(row).to_contain_text("Done")
    expect(row).to_contain_text("GitHub")

    # Filtered by service: Slack has nothing, GitHub has the call.
    activity = page.get_by_role("region", name="Activity")
    activity.get_by_label("Service").select_option(label="Slack")
    expect(table).to_have_count(0)
    expect(activity).to_contain_text("Nothing")
    activity.get_by_label("Service").select_option(label="GitHub")
    expect(rows).to_have_count(1)

    # On a phone each row is a card whose values are named.
    page.set_viewport_size({"width": 360, "height": 740})
    cells = rows.first.get_by_role("cell")
    labels = cells.evaluate_all("cs => cs.map(c => getComputedStyle(c, '::before').content)")
    assert labels[0] == '"When"' and '"Asked in"' in labels and '"Outcome"' in labels
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    page.set_viewport_size({"width": 1280, "height": 720})

    # Disconnect asks first; "Keep it" keeps it.
    card = _github(page)
    card.get_by_role("button", name="Disconnect GitHub").click()
    question = card.get_by_role("alertdialog", name="Disconnect GitHub")
    expect(question).to_contain_text("Disconnect GitHub?")
    expect(question.get_by_role("button", name="Keep it")).to_be_focused()
    question.get_by_role("button", name="Keep it").click()
    expect(question).to_have_count(0)
    expect(card.get_by_role("button", name="Disconnect GitHub")).to_be_focused()
    expect(card).to_contain_text("Connected as octocat")
    card.get_by_role("button", name="Disconnect GitHub").click()
    question.get_by_role("button", name="Disconnect").click()
    expect(page.get_by_role("status").filter(has_text="GitHub is disconnected and its token revoked.")
           ).to_be_visible()
    expect(card).to_contain_text("Not connected")
    expect(card.get_by_role("button", name="Connect GitHub")).to_be_visible()
    assert not connections.is_connected(accounts.find_user_id(email), "github")
    assert fake_github.revoked  # GitHub was told


def test_a_forged_callback_is_refused_on_the_page_and_connects_nothing(page, fake_github) -> None:
    email = f"forged-{secrets.token_hex(4)}@example.com"
    sign_up(page, email)
    exchanges = len(_token_exchanges(fake_github))
    page.goto("/api/integrations/github/callback?state=bogus&code=x")
    page.wait_for_url(AT_INTEGRATIONS)
    refusal = page.get_by_role("alert")
    expect(refusal).to_contain_text("This connect link is not valid")
    expect(refusal).to_contain_text("Start again from the Integrations page.")
    expect(_github(page)).to_contain_text("Not connected")
    assert not connections.is_connected(accounts.find_user_id(email), "github")
    assert len(_token_exchanges(fake_github)) == exchanges  # the code never went to GitHub


def test_a_refused_token_is_shown_and_github_reconnected(page, fake_github) -> None:
    email = f"refused-{secrets.token_hex(4)}@example.com"
    sign_up(page, email)
    user_id = accounts.find_user_id(email)
    connections.save(user_id, "github", method="oauth", account="octocat", account_id="1", scopes="repo",
                     access_token="gho_revoked_on_github_0000")
    connections.mark_needs_reconnect(user_id, "github")  # as when GitHub answers 401 to a tool
    page.goto("/integrations")
    card = _github(page)
    expect(card).to_contain_text("Needs reconnecting")
    expect(card).to_contain_text("GitHub refused the saved token of octocat: reconnect to let your agent "
                                 "use GitHub again.")
    reconnect = card.get_by_role("button", name="Reconnect GitHub")
    disconnect = card.get_by_role("button", name="Disconnect GitHub")
    left, right = reconnect.bounding_box(), disconnect.bounding_box()
    assert left and right and left["x"] + left["width"] < right["x"]  # two buttons, apart
    reconnect.click()
    expect(page.get_by_role("heading", name="Authorize VOPIX")).to_be_visible()
    page.get_by_role("button", name="Authorize").click()
    page.wait_for_url(AT_INTEGRATIONS)
    expect(page.get_by_role("status").filter(has_text="GitHub is connected.")).to_be_visible()
    expect(card).to_contain_text("Connected as octocat")
    expect(card).not_to_contain_text("refused")
    expect(card.get_by_role("button", name="Reconnect GitHub")).to_have_count(0)
    assert connections.is_connected(user_id, "github")
