"""Every page works under the Content-Security-Policy the app sends: nothing is refused, the
socket connects, styles apply and the QR code (a data: image) shows."""

from __future__ import annotations

import contextlib
import secrets
from collections.abc import Iterator

from playwright.sync_api import expect

from tests.browser.conftest import AT_HOME, AT_LOGIN, log_in, sign_up

PASSWORD = "purple-otter-42-sings"

# Records every refusal the policy causes, on every document the page opens.
RECORD_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.__cspViolations.push(
    `${e.effectiveDirective} refused ${e.blockedURI || "inline"} at ${e.sourceFile}:${e.lineNumber}`
  );
}, true);
"""

# Heading of each page once it has loaded; every one of them needs the socket for the
# navigation bar to show who is logged in.
APP_PAGES = {
    "/": "Chat",
    "/chat": "Chat",
    "/settings": "Agent settings",
    "/workspace": "Workspace",
    "/usage": "Usage",
    "/account": "Your account",
    "/channels": "Channels",
}


class Watch:
    """Console messages, uncaught errors and CSP violations, collected page after page."""

    def __init__(self, page) -> None:
        self.page = page
        self.problems: list[str] = []
        page.add_init_script(RECORD_VIOLATIONS)
        page.on("console", self._console)
        page.on("pageerror", lambda error: self.problems.append(f"uncaught: {error}"))

    def _console(self, message) -> None:
        text = message.text
        if message.type == "error" or "Content Security Policy" in text or "Refused to" in text:
            self.problems.append(f"console {message.type}: {text}")

    def check(self, where: str) -> None:
        """Every stylesheet applied, and nothing refused or failed on the current page."""
        unapplied = self.page.evaluate(
            """[...document.querySelectorAll('style, link[rel="stylesheet"]')]
                 .filter((e) => !e.sheet).map((e) => e.outerHTML.slice(0, 80))"""
        )
        violations = self.page.evaluate("window.__cspViolations")
        found = [f"unapplied stylesheet: {s}" for s in unapplied] + violations + self.problems
        assert found == [], f"on {where}: {found}"

    @contextlib.contextmanager
    def during(self, where: str) -> Iterator[None]:
        """Check after the steps, and also when a step fails: the refusal is the likely cause."""
        try:
            yield
        finally:
            self.check(where)


def test_every_page_works_under_the_content_security_policy(page) -> None:
    watch = Watch(page)
    response = page.goto("/signup")
    assert response is not None
    policy = dict(d.strip().split(" ", 1) for d in response.headers["content-security-policy"].split(";"))
    assert policy["script-src"].startswith("'self'") and "'unsafe-inline'" not in policy["script-src"]
    expect(page.get_by_role("heading", level=1, name="Create your VOPIX account")).to_be_visible()
    watch.check("/signup")

    # Signing up, logging out and logging in are socket events whose scripts POST the cookie.
    email = f"csp-{secrets.token_hex(4)}@example.com"
    with watch.during("sign-up"):
        sign_up(page, email, PASSWORD)
    with watch.during("log-out"):
        page.get_by_role("button", name="Log out", exact=True).click()
        page.wait_for_url(AT_LOGIN)
    expect(page.get_by_role("heading", level=1, name="Log in to VOPIX")).to_be_visible()
    watch.check("/login")
    with watch.during("log-in"):
        log_in(page, email, PASSWORD)
        page.wait_for_url(AT_HOME)

    nav = page.get_by_role("navigation", name="Main")
    for path, heading in APP_PAGES.items():
        with watch.during(path):
            page.goto(path)
            expect(page.get_by_role("heading", level=1, name=heading)).to_be_visible()
            expect(nav).to_contain_text(email)  # state sent over the socket

    # A socket event that answers with a data: image.
    with watch.during("/channels after Connect Telegram"):
        card = page.get_by_role("region", name="Telegram")
        card.get_by_role("button", name="Connect Telegram").click()
        qr = card.get_by_role("img", name="QR code of the Telegram link")
        expect(qr).to_be_visible()
        assert (qr.get_attribute("src") or "").startswith("data:image/svg+xml")
        page.wait_for_function("(img) => img.complete", arg=qr.element_handle())
        assert qr.evaluate("(img) => img.naturalWidth") > 0
