"""The chat page: conversations on the left, the open conversation on the right."""

from __future__ import annotations

import reflex as rx

from vopix.components.ui import alert, confirm_action, empty_state, form, page_shell
from vopix.pages.chat_attachments import attach_button, pending_files
from vopix.pages.chat_message import copy_status, message, undo_toast
from vopix.pages.chat_shortcuts import shortcuts_button, shortcuts_dialog
from vopix.state.chat import ChatState
from vopix.state.session import SessionState

SUGGESTIONS = [
    "What can you do for me?",
    "Help me plan my week",
    "Summarize the README in my workspace",
]
FOCUS_COMPOSER = "document.getElementById('message')?.focus()"


def _conversation_item(c: rx.Var) -> rx.Component:
    # The list holds ids as strings; compare with the open id as a string too (=== in JS).
    is_open = c["id"] == ChatState.current_id.to_string()
    return rx.el.li(
        rx.el.button(
            c["title"],
            on_click=ChatState.open_conversation(c["id"]),
            type="button",
            class_name=rx.cond(is_open, "vx-conv vx-conv-active", "vx-conv"),
            aria_current=rx.cond(is_open, "true", "false"),
            title=c["title"],
        )
    )


def _snippet_part(p: rx.Var) -> rx.Component:
    # Text children only: markup in a message stays text; a match is a real <mark> element.
    return rx.cond(p["mark"] == "1", rx.el.mark(p["text"]), rx.el.span(p["text"]))


def _search_hit(h: rx.Var) -> rx.Component:
    return rx.el.li(
        rx.el.button(
            rx.el.strong(h["title"]),
            rx.el.span(h["time"], class_name="vx-hit-time"),
            rx.el.span(
                rx.foreach(h["parts"].to(list[dict[str, str]]), _snippet_part), class_name="vx-hit-snippet"
            ),
            on_click=ChatState.open_hit(h["conversation_id"], h["message_id"]),
            type="button",
            class_name="vx-conv vx-hit",
        )
    )


DRAWER_ID = "chat-drawer"


def _drawer_button() -> rx.Component:
    """Phones: the conversation list is a drawer (chat.js opens and closes it)."""
    return rx.el.button(
        "Conversations", type="button", id="chat-drawer-button", aria_expanded="false",
        aria_controls=DRAWER_ID, class_name="vx-button-quiet vx-drawer-open",
    )  # fmt: skip


def _sidebar() -> rx.Component:
    return rx.el.section(
        rx.el.div(
            rx.el.button(
                "Close", type="button", aria_label="Close conversations",
                class_name="vx-button-quiet vx-button-small vx-drawer-close",
            ),
            class_name="vx-drawer-head",
        ),
        rx.el.button(
            "New conversation", on_click=ChatState.new_conversation, type="button", class_name="vx-button",
            id="new-conversation",  # Alt+N (shortcuts.js)
        ),
        form(
            rx.el.label("Search messages", html_for="chat-search", class_name="vx-label"),
            rx.el.div(
                rx.el.input(
                    id="chat-search", name="query", type="search", class_name="vx-input",
                ),
                rx.el.button("Search", type="submit", class_name="vx-button-quiet"),
                class_name="vx-search-row",
            ),
            on_submit=ChatState.search,
            aria_label="Search messages",
            role="search",
            class_name="vx-search",
        ),
        rx.cond(
            ChatState.searched,
            rx.el.section(
                rx.el.h2("Search results", class_name="vx-h3"),
                rx.cond(
                    ChatState.search_results.length() == 0,
                    rx.el.p(
                        "No messages match. Try fewer or different words.",
                        role="status",
                        class_name="vx-muted",
                    ),
                ),
                rx.el.ul(
                    rx.foreach(ChatState.search_results, _search_hit),
                    class_name="vx-list",
                    aria_label="Search results",
                ),
                rx.el.button(
                    "Clear search",
                    on_click=ChatState.clear_search,
                    type="button",
                    class_name="vx-link-button",
                ),
            ),
        ),
        rx.el.h2("Conversations", class_name="vx-h3"),
        rx.cond(
            ChatState.conversations.length() == 0,
            empty_state(
                "No conversations yet",
                rx.el.p("Your first message starts one."),
                small=True,
            ),
        ),
        rx.el.ul(
            rx.foreach(ChatState.conversations, _conversation_item),
            class_name="vx-list",
            aria_label="Conversations",
        ),
        rx.cond(
            ChatState.conversations_more,
            rx.el.button(
                "More conversations",
                on_click=ChatState.more_conversations,
                type="button",
                class_name="vx-button-quiet",
            ),
        ),
        rx.cond(
            ChatState.conversations.length() > 0,
            rx.el.div(
                confirm_action(
                    asking=ChatState.confirm_delete_all,
                    trigger="Delete all conversations",
                    question="Delete every conversation and message? This cannot be undone.",
                    confirm="Yes, delete everything",
                    cancel="Keep them",
                    on_ask=ChatState.ask_delete_all(True),
                    on_confirm=ChatState.delete_all,
                    on_cancel=ChatState.ask_delete_all(False),
                    dialog_label="Confirm deleting all conversations",
                ),
                class_name="vx-sidebar-foot",
            ),
        ),
        id=DRAWER_ID,
        class_name="vx-sidebar",
        aria_label="Conversations and search",
    )


