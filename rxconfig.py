"""Reflex configuration. Our own settings live in vopix/settings.py."""

import os

import reflex as rx

_port = int(os.environ.get("PORT") or 3000)
_public = (os.environ.get("VOPIX_PUBLIC_URL") or f"http://localhost:{_port}").rstrip("/")
_origins = {_public}
if "//localhost" in _public or "//127.0.0.1" in _public:
    # Local use: both loopback spellings of the same port.
    _origins |= {f"http://localhost:{_port}", f"http://127.0.0.1:{_port}"}

config = rx.Config(
    app_name="vopix",
    telemetry_enabled=False,
    frontend_port=_port,
    backend_port=_port,
    cors_allowed_origins=sorted(_origins),
    show_built_with_reflex=False,
    redis_url=os.environ.get("VOPIX_REDIS_URL") or None,
    disable_plugins=[rx.plugins.SitemapPlugin],
)
