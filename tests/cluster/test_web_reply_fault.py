"""kill -9 the instance streaming a web reply (issue 15, fault 2): the tab reconnects through
the load balancer to the other instance without a reload, the person's message is kept, the
cut-off reply is marked interrupted with a Retry that answers; another person's tab goes on.

Instance 2 is nginx's backup, so every tab's socket, and with it the turn it starts (a
background event in the worker holding the socket), is on instance 1 until it dies. Both
people's tabs are there: the built frontend connects its socket to the balancer's port, so a
tab cannot be pinned to instance 2. The second person's tab reconnects too, invisibly."""

from __future__ import annotations

import secrets

from playwright.sync_api import expect
from sqlmodel import select

from tests.browser.conftest import sign_up
from tests.cluster._workers import until
from tests.cluster.conftest import Cluster
from tests.fakes.ai_provider import FakeAIProvider, Reply
from vopix.core import accounts
from vopix.core.agent import profile
from vopix.core.kinds import MessageStatus
from vopix.db import session_scope
from vopix.models import Message, WebTurn

MARK = "window.__vopixNoReload"


def _person(page, provider: FakeAIProvider, prefix: str) -> int:
    email = f"{prefix}-{secrets.token_hex(4)}@example.com"
    sign_up(page, email)
    user_id = accounts.find_user_id(email)
    assert user_id is not None
    profile.update_provider(user_id, kind="openai", model="fake-model",
                            base_url=provider.openai_base_url, api_key="sk-fault-web-1234")
    page.goto("/chat")
    page.evaluate(f"{MARK} = true")  # gone if the page reloads
    return user_id


def _send(page, text: str) -> None:
    page.get_by_label("Message", exact=True).fill(text)
    page.get_by_role("button", name="Send").click()


def _stored(user_id: int) -> list[tuple[str, str, str]]:
    with session_scope() as s:
        rows = s.exec(select(Message).where(Message.user_id == user_id).order_by(Message.id)).all()
        return [(m.role, m.content, m.status) for m in rows]


def test_instance_killed_mid_web_reply_marks_it_interrupted_and_retry_answers(
    browser, cluster: Cluster
) -> None:
    ctx_a = browser.new_context(base_url=cluster.url)
    ctx_b = browser.new_context(base_url=cluster.url)
    for ctx in (ctx_a, ctx_b):
        ctx.set_default_timeout(15_000)
    try:
        with FakeAIProvider() as provider:
            a, b = ctx_a.new_page(), ctx_b.new_page()
            user_a = _person(a, provider, "cut")
            user_b = _person(b, provider, "bystander")
            log_a, log_b = (p.get_by_role("log", name="Messages") for p in (a, b))

            provider.script(Reply("Hello, bystander."))
            _send(b, "Hi there")
            expect(log_b).to_contain_text("Hello, bystander.")

            words = [f"piece{i:02d}" for i in range(40)]
            provider.script(Reply(" ".join(words), chunks=len(words), delay=1.0))
            _send(a, "Tell me a long story")
            expect(log_a).to_contain_text("piece02")
            expect(a.get_by_role("button", name="Stop")).to_be_visible()
            cluster.kill(1)  # kill -9 the instance whose worker streams the reply
            try:
                # The tab reconnects to instance 2, which finds the turn's lease run out.
                retry = a.get_by_role("button", name="Retry")
                try:
                    expect(retry).to_be_visible(timeout=40_000)
                except AssertionError as exc:
                    with session_scope() as s:
                        turns = [(t.conversation_id, t.text[:40], t.lease_until) for t in s.exec(select(WebTurn))]
                    raise AssertionError(f"no Retry; stored {_stored(user_a)}, leases {turns}") from exc
                reply = log_a.get_by_role("article").filter(has_text="piece02")
                expect(reply).to_contain_text("interrupted")
                expect(log_a).to_contain_text("Tell me a long story")
                assert "piece39" not in log_a.inner_text()  # cut off, not finished elsewhere
                assert a.evaluate(MARK) is True  # no reload
                expect(a.get_by_role("button", name="Send")).to_be_visible()
                stored = _stored(user_a)
                assert [(r, s) for r, _, s in stored] == [
                    ("user", MessageStatus.COMPLETE), ("assistant", MessageStatus.INTERRUPTED)
                ]
                assert stored[0][1] == "Tell me a long story" and "piece02" in stored[1][1]

                provider.script(Reply("The story, told again in full."))
                retry.click()
                expect(log_a).to_contain_text("The story, told again in full.", timeout=30_000)
                expect(log_a).not_to_contain_text("piece02")
                expect(a.get_by_role("button", name="Retry")).to_have_count(0)
                # The tab shows the text as it streams; the reply is stored when it ends.
                until(lambda: [(r, c) for r, c, _ in _stored(user_a)] == [
                    ("user", "Tell me a long story"), ("assistant", "The story, told again in full.")
                ], 30, "the retried reply stored in place of the interrupted one", lambda: _stored(user_a))

                # The other person's tab noticed nothing: same page, no interrupted reply, and it
                # is answered on the instance that is left.
                assert b.evaluate(MARK) is True
                expect(log_b).to_contain_text("Hello, bystander.")
                provider.script(Reply("Still here for you."))
                _send(b, "Are you there?")
                expect(log_b).to_contain_text("Still here for you.", timeout=30_000)
                assert "interrupted" not in log_b.inner_text()
                assert b.evaluate(MARK) is True
                until(lambda: [s for _, _, s in _stored(user_b)] == [MessageStatus.COMPLETE] * 4, 30,
                      "the bystander's two turns stored complete", lambda: _stored(user_b))

                # After a reload the cut-off reply is gone for good (replaced by the retry).
                a.reload()
                expect(log_a).to_contain_text("The story, told again in full.")
                assert "interrupted" not in log_a.inner_text()
            finally:
                cluster.restart(1)
    finally:
        ctx_a.close()
        ctx_b.close()
