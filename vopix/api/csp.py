"""The Content-Security-Policy of the app's pages and static assets.

Reflex prerenders every page into .web/build/client; those HTML files carry a few inline
scripts (theme, scroll restoration, the router context, the route's module imports). They are
allowed by their SHA-256 hashes, read from the build, so no other inline script can run.
"""

from __future__ import annotations

import base64
import functools
import hashlib
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlparse

from vopix.settings import get_settings


def frontend_dir() -> Path:
    """Where Reflex's production build puts the pages it serves on the single port."""
    from reflex import constants
    from reflex.utils import prerequisites

    return prerequisites.get_web_dir() / constants.Dirs.STATIC


class _InlineScripts(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=False)
        self.scripts: list[str] = []
        self._current: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "script" and not any(name == "src" for name, _ in attrs):
            self._current = []

    def handle_data(self, data: str) -> None:
        if self._current is not None:
            self._current.append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "script" and self._current is not None:
            self.scripts.append("".join(self._current))
            self._current = None


def inline_scripts(html: str) -> list[str]:
    # Browsers hash the script text after the HTML parser has turned CRLF and CR into LF.
    parser = _InlineScripts()
    parser.feed(html.replace("\r\n", "\n").replace("\r", "\n"))
    parser.close()
    return parser.scripts


def _sha256(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode()).digest()).decode() + "'"


@functools.lru_cache(maxsize=4)
def _script_hashes(directory: Path, _stamp: int) -> tuple[str, ...]:
    hashes = {
        _sha256(script)
        for page in directory.rglob("*.html")
        for script in inline_scripts(page.read_text(encoding="utf-8", errors="replace"))
    }
    return tuple(sorted(hashes))


def script_hashes(directory: Path) -> tuple[str, ...]:
    """Hashes of every inline script in the build, read again when the build is replaced."""
    try:
        stamp = directory.stat().st_mtime_ns
        # A page that vanishes while it is read (a rebuild) raises here, so the incomplete
        # answer is not cached under this stamp.
        return _script_hashes(directory, stamp)
    except OSError:
        return ()  # no production build (dev server, tests), or one being replaced


def socket_origin(public_origin: str) -> str:
    # Browsers before CSP Level 3 do not match ws:/wss: against 'self'.
    parsed = urlparse(public_origin)
    scheme = "wss" if parsed.scheme == "https" else "ws"
    return f"{scheme}://{parsed.netloc}"


@functools.lru_cache(maxsize=4)
def _policy(public_origin: str, hashes: tuple[str, ...]) -> str:
    directives = [
        "default-src 'self'",
        # 'unsafe-eval': Reflex runs rx.call_script and rx.call_function (the session cookie
        # POSTs, the refresh on every page load) through eval() in its state.js.
        " ".join(["script-src 'self' 'unsafe-eval'", *hashes]),
        # 'unsafe-inline' for styles: emotion (Reflex's CSS-in-JS) and sonner (the toasts)
        # create <style> elements at run time, and Reflex gives no way to hand them a nonce;
        # without it those sheets are dropped and the pages lose their layout.
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data:",  # QR codes on the Channels page are SVG data: URIs
        "font-src 'self' data:",  # the build inlines KaTeX's smallest font (chat markdown)
        f"connect-src 'self' {socket_origin(public_origin)}",
        "object-src 'none'",
        "base-uri 'self'",
        "frame-ancestors 'none'",
        "form-action 'self'",
    ]
    return "; ".join(directives)


def page_policy() -> str:
    return _policy(get_settings().public_origin, script_hashes(frontend_dir()))
