"""The agent's workspace tools. Each acts for ctx.user_id only, through the same store the web
page uses; refusals come back as plain sentences the model can relay."""

from __future__ import annotations

import codecs
from collections.abc import Callable, Iterator
from typing import Any

from vopix.core.agent.tools import Tool, ToolContext, ToolFailed, register_tool
from vopix.core.workspace import search, skills, store
from vopix.core.workspace.base import WorkspaceError, human_size

READ_MAX_LINES = 400
READ_MAX_CHARS = 12_000
LIST_MAX = 300
SKILL_MAX_CHARS = 15_000


def _guard(fn: Callable[[ToolContext, dict[str, Any]], str]) -> Callable[[ToolContext, dict[str, Any]], str]:
    def run(ctx: ToolContext, args: dict[str, Any]) -> str:
        try:
            return fn(ctx, args)
        except WorkspaceError as exc:
            raise ToolFailed(str(exc)) from exc

    return run


def _str(args: dict[str, Any], key: str, default: str | None = None) -> str:
    value = args.get(key, default)
    if value is None:
        raise ToolFailed(f"“{key}” is required.")
    if not isinstance(value, str):
        raise ToolFailed(f"“{key}” must be text.")
    return value


def _int(args: dict[str, Any], key: str, default: int, low: int, high: int) -> int:
    try:
        return max(low, min(high, int(args.get(key, default))))
    except (TypeError, ValueError):
        raise ToolFailed(f"“{key}” must be a whole number.") from None


def _storage_line(user_id: int) -> str:
    u = store.usage(user_id)
    limit = f" of {human_size(u.limit_bytes)}" if u.limit_bytes else ""
    return f"Workspace storage: {human_size(u.bytes_used)}{limit} used."


def list_files(ctx: ToolContext, args: dict[str, Any]) -> str:
    folder = _str(args, "folder", "")
    entries = store.list_entries(ctx.user_id, folder, recursive=bool(args.get("recursive", True)))
    # Times are UTC.
    if not entries:
        return f"“{folder}” is empty." if folder else "The workspace is empty."
    lines = [
        f"{e.path}/" if e.is_folder else f"{e.path}  ({human_size(e.size)}, {e.updated_at:%Y-%m-%d %H:%M})"
        for e in entries[:LIST_MAX]
    ]
    if len(entries) > LIST_MAX:
        lines.append(f"… and {len(entries) - LIST_MAX} more; list a folder to see its files.")
    return "\n".join(lines)


def _lines(chunks: Iterator[bytes]) -> Iterator[str]:
    """Decoded lines of a file, read chunk by chunk; a line longer than a page is cut into
    page-sized pieces so one huge line cannot fill memory."""
    decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
    pending = ""
    for chunk in chunks:
        pending += decoder.decode(chunk)
        *lines, pending = pending.split("\n")
        yield from lines
        while len(pending) > READ_MAX_CHARS:
            yield pending[:READ_MAX_CHARS]
            pending = pending[READ_MAX_CHARS:]
    pending += decoder.decode(b"", final=True)
    if pending:
        yield pending


def read_file(ctx: ToolContext, args: dict[str, Any]) -> str:
    path = _str(args, "path")
    start = _int(args, "start_line", 1, 1, 10**9)
    max_lines = _int(args, "max_lines", 200, 1, READ_MAX_LINES)
    view, chunks = store.open_file(ctx.user_id, path)
    if not view.is_text:
        return (
            f"“{view.path}” is not a text file ({view.content_type}, {human_size(view.size)}); "
            "it cannot be shown as text."
        )
    page: list[str] = []
    used, line_no, more = 0, 0, False
    for line in _lines(chunks):
        line_no += 1
        if line_no < start:
            continue
        if len(page) >= max_lines or used + len(line) > READ_MAX_CHARS:
            more = True
            break
        page.append(line)
        used += len(line) + 1
    if not page:
        return f"“{view.path}” is empty." if line_no == 0 else f"“{view.path}” has only {line_no} lines."
    end = start + len(page) - 1
    head = f"{view.path} ({human_size(view.size)}), lines {start}-{end}:"
    tail = f"\n[More follows: call read_file with start_line={end + 1}.]" if more else "\n[End of file.]"
    return head + "\n" + "\n".join(page) + tail


def search_files(ctx: ToolContext, args: dict[str, Any]) -> str:
    query = _str(args, "query")
    hits = search.search(ctx.user_id, query, limit=_int(args, "limit", 20, 1, 50))
    if not hits:
        return f"No file mentions “{query}”."
    return "\n".join(f"{h.path}: {h.snippet}" if h.snippet else f"{h.path} (name matches)" for h in hits)


def write_file(ctx: ToolContext, args: dict[str, Any]) -> str:
    view = store.write_text(ctx.user_id, _str(args, "path"), _str(args, "content"))
    return f"Wrote {view.path} ({human_size(view.size)}). {_storage_line(ctx.user_id)}"


def append_file(ctx: ToolContext, args: dict[str, Any]) -> str:
    view = store.append_text(ctx.user_id, _str(args, "path"), _str(args, "content"), own_line=True)
    return f"Added to {view.path} (now {human_size(view.size)}). {_storage_line(ctx.user_id)}"


