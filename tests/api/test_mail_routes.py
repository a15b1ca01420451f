"""/unsubscribe without logging in (P13): a GET (a mail scanner's prefetch) changes nothing;
the page's form and the RFC 8058 one-click POST turn off that kind of mail only; a forged
link gets a clear 400 page and changes nothing."""

from __future__ import annotations

import re
import warnings

import pytest

from vopix.api.app import build_api
from vopix.api.middleware import AccessLogMiddleware
from vopix.core.kinds import MailKind
from vopix.core.mail import preferences, unsubscribe

with warnings.catch_warnings():  # starlette suggests httpx2; httpx is what we ship
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

ONE_CLICK = {"content-type": "application/x-www-form-urlencoded"}


@pytest.fixture
def client() -> TestClient:
    return TestClient(AccessLogMiddleware(build_api()), base_url="http://testserver")


@pytest.fixture
def person(make_user) -> tuple[int, str]:
    user_id, email, _ = make_user()
    preferences.set_choice(user_id, MailKind.PRODUCT_NEWS, True)
    return user_id, email


def _path(user_id: int, kind: MailKind) -> str:
    return unsubscribe.url_for(user_id, kind).removeprefix("http://testserver")


@pytest.mark.promise("P13")
def test_the_get_shows_what_will_stop_and_changes_nothing(client, person) -> None:
    user_id, email = person
    for _ in range(3):  # scanners and link previews fetch it, maybe more than once
        page = client.get(_path(user_id, MailKind.QUOTA))
        assert page.status_code == 200
    assert "Unsubscribe from quota warnings" in page.text and "<button" in page.text
    assert email not in page.text  # a forwarded mail's link does not show the address
    action = re.search(r'<form method="post" action="([^"]+)">', page.text)
    assert action and action[1] == _path(user_id, MailKind.QUOTA)
    assert preferences.choices(user_id) == preferences.MailChoices(quota=True, product_news=True)
    # Served under the app's CSP, with nothing the CSP would block: no script at all.
    assert "form-action 'self'" in page.headers["content-security-policy"]
    assert "<script" not in page.text and page.headers["cache-control"] == "no-store"


@pytest.mark.promise("P13")
def test_the_pages_form_unsubscribes_that_kind_only(client, person) -> None:
    user_id, _ = person
    done = client.post(_path(user_id, MailKind.QUOTA), data={"List-Unsubscribe": "One-Click"})
    assert done.status_code == 200 and "no more quota warnings by email" in done.text
    assert preferences.choices(user_id) == preferences.MailChoices(quota=False, product_news=True)


@pytest.mark.promise("P13")
def test_rfc8058_one_click_post_without_cookie_or_origin_unsubscribes_at_once(client, person) -> None:
    user_id, _ = person
    # What a mail client sends: the header's URL, this body, no cookie, no Origin.
    done = client.post(_path(user_id, MailKind.PRODUCT_NEWS), content=b"List-Unsubscribe=One-Click",
                       headers=ONE_CLICK)
    assert done.status_code == 200
    assert preferences.choices(user_id) == preferences.MailChoices(quota=True, product_news=False)
    again = client.post(_path(user_id, MailKind.PRODUCT_NEWS), content=b"List-Unsubscribe=One-Click",
                        headers=ONE_CLICK)
    assert again.status_code == 200  # a client that retries gets the same answer


@pytest.mark.promise("P13")
def test_forged_or_malformed_links_get_a_clear_400_and_change_nothing(client, person, make_user) -> None:
    user_id, _ = person
    other, _, _ = make_user()
    token = unsubscribe.token_for(user_id, MailKind.QUOTA)
    bad = [
        "/unsubscribe",
        "/unsubscribe?t=",
        "/unsubscribe?t=not-a-token",
        f"/unsubscribe?t={token[:-3]}abc",  # altered signature
        f"/unsubscribe?t={token.replace(f'{user_id}.', f'{other}.', 1)}",  # someone else
        f"/unsubscribe?t={token.replace('.quota.', '.product_news.')}",  # another kind
        "/unsubscribe?t=%3Cscript%3Ealert(1)%3C%2Fscript%3E",
    ]
    for path in bad:
        for answer in (client.get(path), client.post(path, content=b"List-Unsubscribe=One-Click",
                                                      headers=ONE_CLICK)):
            assert answer.status_code == 400, path
            assert "This unsubscribe link does not work" in answer.text
            assert "Nothing was changed." in answer.text and "<script>" not in answer.text
    assert preferences.choices(user_id) == preferences.MailChoices(quota=True, product_news=True)
    assert preferences.choices(other) == preferences.MailChoices(quota=True, product_news=False)
