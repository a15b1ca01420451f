"""The workspace page: storage used, adding files and folders, the tree, the text editor."""

from __future__ import annotations

import reflex as rx

from vopix.components.ui import alert, empty_state, field, form, markdown_code_block, page_shell
from vopix.pages.workspace_runs import scripts_and_runs
from vopix.state.session import SessionState
from vopix.state.workspace import FILE_NAME_ID, FOLDER_NAME_ID
from vopix.state.workspace import WorkspaceState as WS

UPLOAD_ID = "workspace-upload"


def _storage() -> rx.Component:
    return rx.el.section(
        rx.el.h2("Storage"),
        rx.el.div(
            rx.el.p(WS.storage_text, id="storage-used", class_name="vx-num"),
            rx.el.p(WS.limit_text, class_name="vx-muted"),
            class_name="vx-storage-figures",
        ),
        rx.el.progress(
            value=WS.storage_percent, max=100, class_name="vx-meter", aria_labelledby="storage-used"
        ),
        class_name="vx-card",
        aria_label="Storage",
    )


def _name_file_input(component: rx.Component, label: str) -> None:
    """Give the dropzone's hidden <input type=file> an accessible name (Reflex renders it with
    react-dropzone's props only); the visible Upload files button stays the way in."""
    for child in component.children:
        if getattr(child, "tag", None) == "input":
            child.custom_attrs["aria-label"] = label
        _name_file_input(child, label)


def _name_error(message: rx.Var, error_id: str) -> rx.Component:
    """A refused name, told inside the form that holds it (role=alert: read out at once)."""
    return rx.cond(
        message != "", rx.el.p(message, id=error_id, role="alert", class_name="vx-error vx-field-error")
    )


def _name_field(label: str | rx.Var, name: str, field_id: str, message: rx.Var, **props) -> rx.Component:
    error_id = f"{field_id}-error"
    return field(
        label, name, id=field_id, required=True, aria_describedby=error_id,
        aria_invalid=rx.cond(message != "", "true", "false"), **props,
    )  # fmt: skip


def _add() -> rx.Component:
    folder_select = rx.el.div(
        rx.el.label("Put new items in", html_for="target-folder", class_name="vx-label"),
        rx.el.select(
            rx.el.option("Top of the workspace", value=""),
            rx.foreach(WS.folders, lambda f: rx.el.option(f, value=f)),
            id="target-folder",
            value=WS.target_folder,
            on_change=WS.set_target_folder,
            class_name="vx-select",
        ),
        class_name="vx-field",
    )
    upload = rx.upload.root(
        rx.el.button("Upload files", type="button", class_name="vx-button", disabled=WS.uploading),
        rx.el.span("or drop files here", class_name="vx-muted"),
        id=UPLOAD_ID,
        multiple=True,
        on_drop=WS.upload(
            rx.upload_files_chunk(upload_id=UPLOAD_ID, on_upload_progress=WS.upload_progress)
        ),
        class_name="vx-dropzone",
    )
    _name_file_input(upload, "Choose files to upload")
    progress = rx.cond(
        WS.uploading,
        rx.el.div(
            rx.el.p("Uploading… ", WS.upload_percent.to(str), "%", role="status"),
            rx.el.progress(value=WS.upload_percent, max=100, class_name="vx-meter", aria_label="Upload"),
            class_name="vx-upload-progress",
        ),
    )
    # No reset on submit: a refused name stays in its field, to be corrected (the events empty
    # the field once the folder or file exists).
    new_folder = form(
        _name_field("New folder name", "folder_name", FOLDER_NAME_ID, WS.folder_error),
        rx.el.button("Create folder", type="submit", class_name="vx-button-quiet"),
        _name_error(WS.folder_error, f"{FOLDER_NAME_ID}-error"),
        on_submit=WS.create_folder,
        aria_label="New folder",
        class_name="vx-row vx-name-form",
    )
    new_file = form(
        _name_field("New file name", "file_name", FILE_NAME_ID, WS.file_error, placeholder="notes.md"),
        rx.el.button("Create file", type="submit", class_name="vx-button-quiet"),
        _name_error(WS.file_error, f"{FILE_NAME_ID}-error"),
        on_submit=WS.create_file,
        aria_label="New file",
        class_name="vx-row vx-name-form",
    )
    return rx.el.section(
        rx.el.h2("Add files"),
        rx.el.div(folder_select, upload, new_folder, new_file, progress, class_name="vx-add-grid"),
        class_name="vx-card",
        aria_label="Add files and folders",
    )


