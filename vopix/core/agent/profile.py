"""The person's agent settings: persona, language, timezone, provider and own key."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from urllib.parse import urlparse
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from sqlalchemy import bindparam
from sqlmodel import Session, select

from vopix.core import vault
from vopix.core.agent import egress
from vopix.core.clock import utcnow
from vopix.core.providers import PROVIDERS, ProviderConfig
from vopix.db import core, session_scope
from vopix.models import AgentProfile, Secret
from vopix.settings import get_settings

KEY_PURPOSE = "ai_provider_key"
_PROFILE = AgentProfile.__table__  # type: ignore[attr-defined]
_SECRET = Secret.__table__  # type: ignore[attr-defined]
_PROFILE_FIELDS = (
    "user_id",
    "name",
    "personality",
    "language",
    "timezone",
    "provider_kind",
    "model",
    "base_url",
    "api_key_secret_id",
)
_FOR_TURN = (
    select(
        *(_PROFILE.c[f] for f in _PROFILE_FIELDS),
        *(_SECRET.c[f] for f in ("user_id", "purpose", "key_id", "nonce", "ciphertext")),
    )
    .select_from(_PROFILE.outerjoin(_SECRET, _SECRET.c.id == _PROFILE.c.api_key_secret_id))
    .where(_PROFILE.c.user_id == bindparam("u"))
)
PERSONALITY_PRESETS: dict[str, str] = {
    "Friendly helper": "Warm, encouraging and clear. Explains things simply and checks in.",
    "Concise expert": "Direct and precise. Short answers, no filler, facts first.",
    "Thoughtful coach": "Asks good questions, helps me think things through, and keeps me on track.",
    "Playful companion": "Light-hearted and witty, but still genuinely helpful.",
}
MAX_PERSONALITY = 4000


class ProfileError(ValueError):
    """A refusal whose message is shown to the person."""


class NoProviderConfigured(Exception):
    """Neither the person nor the operator has set up an AI provider."""


class ProviderUnusable(NoProviderConfigured):
    """The person's provider is set up but cannot be used as it is; the message says why."""


@dataclass(frozen=True)
class ProfileView:
    name: str
    personality: str
    language: str
    timezone: str
    provider_kind: str
    model: str
    base_url: str
    has_own_key: bool
    key_hint: str


@lru_cache(maxsize=1)
def timezone_names() -> frozenset[str]:
    """IANA zone names; read from the tz database once (scanning it takes milliseconds)."""
    return frozenset(available_timezones())


def validate_timezone(name: str) -> str:
    value = (name or "").strip()
    if not value or len(value) > 64 or value not in timezone_names():
        raise ProfileError(f"“{value[:64]}” is not a time zone name. Use one like Europe/Paris.")
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ProfileError(f"“{value}” is not a time zone name. Use one like Europe/Paris.") from exc
    return value


def _get_or_create(s: Session, user_id: int) -> AgentProfile:
    row = s.get(AgentProfile, user_id)
    if row is None:
        row = AgentProfile(user_id=user_id)
        s.add(row)
        s.flush()
    return row


def create_profile(s: Session, user_id: int) -> None:
    """on_user_created hook (vopix.platform.install): every new account gets its agent."""
    s.add(AgentProfile(user_id=user_id))


def _view(row: AgentProfile, *, with_hint: bool = True) -> ProfileView:
    """with_hint=False skips the vault read a turn does not need."""
    hint = None
    if with_hint and row.api_key_secret_id:
        hint = vault.secret_hint(row.user_id, row.api_key_secret_id)
    return ProfileView(
        name=row.name,
        personality=row.personality,
        language=row.language,
        timezone=row.timezone,
        provider_kind=row.provider_kind,
        model=row.model,
        base_url=row.base_url,
        has_own_key=row.api_key_secret_id is not None,
        key_hint=hint or "",
    )


def get_profile(user_id: int) -> ProfileView:
    with session_scope() as s:
        return _view(_get_or_create(s, user_id))


def timezone_of(user_id: int) -> str:
    """The zone a page shows times in: one primary-key read, no vault (pages call it per load)."""
    with session_scope() as s:
        row = s.get(AgentProfile, user_id)
        return row.timezone if row and row.timezone else "UTC"


def update_persona(user_id: int, *, name: str, personality: str, language: str, timezone: str) -> ProfileView:
    clean_name = " ".join((name or "").split())
    if not clean_name or len(clean_name) > 60:
        raise ProfileError("Give your agent a name of 1 to 60 characters.")
    if len(personality or "") > MAX_PERSONALITY:
        raise ProfileError(f"Keep the personality under {MAX_PERSONALITY} characters.")
    clean_language = " ".join((language or "").split()) or "English"
    if len(clean_language) > 60:
        raise ProfileError("Name the language in at most 60 characters.")
    tz = validate_timezone(timezone)
    with session_scope() as s:
        row = _get_or_create(s, user_id)
        row.name, row.personality, row.language, row.timezone = (
            clean_name,
            (personality or "").strip(),
            clean_language,
            tz,
        )
        row.updated_at = utcnow()
        s.add(row)
    return get_profile(user_id)


