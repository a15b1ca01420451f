"""axe-core (npm, toolchain/node_modules) on every page, in the light and the dark theme: no
serious or critical violation anywhere (issue 14).

axe is loaded with `context.add_init_script(path=...)`: init scripts are evaluated by the
browser's debugging protocol, outside the page's Content-Security-Policy, so the pages are
checked under the real policy (no bypass_csp) and axe still runs; `add_script_tag` would add
an inline <script> that the policy refuses."""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterator
from datetime import timedelta

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import REPO, sign_up
from vopix.core import accounts, action_tokens, usage
from vopix.core.agent import history
from vopix.core.kinds import MailKind, NoticeKind, TokenPurpose
from vopix.core.mail import unsubscribe
from vopix.core.workspace import store
from vopix.db import session_scope

AXE = REPO / "toolchain/node_modules/axe-core/axe.min.js"
BLOCKING = ("serious", "critical")

# Runs axe on the whole document with its default rules (WCAG 2.x A/AA and best practices).
RUN_AXE = """async () => {
  const result = await window.axe.run(document, { resultTypes: ['violations'] });
  const violations = result.violations.map((v) => ({
    id: v.id, impact: v.impact, help: v.help, url: v.helpUrl,
    nodes: v.nodes.map((n) => ({
      target: n.target.join(' '), html: n.html.slice(0, 160),
      summary: (n.failureSummary || '').split('\\n').slice(0, 3).join(' / '),
    })),
  }));
  return { violations, passed: result.passes.map((p) => p.id) };
}"""

ANSWER = """Here is a plan for **Monday**:

1. Write the report
2. Call [the bank](https://example.com)

```python
# Say hello, then count.
def greet(name: str) -> None:
    print(f"hello {name}", 42, True)
```

| Day | Task |
| --- | ---- |
| Mon | Report |
"""


class Audit:
    """Collects axe's findings page after page; the test fails once, listing all of them."""

    def __init__(self, theme: str) -> None:
        self.theme = theme
        self.checked: list[str] = []
        self.blocking: list[str] = []
        self.minor: set[str] = set()  # moderate and minor findings: printed, not failed

    def check(self, page, where: str, *, themed: bool = True) -> None:
        page.wait_for_load_state("load")
        if themed:  # the theme under test shows (the /unsubscribe page is plain server HTML)
            expect(page.locator("html")).to_have_class(self.theme)
        found = page.evaluate(RUN_AXE)
        # axe did look: contrast is measured on every page (text is on all of them).
        assert "color-contrast" in found["passed"] + [v["id"] for v in found["violations"]], where
        for v in found["violations"]:
            if v["impact"] not in BLOCKING:
                self.minor.add(f"{v['id']} ({v['impact']}) on {where}: {v['nodes'][0]['target']}")
                continue
            lines = [f"[{self.theme}] {where}: {v['id']} ({v['impact']}) {v['help']} <{v['url']}>"]
            lines += [f"    {n['target']}: {n['summary']}\n      {n['html']}" for n in v["nodes"][:6]]
            if len(v["nodes"]) > 6:
                lines.append(f"    ... and {len(v['nodes']) - 6} more")
            self.blocking.append("\n".join(lines))
        self.checked.append(where)

    def assert_clean(self) -> None:
        print("\n".join(sorted(self.minor)) or "no moderate or minor findings")
        assert not self.blocking, "axe found serious or critical problems:\n" + "\n".join(self.blocking)


@pytest.fixture(params=["light", "dark"])
def theme_context(request, browser, app_url: str) -> Iterator[tuple[str, object]]:
    """A browser whose system setting is the theme under test (no theme chosen in the page)."""
    theme = request.param
    ctx = browser.new_context(base_url=app_url, color_scheme=theme)
    ctx.set_default_timeout(15_000)
    ctx.add_init_script(path=str(AXE))
    yield theme, ctx
    ctx.close()


def _tokens(user_id: int, email: str) -> dict[str, str]:
    with session_scope() as s:
        return {
            "reset": action_tokens.issue(s, user_id, TokenPurpose.PASSWORD_RESET, timedelta(minutes=30)),
            "not_me": action_tokens.issue(s, user_id, TokenPurpose.NOT_ME, timedelta(days=1)),
            "undo": action_tokens.issue(s, user_id, TokenPurpose.EMAIL_UNDO, timedelta(days=7), data=email),
            "confirm": action_tokens.issue(
                s, user_id, TokenPurpose.EMAIL_CONFIRM, timedelta(days=1),
                data=f"new-{secrets.token_hex(4)}@example.com",
            ),
        }