def move_file(ctx: ToolContext, args: dict[str, Any]) -> str:
    view = store.move(ctx.user_id, _str(args, "path"), _str(args, "new_path"))
    return f"Moved to {view.path}."


def delete_file(ctx: ToolContext, args: dict[str, Any]) -> str:
    if not ctx.confirmed:  # the runtime only calls this after the person pressed Confirm
        raise ToolFailed("Deleting needs the person's confirmation. Nothing was deleted.")
    path = _str(args, "path")
    files, freed = store.delete(ctx.user_id, path)
    return (
        f"Deleted {path} ({files} file{'s' if files != 1 else ''}, {human_size(freed)} freed). "
        f"{_storage_line(ctx.user_id)}"
    )


def load_skill(ctx: ToolContext, args: dict[str, Any]) -> str:
    name = _str(args, "name")
    skill = skills.find_skill(ctx.user_id, name)
    if skill is None:
        known = ", ".join(s.name for s in skills.list_skills(ctx.user_id)) or "none"
        return f"There is no skill named “{name}”. Skills: {known}."
    _, text = store.read_text(ctx.user_id, skill.path, max_bytes=skills.SKILL_MAX_BYTES)
    if len(text) > SKILL_MAX_CHARS:
        text = text[:SKILL_MAX_CHARS] + "\n[Cut here: read the rest with read_file.]"
    others = [e.path for e in store.list_entries(ctx.user_id, skill.folder) if e.path != skill.path]
    extra = f"\n\nOther files of this skill (read them with read_file): {', '.join(others)}" if others else ""
    return f"Skill “{skill.name}” ({skill.path}):\n\n{text}{extra}"


# How each call reads for the person in the chat ("Delete README.md"), next to its tool.
def _arg(args: dict[str, Any], key: str) -> str:
    return " ".join(str(args.get(key) or "").split())


def _describe_list(args: dict[str, Any]) -> str:
    folder = _arg(args, "folder")
    return f"List the files in {folder}" if folder else "List the files in the workspace"


def _describe_read(args: dict[str, Any]) -> str:
    start = args.get("start_line")
    where = f" from line {start}" if isinstance(start, int) and start > 1 else ""
    return f"Read {_arg(args, 'path')}{where}"


def _obj(props: dict[str, Any], required: list[str]) -> dict[str, Any]:
    return {"type": "object", "properties": props, "required": required}


_PATH = {"type": "string", "description": "Path inside the workspace, e.g. notes/ideas.md"}

TOOLS = [
    Tool("list_files", "List files and folders in the workspace (or in one folder).", _obj({
        "folder": {"type": "string", "description": "Folder to list; empty for the whole workspace."},
        "recursive": {"type": "boolean", "description": "Include sub-folders (default true)."},
    }, []), _guard(list_files), describe=_describe_list),
    Tool("read_file", "Read a text file, a page of lines at a time.", _obj({
        "path": _PATH,
        "start_line": {"type": "integer", "description": "First line to read (1-based, default 1)."},
        "max_lines": {"type": "integer", "description": f"Lines (default 200, max {READ_MAX_LINES})."},
    }, ["path"]), _guard(read_file), describe=_describe_read),
    Tool("search_files", "Full-text search of the workspace's text files (and file names).", _obj({
        "query": {"type": "string", "description": "Words to look for."},
        "limit": {"type": "integer", "description": "Most results (default 20)."},
    }, ["query"]), _guard(search_files),
         describe=lambda a: f"Search the files for “{_arg(a, 'query')}”"),
    Tool("write_file", "Create or replace a text file (folders are made as needed).", _obj({
        "path": _PATH, "content": {"type": "string", "description": "The whole new content."},
    }, ["path", "content"]), _guard(write_file), describe=lambda a: f"Write {_arg(a, 'path')}"),
    Tool("append_file", "Add text to the end of a text file (made if missing), e.g. a note in MEMORY.md.",
         _obj({"path": _PATH, "content": {"type": "string", "description": "Text to add."}},
              ["path", "content"]), _guard(append_file), describe=lambda a: f"Add to {_arg(a, 'path')}"),
    Tool("move_file", "Rename or move a file or folder.", _obj({
        "path": _PATH, "new_path": {"type": "string", "description": "Where it should be."},
    }, ["path", "new_path"]), _guard(move_file),
         describe=lambda a: f"Move {_arg(a, 'path')} to {_arg(a, 'new_path')}"),
    Tool("delete_file", "Delete a file or a folder with everything in it. The person must confirm.",
         _obj({"path": _PATH}, ["path"]), _guard(delete_file), needs_confirmation=True,
         describe=lambda a: f"Delete {_arg(a, 'path')}"),
    Tool("load_skill", "Load the full instructions of a skill listed in your prompt.", _obj({
        "name": {"type": "string", "description": "The skill's name as listed."},
    }, ["name"]), _guard(load_skill), describe=lambda a: f"Use the skill “{_arg(a, 'name')}”"),
]  # fmt: skip


def register() -> None:
    for tool in TOOLS:
        register_tool(tool)