def _validate_base_url(url: str) -> str:
    value = (url or "").strip().rstrip("/")
    if not value:
        return ""
    parsed = urlparse(value)
    if parsed.scheme not in {"http", "https"} or not parsed.netloc or len(value) > 300:
        raise ProfileError("The base URL must start with http:// or https://.")
    try:
        egress.check_base_url(value)
    except egress.PrivateAddressRefused as exc:
        raise ProfileError(str(exc)) from exc
    return value


def update_provider(
    user_id: int, *, kind: str, model: str = "", base_url: str = "", api_key: str | None = None
) -> ProfileView:
    """kind '' = platform default. api_key None or '' keeps the stored key while the kind stays
    the same. A key belongs to its provider: leaving that provider (for the platform default or
    another kind) deletes it from the vault. Fields that do not apply to `kind` are ignored."""
    if kind and kind not in PROVIDERS:
        raise ProfileError("Choose one of the listed AI providers.")
    clean_model = url = key = ""
    if kind:  # the platform default has no model, URL or key of the person's to check
        clean_model = (model or "").strip()
        if not clean_model:
            raise ProfileError("Name the model to use, for example gpt-4o-mini or claude-sonnet-4.")
        if len(clean_model) > 120:
            raise ProfileError("That model name is too long.")
        url = _validate_base_url(base_url)
        key = (api_key or "").strip()
        if key and (len(key) > 500 or any(c.isspace() for c in key)):
            raise ProfileError("That API key does not look right: no spaces, at most 500 characters.")
    with session_scope() as s:
        row = _get_or_create(s, user_id)
        old_kind, old_secret = row.provider_kind, row.api_key_secret_id
    keep = old_secret if kind and kind == old_kind else None
    if kind and not key and not keep and not url:
        raise ProfileError("Enter the API key for this provider.")
    secret_id = vault.put_secret(user_id, KEY_PURPOSE, key, secret_id=keep) if key else keep
    with session_scope() as s:
        row = _get_or_create(s, user_id)
        row.provider_kind, row.model, row.base_url = kind, clean_model, url
        row.api_key_secret_id = secret_id
        row.updated_at = utcnow()
        s.add(row)
    if old_secret and old_secret != secret_id:  # after the row no longer points at it
        vault.delete_secret(user_id, old_secret)
    return get_profile(user_id)


def remove_own_key(user_id: int) -> ProfileView:
    with session_scope() as s:
        row = _get_or_create(s, user_id)
        secret_id, row.api_key_secret_id = row.api_key_secret_id, None
        s.add(row)
    if secret_id:
        vault.delete_secret(user_id, secret_id)
    return get_profile(user_id)


def load_for_turn(session: Session, user_id: int) -> tuple[ProviderConfig, ProfileView]:
    """Provider and persona for one turn, in the caller's transaction: one query of plain
    columns (the profile and its key's vault record), no ORM objects."""
    found = core(session).execute(_FOR_TURN, {"u": user_id}).first()
    if found is None:
        row = _get_or_create(session, user_id)
        return _provider_config(session, row), _view(row, with_hint=False)
    row = AgentProfile(**dict(zip(_PROFILE_FIELDS, found[: len(_PROFILE_FIELDS)], strict=True)))
    secret = found[len(_PROFILE_FIELDS) :]
    key = None
    if row.api_key_secret_id and secret[0] is not None:
        if secret[0] != user_id:  # as vault.get_secret: another person's record is not found
            raise vault.VaultError("secret not found")
        key = vault.decrypt_fields(row.api_key_secret_id, *secret)
    return _provider_config(session, row, key), _view(row, with_hint=False)


def _provider_config(s: Session, row: AgentProfile, key: str | None = None) -> ProviderConfig:
    """`key`: the key already decrypted by the caller, if it read the vault record itself."""
    cfg = get_settings()
    kind, model, base_url, secret_id = row.provider_kind, row.model, row.base_url, row.api_key_secret_id
    if kind:
        if key is None:
            key = vault.read_secret(s, row.user_id, secret_id) if secret_id else ""
        if not key and not base_url:
            raise ProviderUnusable("Your AI provider needs an API key.")
        try:  # again at use: a name can be re-pointed after it was saved
            egress.check_base_url(base_url)
        except egress.PrivateAddressRefused as exc:
            raise ProviderUnusable(str(exc)) from exc
        return ProviderConfig(kind, base_url, key, model)  # "" base URL = the provider's own
    if cfg.default_provider and cfg.default_provider in PROVIDERS and cfg.default_model:
        return ProviderConfig(
            cfg.default_provider, cfg.default_base_url, cfg.default_api_key, cfg.default_model
        )
    raise NoProviderConfigured("No AI provider is set up yet.")
