"""Agent settings: persona, language, time zone, AI provider and the person's own key."""

from __future__ import annotations

import asyncio

import reflex as rx

from vopix.core.agent import profile
from vopix.core.providers import list_provider_kinds, provider_kind
from vopix.state.session import REFRESH_SCRIPT, Reply, SessionState, for_user

PLATFORM_DEFAULT = "platform"


def _text(form: dict, name: str) -> str:
    """A form field's text. A field hidden for the chosen provider arrives as None (the form
    still lists it), which means empty, never the text "None"."""
    value = form.get(name)
    return value if isinstance(value, str) else ""


class AgentSettingsState(SessionState):
    name: str = ""
    personality: str = ""
    language: str = ""
    timezone: str = ""
    provider_kind: str = PLATFORM_DEFAULT  # chosen in the form, maybe not saved yet
    saved_kind: str = PLATFORM_DEFAULT  # the one the saved key (if any) belongs to
    model: str = ""
    base_url: str = ""
    has_own_key: bool = False
    key_hint: str = ""
    persona_message: str = ""
    persona_error: str = ""
    provider_message: str = ""
    provider_error: str = ""
    # Bump to re-mount a form's uncontrolled inputs with fresh defaults; one per form, so
    # saving one never discards what is typed in the other.
    persona_key: int = 0
    provider_key: int = 0
    loaded: bool = False

    @rx.var
    def provider_options(self) -> list[list[str]]:
        return [[PLATFORM_DEFAULT, "Platform default"]] + [
            [kind, label] for kind, label, _ in list_provider_kinds()
        ]

    @rx.var
    def model_placeholder(self) -> str:
        kind = provider_kind(self.provider_kind)
        return kind.example_model if kind else ""

    @rx.var
    def base_url_placeholder(self) -> str:
        kind = provider_kind(self.provider_kind)
        return kind.default_base_url if kind else ""

    @rx.var
    def base_url_hint(self) -> str:
        kind = provider_kind(self.provider_kind)
        return kind.base_url_hint if kind else ""

    @rx.var
    def uses_own_provider(self) -> bool:
        return self.provider_kind != PLATFORM_DEFAULT

    @rx.var
    def key_is_for_chosen(self) -> bool:
        """The saved key belongs to the provider chosen now (a key is never sent elsewhere)."""
        return self.has_own_key and self.provider_kind == self.saved_kind

    @rx.var
    def key_will_be_deleted(self) -> bool:
        return self.has_own_key and self.provider_kind != self.saved_kind

    def _show(self, view: profile.ProfileView, *, persona: bool = True, provider: bool = True) -> None:
        """Show the saved settings in the forms named; the others keep what is typed in them."""
        if persona:
            self.name, self.personality, self.language = view.name, view.personality, view.language
            self.timezone = view.timezone
            self.persona_key += 1
        if provider:
            self.provider_kind = view.provider_kind or PLATFORM_DEFAULT
            self.model, self.base_url = view.model, view.base_url
            self.provider_key += 1
        self.saved_kind = view.provider_kind or PLATFORM_DEFAULT
        self.has_own_key, self.key_hint = view.has_own_key, view.key_hint

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
        self._show(view, provider=False)
        self.persona_message = f"Saved. {view.name} will use these settings from the next message."
        return None

    @rx.event
    @for_user
    async def save_provider(self, user_id: int, form: dict) -> None:
        self.provider_message = self.provider_error = ""
        # The choice as the state holds it: the select's change reached the server before this
        # submit (events run in order), while the form's own field may still show the old
        # value (a controlled select waits for the server's answer to show the new one).
        kind = "" if self.provider_kind == PLATFORM_DEFAULT else self.provider_kind
        try:
            view = await asyncio.to_thread(
                profile.update_provider,
                user_id,
                kind=kind,
                model=_text(form, "model"),
                base_url=_text(form, "base_url"),
                api_key=_text(form, "api_key") or None,
            )
        except profile.ProfileError as exc:
            self.provider_error = str(exc)
            return None
        self._show(view, persona=False)
        label = dict(self.provider_options).get(self.saved_kind, self.saved_kind)
        self.provider_message = f"AI provider saved: {label}."
        return None

    @rx.event
    @for_user
    async def remove_key(self, user_id: int) -> None:
        view = await asyncio.to_thread(profile.remove_own_key, user_id)
        # Only the key changed: what is typed in either form stays.
        self.has_own_key, self.key_hint = view.has_own_key, view.key_hint
        self.provider_message = "Your API key was deleted."
        return None