def _row(e: rx.Var) -> rx.Component:
    is_folder = e["kind"] == "folder"
    return rx.el.tr(
        rx.el.td(
            rx.cond(is_folder, rx.el.strong(e["name"], "/"), rx.el.span(e["name"])),
            class_name=e["indent"],
        ),
        rx.el.td(e["size"], class_name="vx-num"),
        rx.el.td(e["updated"], class_name="vx-num"),
        rx.el.td(
            rx.cond(
                e["editable"] == "yes",
                rx.el.button(
                    "Open", on_click=WS.open_file(e["path"]), type="button",
                    aria_label="Open " + e["path"].to(str), class_name="vx-button-quiet",
                    custom_attrs={"data-guard-edits": "true"},  # asks first (workspace.js)
                ),
            ),
            rx.el.a(
                "Download",
                href=e["download"],
                download="",
                # Reflex renders links as client-side router links: let the browser fetch this.
                reload_document=True,
                aria_label=rx.cond(is_folder, "Download " + e["path"].to(str) + " as zip",
                                   "Download " + e["path"].to(str)),
                class_name="vx-button-quiet",
            ),
            rx.el.button(
                "Rename", on_click=WS.start_rename(e["path"]), type="button",
                aria_label="Rename or move " + e["path"].to(str), class_name="vx-button-quiet",
            ),
            rx.el.button(
                "Delete", on_click=WS.ask_delete(e["path"]), type="button",
                aria_label="Delete " + e["path"].to(str), class_name="vx-button-quiet",
            ),
            class_name="vx-actions",
        ),
    )  # fmt: skip


def _files() -> rx.Component:
    rename = rx.cond(
        WS.renaming != "",
        form(
            _name_field(
                "New name or place for " + WS.renaming, "new_path", "rename-path", WS.rename_error,
                default_value=WS.renaming, key=WS.renaming,
            ),
            rx.el.button("Move", type="submit", class_name="vx-button"),
            rx.el.button("Cancel", type="button", on_click=WS.cancel_rename, class_name="vx-button-quiet"),
            _name_error(WS.rename_error, "rename-path-error"),
            on_submit=WS.rename,
            aria_label="Rename or move",
            class_name="vx-row vx-name-form",
        ),
    )  # fmt: skip
    confirm = rx.cond(
        WS.confirm_delete != "",
        rx.el.div(
            rx.el.p(
                "Delete “", WS.confirm_delete,
                rx.cond(WS.confirm_delete_folder, "” and everything in it?", "”?"), " This cannot be undone.",
            ),
            rx.el.div(
                rx.el.button(
                    "Yes, delete", on_click=WS.delete_confirmed, type="button", class_name="vx-danger"
                ),
                rx.el.button(
                    "Keep it", on_click=WS.cancel_delete, type="button", class_name="vx-button-quiet"
                ),
                class_name="vx-row",
            ),
            role="alertdialog",
            aria_label="Confirm delete",
            class_name="vx-confirm",
        ),
    )
    return rx.el.section(
        rx.el.div(
            rx.el.h2("Files"),
            rx.cond(
                WS.entries.length() > 0,
                rx.el.a(
                    "Download everything (zip)", href="/api/workspace/zip", download="",
                    reload_document=True, class_name="vx-button-quiet vx-button-small",
                ),
            ),
            class_name="vx-card-head",
        ),
        rename,
        confirm,
        rx.cond(
            WS.entries.length() > 0,
            rx.el.table(
                rx.el.thead(
                    rx.el.tr(
                        rx.el.th("Name", scope="col"), rx.el.th("Size", scope="col"),
                        rx.el.th("Modified (UTC)", scope="col"),
                        rx.el.th(rx.el.span("Actions", class_name="vx-sr-only"), scope="col"),
                    )
                ),
                rx.el.tbody(rx.foreach(WS.entries, _row)),
                class_name="vx-table vx-files",
                aria_label="Files",
            ),
            empty_state(
                "Your workspace is empty",
                rx.el.p("Upload files or create a note above. Your agent can read and write them here."),
            ),
        ),
        class_name="vx-card",
        aria_label="Files",
    )  # fmt: skip


