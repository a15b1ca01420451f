"""Agent settings: persona, language, time zone, AI provider and the person's own key."""

from __future__ import annotations

import asyncio

import reflex as rx

from vopix.core.agent import profile
from vopix.core.providers import list_provider_kinds
from vopix.state.session import REFRESH_SCRIPT, Reply, SessionState, for_user

PLATFORM_DEFAULT = "platform"


class AgentSettingsState(SessionState):
    name: str = ""
    personality: str = ""
    language: str = ""
    timezone: str = ""
    provider_kind: str = PLATFORM_DEFAULT
    model: str = ""
    base_url: str = ""
    has_own_key: bool = False
    key_hint: str = ""
    persona_message: str = ""
    persona_error: str = ""
    provider_message: str = ""
    provider_error: str = ""
    form_key: int = 0  # bumps to re-mount uncontrolled inputs with fresh defaults
    loaded: bool = False

    @rx.var
    def provider_options(self) -> list[list[str]]:
        return [[PLATFORM_DEFAULT, "Platform default"]] + [
            [kind, label] for kind, label, _ in list_provider_kinds()
        ]

    @rx.var
    def uses_own_provider(self) -> bool:
        return self.provider_kind != PLATFORM_DEFAULT

    def _show(self, view: profile.ProfileView) -> None:
        self.name, self.personality, self.language = view.name, view.personality, view.language
        self.timezone = view.timezone
        self.provider_kind = view.provider_kind or PLATFORM_DEFAULT
        self.model, self.base_url = view.model, view.base_url
        self.has_own_key, self.key_hint = view.has_own_key, view.key_hint
        self.form_key += 1

    @rx.event
    @for_user
    async def load(self, user_id: int) -> Reply:
        view = await asyncio.to_thread(profile.get_profile, user_id)
        self._show(view)
        self.loaded = True
        self.persona_message = self.persona_error = self.provider_message = self.provider_error = ""
        # A new agent starts on the browser's time zone, until the person saves another.
        return [
            rx.call_script(REFRESH_SCRIPT),
            rx.call_script(
                "Intl.DateTimeFormat().resolvedOptions().timeZone",
                callback=AgentSettingsState.browser_timezone,
            ),
        ]

    @rx.event
    def browser_timezone(self, tz: str) -> Reply:
        if self.timezone == "UTC" and isinstance(tz, str) and tz and tz != "UTC":
            try:
                self.timezone = profile.validate_timezone(tz)
            except profile.ProfileError:
                return None
            # Fill the field in place: re-mounting the form would wipe what is being typed.
            return rx.set_value("timezone", self.timezone)
        return None

    @rx.event
    def use_preset(self, text: str) -> None:
        self.personality = text
        self.form_key += 1

    @rx.event
    def choose_provider(self, kind: str) -> None:
        self.provider_kind = kind

    @rx.event
    @for_user
    async def save_persona(self, user_id: int, form: dict) -> None:
        self.persona_message = self.persona_error = ""
        try:
            view = await asyncio.to_thread(
                profile.update_persona,
                user_id,
                name=str(form.get("name", "")),
                personality=str(form.get("personality", "")),
                language=str(form.get("language", "")),
                timezone=str(form.get("timezone", "")),
            )
        except profile.ProfileError as exc:
            self.persona_error = str(exc)
            return None
        self._show(view)
        self.persona_message = f"Saved. {view.name} will use these settings from the next message."
        return None

    @rx.event
    @for_user
    async def save_provider(self, user_id: int, form: dict) -> None:
        self.provider_message = self.provider_error = ""
        kind = str(form.get("provider", PLATFORM_DEFAULT))
        kind = "" if kind == PLATFORM_DEFAULT else kind
        try:
            view = await asyncio.to_thread(
                profile.update_provider,
                user_id,
                kind=kind,
                model=str(form.get("model", "")),
                base_url=str(form.get("base_url", "")),
                api_key=str(form.get("api_key", "")) or None,
            )
        except profile.ProfileError as exc:
            self.provider_error = str(exc)
            return None
        self._show(view)
        self.provider_message = "AI provider saved."
        return None

    @rx.event
    @for_user
    async def remove_key(self, user_id: int) -> None:
        self._show(await asyncio.to_thread(profile.remove_own_key, user_id))
        self.provider_message = "Your API key was deleted."
        return None
