"""The Workspace page's Scripts and runs section: whether scripts can run here (and why not),
each script's "run without asking" mark, and the Runs list with each run's output."""

from __future__ import annotations

import reflex as rx

from vopix.components.ui import empty_state
from vopix.state.workspace import WorkspaceState as WS


def _script(s: rx.Var) -> rx.Component:
    marked = s["marked"] == "yes"
    return rx.el.tr(
        rx.el.td(rx.el.code(s["path"])),
        rx.el.td(
            rx.cond(
                marked, "Runs without asking",
                rx.cond(s["changed"] == "yes", "Changed since you marked it: asks first", "Asks first"),
            )
        ),
        rx.el.td(
            rx.el.button(
                rx.cond(marked, "Ask first", "Run without asking"),
                on_click=WS.toggle_mark(s["path"]), type="button", class_name="vx-button-quiet",
                aria_label=rx.cond(marked, "Ask before running ", "Run without asking: ") + s["path"].to(str),
                aria_pressed=rx.cond(marked, "true", "false"),
            ),
            class_name="vx-actions",
        ),
    )  # fmt: skip


def _run(r: rx.Var) -> rx.Component:
    return rx.el.li(
        rx.el.div(
            rx.el.strong(rx.el.code(r["script"]), rx.cond(r["args"] != "", rx.el.span(" ", r["args"]))),
            rx.el.span(r["status"], class_name="vx-badge"),
            rx.el.span(r["seconds"], class_name="vx-num vx-muted"),
            rx.el.span(r["when"], " · ", r["channel"], class_name="vx-num vx-muted"),
            class_name="vx-row",
        ),
        rx.cond(r["files"] != "", rx.el.p("Saved: ", r["files"], class_name="vx-muted")),
        rx.cond(r["notes"] != "", rx.el.p("Note: ", r["notes"], class_name="vx-muted")),
        rx.el.details(
            rx.el.summary("Output"),
            rx.cond(
                r["stdout"] != "",
                rx.el.pre(r["stdout"], class_name="vx-pre", aria_label="Output"),
                rx.el.p("It printed nothing.", class_name="vx-muted"),
            ),
            rx.cond(
                r["stderr"] != "",
                rx.el.div(
                    rx.el.p("Errors", class_name="vx-label"), rx.el.pre(r["stderr"], class_name="vx-pre"),
                ),
            ),
        ),
        class_name="vx-run",
        style={"padding": ".6rem 0", "border_top": "1px solid var(--vx-line)"},
        aria_label="Run of " + r["script"].to(str),
    )  # fmt: skip


def scripts_and_runs() -> rx.Component:
    return rx.el.section(
        rx.el.div(
            rx.el.h2("Scripts and runs"),
            rx.el.button(
                "Refresh", on_click=WS.reload, type="button", class_name="vx-button-quiet vx-button-small",
            ),
            class_name="vx-card-head",
        ),
        rx.cond(
            WS.sandbox_ready,
            rx.el.p(
                "Your agent can run the Python (.py) and shell (.sh) scripts in scripts/, in a sandbox "
                "with no network that sees only a copy of your files. It asks you first, unless you mark "
                "a script “Run without asking” (a changed script asks again). Files a run makes are "
                "saved under runs/.",
                class_name="vx-muted",
            ),
            rx.el.p(
                "Scripts cannot run on this server: ", WS.sandbox_reason,
                ". Your agent does not offer to run them, and nothing ever runs outside the sandbox.",
                role="status", class_name="vx-error", id="sandbox-unavailable",
            ),
        ),
        rx.cond(
            WS.scripts.length() > 0,
            rx.el.table(
                rx.el.thead(rx.el.tr(
                    rx.el.th("Script", scope="col"), rx.el.th("When your agent runs it", scope="col"),
                    rx.el.th(rx.el.span("Actions", class_name="vx-sr-only"), scope="col"),
                )),
                rx.el.tbody(rx.foreach(WS.scripts, _script)),
                class_name="vx-table", aria_label="Scripts",
            ),
            rx.el.p("No scripts yet: put .py or .sh files in a scripts/ folder.", class_name="vx-muted"),
        ),
        rx.el.h3("Runs", class_name="vx-h3"),
        rx.cond(
            WS.run_rows.length() > 0,
            rx.el.ul(rx.foreach(WS.run_rows, _run), class_name="vx-list vx-runs", aria_label="Runs"),
            empty_state("No runs yet", rx.el.p("Ask your agent to run a script."), small=True),
        ),
        class_name="vx-card",
        aria_label="Scripts and runs",
        id="runs",
    )  # fmt: skip