def _editor() -> rx.Component:
    return rx.cond(
        WS.open_path != "",
        rx.el.section(
            rx.el.h2("Editing ", rx.el.code(WS.open_path)),
            form(
                rx.el.label("Content", html_for="editor-content", class_name="vx-label"),
                rx.el.textarea(
                    id="editor-content", name="content", default_value=WS.editor_text, key=WS.editor_key,
                    rows=18, spell_check=False, class_name="vx-textarea vx-editor",
                    # The preview follows the typing; the path names the file in "Discard your
                    # changes to …?" (workspace.js).
                    # The key names the file: a late draft of the file before is ignored.
                    on_change=lambda text: WS.set_draft(text, WS.editor_key).debounce(300),
                    custom_attrs={"data-path": WS.open_path},
                ),
                rx.el.div(
                    rx.el.button("Save", type="submit", class_name="vx-button"),
                    rx.cond(
                        WS.open_is_markdown,
                        rx.el.button(
                            rx.cond(WS.preview, "Hide preview", "Show preview"),
                            on_click=WS.toggle_preview, type="button", class_name="vx-button-quiet",
                        ),
                    ),
                    rx.el.button(
                        "Close", on_click=WS.close_editor, type="button", class_name="vx-button-quiet",
                        custom_attrs={"data-guard-edits": "true"},
                    ),
                    class_name="vx-row",
                ),
                alert(WS.editor_message, kind="ok"),
                alert(WS.editor_error),
                on_submit=WS.save_file,
                aria_label="Edit file",
            ),
            rx.cond(
                WS.preview & WS.open_is_markdown,
                rx.el.div(
                    rx.el.h3("Preview", class_name="vx-h3"),
                    # No raw HTML: a file the agent wrote must not be able to run script here.
                    rx.markdown(WS.draft_text, use_raw=False, use_math=False, use_katex=False,
                                component_map={"pre": markdown_code_block}),
                    class_name="vx-preview",
                    aria_label="Markdown preview",
                    role="region",
                ),
            ),
            class_name="vx-card",
            aria_label="Editor",
        ),
    )  # fmt: skip


def _discard_dialog() -> rx.Component:
    """Asked before unsaved edits are let go (opening another file, closing the editor, leaving
    the page): workspace.js opens it with showModal() and writes the file's name in."""
    return rx.el.dialog(
        rx.el.h2("Unsaved changes", id="discard-edits-title", class_name="vx-h3"),
        rx.el.p("Discard your changes?", id="discard-edits-question",
                custom_attrs={"data-discard-question": "true"}),
        rx.el.div(
            rx.el.button("Discard", type="button", class_name="vx-danger",
                         custom_attrs={"data-discard-confirm": "true"}),
            rx.el.button("Keep editing", type="button", class_name="vx-button-quiet",
                         custom_attrs={"data-discard-keep": "true"}),
            class_name="vx-row vx-dialog-foot",
        ),
        rx.script(src="/workspace.js"),
        id="discard-edits",
        role="alertdialog",
        aria_labelledby="discard-edits-title",
        aria_describedby="discard-edits-question",
        class_name="vx-dialog",
    )  # fmt: skip


def workspace_page() -> rx.Component:
    return page_shell(
        alert(WS.message, kind="ok"),
        alert(WS.error),
        rx.foreach(WS.upload_errors, lambda m: rx.el.p(m, role="alert", class_name="vx-error")),
        _storage(),
        _editor(),
        _add(),
        _files(),
        scripts_and_runs(),
        _discard_dialog(),
        title="Workspace",
        lead="Your agent's private files: skills it follows, documents it reads, notes it keeps "
        "(MEMORY.md), and scripts it can run for you in a sandbox.",
        active="/workspace",
        on_log_out=SessionState.log_out,
        email=SessionState.user_email,
        wide=True,
    )