def _welcome() -> rx.Component:
    """The empty conversation: an invitation to write the first message."""
    return rx.el.div(
        rx.el.h2("Say hello to ", ChatState.agent_name),
        rx.el.p(
            "Ask anything. Your agent can read and write the files in your workspace, "
            "and you can reach it from Telegram and WhatsApp too, with this same history."
        ),
        rx.el.ul(
            *[
                rx.el.li(
                    rx.el.button(
                        text,
                        type="button",
                        on_click=[rx.set_value("message", text), rx.call_script(FOCUS_COMPOSER)],
                        class_name="vx-button-quiet",
                    )
                )
                for text in SUGGESTIONS
            ],
            class_name="vx-suggestions",
            aria_label="Suggestions",
        ),
        class_name="vx-welcome",
    )


def _conversation() -> rx.Component:
    header = rx.el.div(
        _drawer_button(),
        rx.cond(
            ChatState.current_id != 0,
            rx.fragment(
                form(
                    rx.el.label("Conversation title", html_for="conv-title", class_name="vx-label"),
                    rx.el.div(
                        rx.el.input(
                            id="conv-title",
                            name="title",
                            default_value=ChatState.current_title,
                            key=ChatState.current_id.to_string() + ChatState.current_title,
                            placeholder="Untitled conversation",
                            class_name="vx-input",
                        ),
                        rx.el.button("Rename", type="submit", class_name="vx-button-quiet"),
                        class_name="vx-title-row",
                    ),
                    on_submit=ChatState.rename,
                    aria_label="Rename conversation",
                    class_name="vx-field",
                ),
                confirm_action(
                    asking=ChatState.confirm_delete_conversation,
                    trigger="Delete conversation",
                    question="Delete this conversation for good?",
                    confirm="Yes, delete it",
                    cancel="Keep it",
                    on_ask=ChatState.ask_delete_conversation(True),
                    on_confirm=ChatState.delete_conversation,
                    on_cancel=ChatState.ask_delete_conversation(False),
                    dialog_label="Confirm deleting this conversation",
                ),
            ),
        ),
        class_name="vx-conv-head",
    )
    composer = form(
        pending_files(),
        rx.el.label("Message", html_for="message", class_name="vx-sr-only"),
        rx.el.textarea(
            id="message",
            name="message",
            rows=2,
            placeholder="Write to your agent…",
            enter_key_submit=True,
            auto_focus=True,
            aria_describedby="message-hint",
        ),
        rx.el.div(
            rx.el.p("Enter to send, Shift+Enter for a new line.", id="message-hint", class_name="vx-hint"),
            attach_button(),
            shortcuts_button(),
            rx.cond(
                ChatState.streaming,
                rx.el.button("Stop", on_click=ChatState.stop, type="button", class_name="vx-danger",
                             id="stop-reply"),  # Esc (shortcuts.js)
                rx.el.button("Send", type="submit", class_name="vx-button"),
            ),
            class_name="vx-composer-foot",
        ),
        on_submit=ChatState.send,
        aria_label="Send a message",
        class_name="vx-composer",
    )
    return rx.el.section(
        rx.el.h2("Current conversation", class_name="vx-sr-only"),
        header,
        rx.el.div(
            rx.cond(
                ChatState.older_more,
                rx.el.button(
                    "Load older messages", on_click=ChatState.load_older, type="button",
                    class_name="vx-button-quiet vx-button-small", custom_attrs={"data-autoload": "true"},
                ),
            ),
            rx.cond(ChatState.messages.length() == 0, _welcome()),
            rx.foreach(ChatState.messages, message),
            rx.cond(
                ChatState.newer_more,
                rx.el.button(
                    "Load newer messages", on_click=ChatState.load_newer, type="button",
                    class_name="vx-button-quiet vx-button-small vx-load-newer",
                    custom_attrs={"data-autoload": "newer"},
                ),
            ),
            class_name="vx-messages",
            role="log",
            aria_label="Messages",
            aria_live="polite",
            custom_attrs={
                "data-focus": ChatState.focus_id, "data-focus-seq": ChatState.focus_seq,
                # The open conversation, for the address (chat_url.js). Empty in a state that
                # has not served the person yet (compiled defaults, a state lost with Redis).
                "data-conversation": rx.cond(ChatState.logged_in, ChatState.current_id.to_string(), ""),
            },
        ),
        # Shown by chat.js when text arrives below a reader who scrolled up.
        rx.el.button(
            "Jump to latest", id="jump-latest", type="button", hidden=True,
            on_click=ChatState.show_latest,  # from a search hit's page: load the latest one
            class_name="vx-button-quiet vx-button-small vx-jump",
        ),
        rx.script(src="/chat.js"),
        rx.script(src="/chat_url.js"),
        alert(ChatState.error),
        undo_toast(),
        copy_status(),
        composer,
        class_name="vx-chat",
        aria_label="Conversation",
    )


