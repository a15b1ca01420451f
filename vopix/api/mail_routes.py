"""/unsubscribe: the link in every optional mail, without logging in.

GET shows what will stop and an Unsubscribe button (mail scanners fetch links ahead of the
person: a GET changes nothing). POST unsubscribes at once: the page's form, and the RFC 8058
one-click POST that mail clients send (body `List-Unsubscribe=One-Click`, no cookie). The page
is plain server-rendered HTML: no script, so the app's CSP (added by the middleware) holds.
"""

from __future__ import annotations

import asyncio
import html

from starlette.requests import Request
from starlette.responses import HTMLResponse

from vopix.core.mail import preferences, unsubscribe

_STYLE = (
    "body{font-family:system-ui,sans-serif;line-height:1.5;color:#111;background:#f6f7f9;margin:0}"
    "main{max-width:34rem;margin:3rem auto;padding:1.5rem 2rem;background:#fff;border-radius:10px;"
    "box-shadow:0 1px 3px rgba(0,0,0,.12)}h1{font-size:1.4rem;margin-top:0}"
    "button{font:inherit;padding:.55rem 1.1rem;border:0;border-radius:6px;background:#3b5bdb;"
    "color:#fff;cursor:pointer}.muted{color:#5b6270;font-size:.95rem}a{color:#3b5bdb}"
    # The app's dark palette (assets/vopix.css), for a system set to dark.
    "@media (prefers-color-scheme:dark){:root{color-scheme:dark}body{color:#e7e9ee;background:#0f1115}"
    "main{background:#181b21;box-shadow:0 1px 3px rgba(0,0,0,.5)}button{background:#8fa8ff;color:#0b1230}"
    ".muted{color:#a3abb9}a{color:#8fa8ff}}"
)
_SETTINGS = (
    '<p class="muted">You can change which mail you get at any time in your '
    '<a href="/account">account settings</a>.</p>'
)


def _page(title: str, body: str, status: int = 200) -> HTMLResponse:
    page = (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        '<meta name="robots" content="noindex">'
        f"<title>{html.escape(title)} · VOPIX</title><style>{_STYLE}</style></head>"
        f"<body><main><h1>{html.escape(title)}</h1>{body}</main></body></html>"
    )
    # no-store: the page holds the link's token; no-referrer: nor does it leak on a click.
    headers = {"cache-control": "no-store", "referrer-policy": "no-referrer"}
    return HTMLResponse(page, status_code=status, headers=headers)


def _refused(exc: unsubscribe.BadLink) -> HTMLResponse:
    body = (
        f"<p>{html.escape(str(exc))} Nothing was changed.</p>"
        '<p class="muted">Use the link from the mail exactly as it is, or sign in and choose '
        'your mail in your <a href="/account">account settings</a>.</p>'
    )
    return _page("This unsubscribe link does not work", body, status=400)


async def unsubscribe_page(request: Request) -> HTMLResponse:
    token = request.query_params.get("t", "")
    try:
        target = await asyncio.to_thread(preferences.unsubscribe_link, token)
    except unsubscribe.BadLink as exc:
        return _refused(exc)
    what = preferences.NAMES[target.kind]
    body = (
        f"<p>Press the button to stop <strong>{html.escape(what)}</strong> by email to this "
        "VOPIX account.</p>"
        '<p class="muted">Security alerts and password mails keep coming: they cannot be turned '
        "off. Notices inside the app stay as they are.</p>"
        # The token was checked above, so it is made of URL-safe characters only.
        f'<form method="post" action="{unsubscribe.PATH}?t={html.escape(token)}">'
        '<input type="hidden" name="List-Unsubscribe" value="One-Click">'
        "<button type=\"submit\">Unsubscribe</button></form>"
    )
    return _page(f"Unsubscribe from {what}", body)


async def unsubscribe_now(request: Request) -> HTMLResponse:
    """The page's form and RFC 8058 one-click. No Origin or Sec-Fetch-Site check, unlike the
    cookie routes: this POST carries no cookie and acts for nobody who is logged in; the
    signed token in the URL alone authorises it, and only for the one person and kind it
    names (a cross-site page that knows a token could as well send it itself)."""
    token = request.query_params.get("t", "")
    try:
        target = await asyncio.to_thread(preferences.unsubscribe_by_link, token)
    except unsubscribe.BadLink as exc:
        return _refused(exc)
    what = preferences.NAMES[target.kind]
    body = f"<p>This account gets no more {html.escape(what)} by email.</p>{_SETTINGS}"
    return _page("You are unsubscribed", body)
