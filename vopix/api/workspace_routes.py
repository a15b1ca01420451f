"""Workspace downloads: a file, or a folder as a zip, streamed to its owner only.

The person is known only from the HttpOnly session cookie; the path is looked up in that
person's workspace, so another person's file is simply "not found". Content always comes as
an attachment that the browser must not sniff or render, and is never cached by a proxy.
"""

from __future__ import annotations

import asyncio
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse

from vopix.api.http import session_user_id
from vopix.core.workspace import archive, store
from vopix.core.workspace.base import NotFound, WorkspaceError

# Types a browser could execute or render as a page are sent as plain bytes.
_ACTIVE_TYPES = ("html", "xml", "svg", "javascript", "ecmascript", "xhtml", "x-sh", "python")


def attachment(filename: str) -> str:
    """Content-Disposition per RFC 6266: an ASCII fallback plus the UTF-8 name in filename*."""
    fallback = "".join(c if 32 <= ord(c) < 127 and c not in '"\\;' else "_" for c in filename) or "download"
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"


def _headers(filename: str) -> dict[str, str]:
    return {
        "Content-Disposition": attachment(filename),
        "X-Content-Type-Options": "nosniff",
        "Cache-Control": "private, no-store",
        # Should the file be opened in a tab anyway, it gets no scripts and no origin.
        "Content-Security-Policy": "default-src 'none'; sandbox",
    }


def _media_type(content_type: str, is_text: bool) -> str:
    if any(word in content_type for word in _ACTIVE_TYPES) or not content_type:
        return "application/octet-stream"
    return f"{content_type}; charset=utf-8" if is_text and content_type.startswith("text/") else content_type


def _error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status, headers={"Cache-Control": "no-store"})


async def download_file(request: Request) -> Response:
    user_id = await session_user_id(request)
    if user_id is None:
        return _error(401, "Log in to download your files.")
    try:
        view, chunks = await asyncio.to_thread(store.open_file, user_id, request.query_params.get("path", ""))
    except NotFound as exc:
        return _error(404, str(exc))
    except WorkspaceError as exc:
        return _error(400, str(exc))
    headers = {**_headers(view.name), "Content-Length": str(view.size)}
    # A sync iterator: Starlette pulls each chunk in a worker thread, one at a time.
    return StreamingResponse(chunks, media_type=_media_type(view.content_type, view.is_text), headers=headers)


async def download_zip(request: Request) -> Response:
    user_id = await session_user_id(request)
    if user_id is None:
        return _error(401, "Log in to download your files.")
    folder = request.query_params.get("path", "")
    try:
        body = await asyncio.to_thread(archive.iter_zip, user_id, folder)
        name = archive.zip_name(await asyncio.to_thread(_folder_name, user_id, folder))
    except NotFound as exc:
        return _error(404, str(exc))
    except WorkspaceError as exc:
        return _error(400, str(exc))
    return StreamingResponse(body, media_type="application/zip", headers=_headers(name))


def _folder_name(user_id: int, folder: str) -> str:
    return store.stat(user_id, folder).path if folder else ""
