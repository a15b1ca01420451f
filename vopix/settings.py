"""One typed settings object, read from the environment (see README for every variable)."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from urllib.parse import urlparse

DEFAULT_MAX_FILE_BYTES = 25 * 1024 * 1024


def _env(name: str, default: str) -> str:
    value = os.environ.get(name)
    return default if value is None or value == "" else value


def _int(name: str, default: int) -> int:
    raw = _env(name, str(default))
    try:
        return int(raw)
    except ValueError as exc:
        raise ValueError(f"{name} must be an integer, got {raw!r}") from exc


def _int_between(name: str, default: int, low: int, high: int, why: str) -> int:
    value = _int(name, default)
    if not low <= value <= high:
        raise ValueError(f"{name} must be between {low} and {high} ({why}), got {value}")
    return value


def _choice(name: str, default: str, allowed: tuple[str, ...]) -> str:
    value = _env(name, default).strip().lower()
    if value not in allowed:
        raise ValueError(f"{name} must be one of {', '.join(allowed)}, got {value!r}")
    return value


def _bool(name: str, default: bool) -> bool:
    return _env(name, "1" if default else "0").strip().lower() in {"1", "true", "yes", "on"}


def _pairs(name: str) -> dict[str, str]:
    """`a=x,b=y` as {"a": "x", "b": "y"}."""
    out: dict[str, str] = {}
    for item in _env(name, "").split(","):
        if not item.strip():
            continue
        key, sep, value = item.partition("=")
        if not sep or not key.strip() or not value.strip():
            raise ValueError(f"{name} must look like plan=price_id,plan=price_id, got {item.strip()!r}")
        out[key.strip()] = value.strip()
    return out


@dataclass(frozen=True)
class Settings:
    data_dir: Path
    database_url: str = field(repr=False)
    public_url: str
    port: int
    vault_key: str = field(repr=False)
    vault_old_keys: str = field(repr=False)
    session_days: int
    token_rotate_seconds: int
    token_reuse_grace_seconds: int
    login_max_failures: int
    login_window_minutes: int
    login_lockout_minutes: int
    log_retention_days: int
    trust_proxy: bool
    redis_url: str
    run_scheduler: bool
    bcrypt_rounds: int
    allow_private_provider_urls: str
    # AI provider defaults set by the operator (issue: agent)
    default_provider: str
    default_model: str
    default_base_url: str
    default_api_key: str = field(repr=False, default="")
    # Workspace (issue: workspace): the largest single file, checked on the server
    max_file_bytes: int = DEFAULT_MAX_FILE_BYTES
    # Telegram and WhatsApp (issue: channels); empty tokens turn a channel off
    telegram_bot_token: str = field(repr=False, default="")
    telegram_webhook_secret: str = field(repr=False, default="")
    telegram_bot_username: str = ""
    telegram_api_base_url: str = "https://api.telegram.org"
    telegram_polling: bool = False
    whatsapp_access_token: str = field(repr=False, default="")
    whatsapp_phone_number_id: str = ""
    whatsapp_number: str = ""
    whatsapp_app_secret: str = field(repr=False, default="")
    whatsapp_verify_token: str = field(repr=False, default="")
    whatsapp_template_name: str = ""
    whatsapp_template_language: str = "en"
    whatsapp_api_base_url: str = "https://graph.facebook.com"
    whatsapp_api_version: str = "v21.0"
    # Mail (issue: email). No host: mails are written as .eml files to DATA_DIR/outbox.
    smtp_host: str = ""
    smtp_port: int = 587
    smtp_username: str = ""
    smtp_password: str = field(repr=False, default="")
    smtp_tls: str = "starttls"  # starttls | tls | none
    mail_from: str = "VOPIX <no-reply@localhost>"
    # Where people can write for help; empty: no text tells them to contact support.
    support_email: str = ""
    # Days a deleted account can still be restored; the purge follows (privacy: within 30 days).
    deletion_grace_days: int = 7
    # Minutes a task occurrence missed (downtime) may run late; older ones are recorded missed.
    task_grace_minutes: int = 15
    # Billing (issue: billing). No secret key: billing is off and everyone stays on their plan.
    stripe_secret_key: str = field(repr=False, default="")
    stripe_webhook_secret: str = field(repr=False, default="")
    stripe_api_base_url: str = "https://api.stripe.com"
    stripe_prices: dict[str, str] = field(default_factory=dict)  # plan id -> Stripe price id
    # Integrations (issue: integrations). No client id: the service is connected with a pasted
    # token where it allows one (GitHub, Slack), or not offered (Google).
    github_client_id: str = ""
    github_client_secret: str = field(repr=False, default="")
    github_base_url: str = "https://github.com"
    github_api_base_url: str = "https://api.github.com"
    slack_client_id: str = ""
    slack_client_secret: str = field(repr=False, default="")
    slack_base_url: str = "https://slack.com"
    google_client_id: str = ""
    google_client_secret: str = field(repr=False, default="")
    google_auth_base_url: str = "https://accounts.google.com"
    google_oauth2_base_url: str = "https://oauth2.googleapis.com"
    gmail_api_base_url: str = "https://gmail.googleapis.com"
    # Scripts run in bubblewrap (issue 16): the bwrap binary and the interpreter seen inside.
    sandbox_bwrap: str = "/usr/bin/bwrap"
    sandbox_python: str = "/usr/bin/python3"

    @property
    def public_origin(self) -> str:
        parsed = urlparse(self.public_url)
        return f"{parsed.scheme}://{parsed.netloc}"

    @property
    def is_https(self) -> bool:
        return self.public_url.lower().startswith("https://")

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")


def load_settings() -> Settings:
    data_dir = Path(_env("VOPIX_DATA_DIR", "./data")).resolve()
    port = _int("PORT", 3000)
    database_url = _env("VOPIX_DATABASE_URL", f"sqlite:///{data_dir / 'vopix.db'}")
    if database_url.startswith("postgresql://") or database_url.startswith("postgres://"):
        # psycopg 3 is the driver we ship.
        database_url = "postgresql+psycopg://" + database_url.split("://", 1)[1]
    return Settings(
        data_dir=data_dir,
        database_url=database_url,
        public_url=_env("VOPIX_PUBLIC_URL", f"http://localhost:{port}").rstrip("/"),
        port=port,
        vault_key=_env("VOPIX_VAULT_KEY", ""),
        vault_old_keys=_env("VOPIX_VAULT_OLD_KEYS", ""),
        session_days=_int("VOPIX_SESSION_DAYS", 30),
        token_rotate_seconds=_int("VOPIX_TOKEN_ROTATE_SECONDS", 900),
        token_reuse_grace_seconds=_int("VOPIX_TOKEN_REUSE_GRACE_SECONDS", 30),
        login_max_failures=_int("VOPIX_LOGIN_MAX_FAILURES", 5),
        login_window_minutes=_int("VOPIX_LOGIN_WINDOW_MINUTES", 15),
        login_lockout_minutes=_int("VOPIX_LOGIN_LOCKOUT_MINUTES", 15),
        log_retention_days=_int("VOPIX_LOG_RETENTION_DAYS", 30),
        trust_proxy=_bool("VOPIX_TRUST_PROXY", False),
        redis_url=_env("VOPIX_REDIS_URL", ""),
        run_scheduler=_bool("VOPIX_RUN_SCHEDULER", True),
        bcrypt_rounds=_int("VOPIX_BCRYPT_ROUNDS", 12),
        allow_private_provider_urls=_env("VOPIX_ALLOW_PRIVATE_PROVIDER_URLS", "auto").lower(),
        default_provider=_env("VOPIX_DEFAULT_PROVIDER", ""),
        default_model=_env("VOPIX_DEFAULT_MODEL", ""),
        default_base_url=_env("VOPIX_DEFAULT_BASE_URL", ""),
        default_api_key=_env("VOPIX_DEFAULT_API_KEY", ""),
        max_file_bytes=_int("VOPIX_MAX_FILE_BYTES", DEFAULT_MAX_FILE_BYTES),
        telegram_bot_token=_env("VOPIX_TELEGRAM_BOT_TOKEN", ""),
        telegram_webhook_secret=_env("VOPIX_TELEGRAM_WEBHOOK_SECRET", ""),
        telegram_bot_username=_env("VOPIX_TELEGRAM_BOT_USERNAME", "").removeprefix("@"),
        telegram_api_base_url=_env("VOPIX_TELEGRAM_API_BASE_URL", "https://api.telegram.org").rstrip("/"),
        telegram_polling=_bool("VOPIX_TELEGRAM_POLLING", False),
        whatsapp_access_token=_env("VOPIX_WHATSAPP_ACCESS_TOKEN", ""),
        whatsapp_phone_number_id=_env("VOPIX_WHATSAPP_PHONE_NUMBER_ID", ""),
        whatsapp_number=_env("VOPIX_WHATSAPP_NUMBER", ""),
        whatsapp_app_secret=_env("VOPIX_WHATSAPP_APP_SECRET", ""),
        whatsapp_verify_token=_env("VOPIX_WHATSAPP_VERIFY_TOKEN", ""),
        whatsapp_template_name=_env("VOPIX_WHATSAPP_TEMPLATE_NAME", ""),
        whatsapp_template_language=_env("VOPIX_WHATSAPP_TEMPLATE_LANGUAGE", "en"),
        whatsapp_api_base_url=_env("VOPIX_WHATSAPP_API_BASE_URL", "https://graph.facebook.com").rstrip("/"),
        whatsapp_api_version=_env("VOPIX_WHATSAPP_API_VERSION", "v21.0"),
        smtp_host=_env("VOPIX_SMTP_HOST", ""),
        smtp_port=_int("VOPIX_SMTP_PORT", 587),
        smtp_username=_env("VOPIX_SMTP_USERNAME", ""),
        smtp_password=_env("VOPIX_SMTP_PASSWORD", ""),
        smtp_tls=_choice("VOPIX_SMTP_TLS", "starttls", ("starttls", "tls", "none")),
        mail_from=_env("VOPIX_MAIL_FROM", "VOPIX <no-reply@localhost>"),
        support_email=_env("VOPIX_SUPPORT_EMAIL", ""),
        deletion_grace_days=_int_between(
            "VOPIX_DELETION_GRACE_DAYS", 7, 0, 23, "the purge must follow a deletion within 30 days"
        ),
        task_grace_minutes=_int_between(
            "VOPIX_TASK_GRACE_MINUTES", 15, 0, 24 * 60, "a late run must still be worth running"
        ),
        stripe_secret_key=_env("VOPIX_STRIPE_SECRET_KEY", ""),
        stripe_webhook_secret=_env("VOPIX_STRIPE_WEBHOOK_SECRET", ""),
        stripe_api_base_url=_env("VOPIX_STRIPE_API_BASE_URL", "https://api.stripe.com").rstrip("/"),
        stripe_prices=_pairs("VOPIX_STRIPE_PRICES"),
        github_client_id=_env("VOPIX_GITHUB_CLIENT_ID", ""),
        github_client_secret=_env("VOPIX_GITHUB_CLIENT_SECRET", ""),
        github_base_url=_env("VOPIX_GITHUB_BASE_URL", "https://github.com").rstrip("/"),
        github_api_base_url=_env("VOPIX_GITHUB_API_BASE_URL", "https://api.github.com").rstrip("/"),
        slack_client_id=_env("VOPIX_SLACK_CLIENT_ID", ""),
        slack_client_secret=_env("VOPIX_SLACK_CLIENT_SECRET", ""),
        slack_base_url=_env("VOPIX_SLACK_BASE_URL", "https://slack.com").rstrip("/"),
        google_client_id=_env("VOPIX_GOOGLE_CLIENT_ID", ""),
        google_client_secret=_env("VOPIX_GOOGLE_CLIENT_SECRET", ""),
        google_auth_base_url=_env("VOPIX_GOOGLE_AUTH_BASE_URL", "https://accounts.google.com").rstrip("/"),
        google_oauth2_base_url=_env("VOPIX_GOOGLE_OAUTH2_BASE_URL", "https://oauth2.googleapis.com").rstrip("/"),
        gmail_api_base_url=_env("VOPIX_GMAIL_API_BASE_URL", "https://gmail.googleapis.com").rstrip("/"),
        sandbox_bwrap=_env("VOPIX_SANDBOX_BWRAP", "/usr/bin/bwrap"),
        sandbox_python=_env("VOPIX_SANDBOX_PYTHON", "/usr/bin/python3"),
    )


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return load_settings()


def reload_settings() -> Settings:
    """Forget the cached settings (tests and the CLI change the environment)."""
    get_settings.cache_clear()
    return get_settings()
