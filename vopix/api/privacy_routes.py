"""The export download: the ZIP of a person's export, to its owner only, for 7 days.

The person is known only from the HttpOnly session cookie. Another person's export id is "not
found" (nothing says it exists); an expired, deleted, failed or unfinished export gets a sentence
saying so. The file is streamed from disk in chunks (FileResponse), never read whole.
"""

from __future__ import annotations

import asyncio

from starlette.requests import Request
from starlette.responses import FileResponse, PlainTextResponse, Response

from vopix.api.http import session_user_id
from vopix.api.workspace_routes import attachment
from vopix.core.privacy import export

_NO_STORE = {"Cache-Control": "private, no-store", "X-Content-Type-Options": "nosniff"}


def _text(status: int, message: str) -> PlainTextResponse:
    return PlainTextResponse(message + "\n", status_code=status, headers=_NO_STORE)


async def download_export(request: Request) -> Response:
    user_id = await session_user_id(request)
    if user_id is None:
        return _text(401, "Log in to download your export.")
    try:
        export_id = int(request.path_params["export_id"])
    except (KeyError, ValueError):
        return _text(404, "There is no such export.")
    try:
        path, view = await asyncio.to_thread(export.download_path, user_id, export_id)
    except export.ExportNotFound as exc:
        return _text(404, str(exc))
    except export.ExportGone as exc:
        return _text(410, str(exc))
    except export.ExportUnavailable as exc:  # not ready yet, or failed
        return _text(409, str(exc))
    headers = {
        **_NO_STORE,
        "Content-Disposition": attachment(export.download_name(view)),
        "Content-Security-Policy": "default-src 'none'; sandbox",
    }
    return FileResponse(path, media_type="application/zip", headers=headers)