def _seed(user_id: int) -> None:
    """Something on every page: messages with markdown, a notice, usage for the chart."""
    conv = history.create_conversation(user_id, "Plan my week").id
    history.add_message(user_id, conv, "user", "Help me plan my Monday")
    history.add_message(user_id, conv, "assistant", ANSWER)
    usage.add_notice(user_id, f"a11y-{secrets.token_hex(3)}", "You have used 80% of this month's messages.",
                     kind=NoticeKind.QUOTA, level="warning", link="/billing")
    for _ in range(3):
        usage.record_message(user_id)
    store.write_text(user_id, "Notes/plan.md", "# Plan\n\n- Monday: report\n\n" + ANSWER.split("\n\n", 2)[2])


def test_every_page_has_no_serious_accessibility_problem(theme_context) -> None:
    theme, ctx = theme_context
    audit = Audit(theme)
    page = ctx.new_page()
    email = f"a11y-{theme}-{secrets.token_hex(4)}@example.com"
    sign_up(page, email)
    user_id = accounts.find_user_id(email)
    assert user_id is not None
    _seed(user_id)
    tokens = _tokens(user_id, email)
    nav = page.get_by_role("navigation", name="Main")

    for path, heading in [
        ("/chat", "Chat"), ("/settings", "Agent settings"), ("/workspace", "Workspace"),
        ("/usage", "Usage"), ("/billing", "Billing"), ("/account", "Your account"),
        ("/channels", "Channels"), ("/integrations", "Integrations"), ("/tasks", "Tasks"),
        ("/privacy", "Privacy"),
    ]:
        page.goto(path)
        expect(page.get_by_role("heading", level=1, name=heading)).to_be_visible()
        expect(nav).to_contain_text(email)  # the page's state has arrived over the socket
        if path == "/usage":
            expect(page.get_by_role("img", name="Chart of daily messages and AI calls for the last 30 days")).to_be_visible()
        audit.check(page, path)

    # The chat in use: a conversation with markdown open, then search hits with their marks.
    page.goto("/chat")
    page.get_by_role("list", name="Conversations").get_by_role("button", name="Plan my week").click()
    log = page.get_by_role("log", name="Messages")
    expect(log).to_contain_text("Write the report")
    expect(log.locator("pre .token").first).to_be_visible()  # highlighted (Prism loads late)
    audit.check(page, "/chat, a conversation open")
    page.get_by_role("searchbox", name="Search messages").fill("Monday")
    page.get_by_role("search").get_by_role("button", name="Search").click()
    expect(page.get_by_role("list", name="Search results").locator("mark").first).to_be_visible()
    audit.check(page, "/chat, search results")
    log.get_by_role("button", name="Delete message").first.click()
    expect(page.get_by_role("button", name="Undo")).to_be_visible()
    audit.check(page, "/chat, a message deleted (Undo)")
    page.get_by_role("button", name="Undo").click()
    page.get_by_role("button", name="Keyboard shortcuts").click()
    expect(page.get_by_role("dialog", name="Keyboard shortcuts")).to_be_visible()
    audit.check(page, "/chat, keyboard shortcuts dialog")
    page.keyboard.press("Escape")

    # The workspace with a markdown file open in the editor and its preview.
    page.goto("/workspace")
    page.get_by_role("button", name="Open Notes/plan.md").click()
    editor = page.get_by_role("form", name="Edit file")
    expect(editor.get_by_label("Content")).to_have_value(re.compile(r"\S"))
    editor.get_by_role("button", name="Show preview").click()
    expect(page.get_by_role("region", name="Markdown preview").locator("pre .token").first).to_be_visible()
    audit.check(page, "/workspace, Notes/plan.md open")

    # The pages of people who are not logged in, and the links from mail.
    out = ctx.new_page()
    ctx.clear_cookies()
    for path, heading in [
        ("/", "Your own AI agent, on the web, Telegram and WhatsApp"),
        ("/login", "Log in to VOPIX"),
        ("/signup", "Create your VOPIX account"),
        ("/forgot", "Reset your password"),
        ("/policy", "Privacy policy"),
        (f"/reset?token={tokens['reset']}", "Set a new password"),
        (f"/not-me?token={tokens['not_me']}", "Secure your account"),
        (f"/undo-email?token={tokens['undo']}", "Undo the email change"),
        (f"/confirm-email?token={tokens['confirm']}", "Confirm your new email address"),
        (f"/unsubscribe?t={unsubscribe.token_for(user_id, MailKind.QUOTA)}", "Unsubscribe from quota warnings"),
    ]:
        out.goto(path)
        expect(out.get_by_role("heading", level=1, name=heading)).to_be_visible()
        plain = path.startswith("/unsubscribe")  # server HTML: follows the system setting alone
        if plain and theme == "dark":
            assert out.evaluate("getComputedStyle(document.body).backgroundColor") == "rgb(15, 17, 21)"
        audit.check(out, path.split("?")[0], themed=not plain)
    out.goto("/reset?token=not-a-real-token")
    expect(out.get_by_role("heading", level=1, name="This link does not work")).to_be_visible()
    audit.check(out, "/reset with a dead link")

    assert len(audit.checked) == 26
    audit.assert_clean()
