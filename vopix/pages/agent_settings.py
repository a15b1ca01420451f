"""Agent settings page."""

from __future__ import annotations

import reflex as rx

from vopix.components.ui import alert, field, form, page_shell, submit
from vopix.core.agent.profile import PERSONALITY_PRESETS, timezone_names
from vopix.state.agent_settings import AgentSettingsState as S
from vopix.state.session import SessionState


def _persona_form() -> rx.Component:
    return rx.el.section(
        rx.el.h2("Persona"),
        form(
            field("Agent name", "name", default_value=S.name, required=True, max_length=60),
            rx.el.div(
                rx.el.span("Start from a preset:", class_name="vx-hint"),
                *[
                    # In the browser only: a round trip would re-mount the form and lose edits.
                    rx.el.button(
                        label,
                        type="button",
                        on_click=rx.set_value("personality", text),
                        class_name="vx-button-quiet",
                    )
                    for label, text in PERSONALITY_PRESETS.items()
                ],
                class_name="vx-presets",
            ),
            rx.el.div(
                rx.el.label("Personality", html_for="personality", class_name="vx-label"),
                rx.el.textarea(
                    id="personality",
                    name="personality",
                    default_value=S.personality,
                    rows=4,
                    class_name="vx-textarea",
                    max_length=4000,
                    placeholder="How your agent talks and what it cares about",
                    aria_describedby="personality-hint",
                ),
                rx.el.p(
                    "A few sentences are enough. A preset above fills this in for you to edit.",
                    id="personality-hint",
                    class_name="vx-hint",
                ),
                class_name="vx-field",
            ),
            rx.el.div(
                field("Preferred language", "language", default_value=S.language, placeholder="English"),
                field(
                    "Time zone",
                    "timezone",
                    default_value=S.timezone,
                    list="vx-timezones",
                    placeholder="Europe/Paris",
                    hint="An IANA name such as Europe/Paris or America/New_York.",
                ),
                class_name="vx-row vx-row-top",
            ),
            alert(S.persona_error),
            alert(S.persona_message, kind="ok"),
            submit("Save persona"),
            key=S.persona_key,
            on_submit=S.save_persona,
            aria_label="Persona",
        ),
        class_name="vx-card",
    )


def _provider_form() -> rx.Component:
    return rx.el.section(
        rx.el.h2("AI provider"),
        rx.el.p(
            "Your messages go only to the provider chosen here, to generate replies. "
            "They are never used to train models.",
            class_name="vx-muted",
        ),
        form(
            rx.el.div(
                rx.el.label("Provider", html_for="provider", class_name="vx-label"),
                rx.el.select(
                    rx.foreach(S.provider_options, lambda o: rx.el.option(o[1], value=o[0])),
                    id="provider",
                    name="provider",
                    # Controlled: it shows the state's choice, which a load that answers
                    # late cannot undo. (Saving reads the choice from the state, not from
                    # the form: the select snaps back until the server answers a change.)
                    value=S.provider_kind,
                    on_change=S.choose_provider,
                    class_name="vx-select",
                ),
                class_name="vx-field",
            ),
            rx.cond(
                S.uses_own_provider,
                rx.el.div(
                    field("Model", "model", default_value=S.model, placeholder=S.model_placeholder),
                    field(
                        "Base URL (optional)",
                        "base_url",
                        id="base-url",
                        default_value=S.base_url,
                        placeholder=S.base_url_placeholder,
                        hint=S.base_url_hint,  # follows the provider chosen
                    ),
                    field(
                        rx.cond(S.key_is_for_chosen, "Replace API key", "API key"),
                        "api_key",
                        id="api-key",
                        type_="password",
                        autocomplete="off",
                    ),
                    rx.cond(
                        S.key_is_for_chosen,
                        rx.el.div(
                            rx.el.p(
                                "A key ending in ",
                                rx.el.code(S.key_hint),
                                " is saved (encrypted).",
                                class_name="vx-muted",
                            ),
                            rx.el.button(
                                "Remove key",
                                type="button",
                                on_click=S.remove_key,
                                class_name="vx-button-quiet vx-button-small vx-button-danger-quiet",
                            ),
                            class_name="vx-key-saved",
                        ),
                    ),
                ),
                rx.el.p("Your agent uses the platform's provider.", class_name="vx-muted"),
            ),
            rx.cond(
                S.key_will_be_deleted,
                rx.el.p(
                    "Saving deletes your saved API key (ending in ",
                    rx.el.code(S.key_hint),
                    ") from the vault: it belongs to the provider you are leaving.",
                    class_name="vx-hint",
                ),
            ),
            alert(S.provider_error),
            alert(S.provider_message, kind="ok"),
            submit("Save provider"),
            key=S.provider_key,
            on_submit=S.save_provider,
            aria_label="AI provider",
        ),
        class_name="vx-card",
    )


def agent_settings_page() -> rx.Component:
    return page_shell(
        rx.cond(
            S.loaded,
            rx.fragment(_persona_form(), _provider_form()),
            rx.el.p("Loading your agent…", class_name="vx-muted", role="status"),
        ),
        rx.el.datalist(*[rx.el.option(value=tz) for tz in sorted(timezone_names())], id="vx-timezones"),
        title="Agent settings",
        lead="Shape who your agent is and which AI it thinks with.",
        active="/settings",
        on_log_out=SessionState.log_out,
        email=SessionState.user_email,
    )
