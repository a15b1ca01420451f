"""The services a person can connect, and what each one lets the agent do, in words."""

from __future__ import annotations

from dataclasses import dataclass

from vopix.settings import Settings, get_settings


@dataclass(frozen=True)
class Service:
    id: str  # github | slack | google (the callback path's name)
    label: str  # what the person reads: "GitHub", "Slack", "Gmail"
    can_do: tuple[str, ...]  # what the agent may do with it, as the page says it
    scopes: tuple[str, ...]  # what VOPIX asks for on the OAuth consent
    pkce: bool  # send a PKCE (S256) challenge: wherever the service accepts one
    paste: str  # the token a person may paste when no OAuth app is set up ("": none)
    paste_hint: str = ""
    scope_separator: str = " "  # Slack lists scopes with commas

    def client_id(self, cfg: Settings) -> str:
        return str(getattr(cfg, f"{self.id}_client_id"))

    def client_secret(self, cfg: Settings) -> str:
        return str(getattr(cfg, f"{self.id}_client_secret"))

    def oauth_ready(self, cfg: Settings | None = None) -> bool:
        cfg = cfg or get_settings()
        return bool(self.client_id(cfg) and self.client_secret(cfg))

    def redirect_uri(self, cfg: Settings | None = None) -> str:
        cfg = cfg or get_settings()
        return f"{cfg.public_url}/api/integrations/{self.id}/callback"


GITHUB = Service(
    "github", "GitHub",
    ("List your repositories", "List, search and read issues and pull requests",
     "Create issues and comment (after you confirm each one)"),
    ("repo", "read:user"),
    pkce=True,  # GitHub accepts S256 challenges for OAuth apps
    paste="Fine-grained personal access token",
    paste_hint="Create one at github.com → Settings → Developer settings → Fine-grained tokens, "
               "with access to the repositories your agent may use (Issues: read and write).",
)
SLACK = Service(
    "slack", "Slack",
    ("List channels", "Read recent messages of a channel", "Post messages (after you confirm each one)"),
    ("channels:read", "channels:history", "groups:read", "groups:history", "chat:write"),
    pkce=False,
    paste="Bot token (xoxb-…)",
    paste_hint="From your Slack app's OAuth & Permissions page, after installing it to the workspace.",
    scope_separator=",",
)
GOOGLE = Service(
    "google", "Gmail",
    ("Search and read your mail", "Draft replies", "Send mail (after you confirm each one)"),
    ("https://www.googleapis.com/auth/gmail.modify", "openid", "email"),
    pkce=True,
    paste="",  # Google gives no token to paste: only its consent screen
)
SERVICES: dict[str, Service] = {s.id: s for s in (GITHUB, SLACK, GOOGLE)}


def service(service_id: str) -> Service:
    found = SERVICES.get(service_id)
    if found is None:
        raise KeyError(f"no service {service_id!r}")
    return found