def _notices() -> rx.Component:
    """One notice area above the chat; folded away it takes a single line, so stacked notices
    never push the composer below the fold."""
    listed = rx.foreach(
        ChatState.notices,
        lambda n: rx.el.div(
            rx.el.p(n["text"]),
            rx.cond(n["link"] != "", rx.el.a(n["label"], href=n["link"])),
            rx.el.button(
                "Dismiss",
                on_click=ChatState.dismiss_notice(n["id"]),
                type="button",
                class_name="vx-link-button",
                aria_label="Dismiss notice",
            ),
            role="status",
            class_name="vx-notice",
        ),
    )
    count = ChatState.notices.length()
    return rx.cond(
        count > 0,
        rx.el.section(
            rx.el.button(
                rx.cond(ChatState.notices_hidden, "Show notices (" + count.to_string() + ")", "Hide notices"),
                on_click=ChatState.toggle_notices,
                type="button",
                aria_expanded=rx.cond(ChatState.notices_hidden, "false", "true"),
                aria_controls="notice-list",
                class_name="vx-link-button vx-notices-toggle",
            ),
            rx.el.div(listed, id="notice-list", hidden=ChatState.notices_hidden, class_name="vx-notice-list"),
            aria_label="Notices",
            class_name="vx-notices",
        ),
    )


def chat_page() -> rx.Component:
    return page_shell(
        _notices(),
        rx.el.div(
            _sidebar(),
            rx.el.div(class_name="vx-drawer-backdrop", aria_hidden="true"),  # a click closes the drawer
            _conversation(),
            class_name="vx-chat-layout",
        ),
        shortcuts_dialog(),
        title="Chat",
        active="/chat",
        on_log_out=SessionState.log_out,
        email=SessionState.user_email,
        wide=True,
        fill=True,
    )
