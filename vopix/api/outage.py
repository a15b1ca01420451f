"""A database outage answers 503 with Retry-After, never a 500 (issue 15, fault 3).

While PostgreSQL restarts (or SQLite's file cannot be opened) our routes raise the driver's
connection errors. The client (Telegram, Stripe, WhatsApp, a browser) should come back
shortly, and a 503 with Retry-After says exactly that; a 500 says "bug" and, for some
senders, "give up". The body is a short plain sentence: the exception's text (host names,
the driver's message) stays in the log, never in the answer.

Only connection-level failures are mapped. A statement that is simply wrong (no such table,
a constraint) is still a 500: retrying would not help and hiding it would hide the bug.
"""

from __future__ import annotations

import logging

import psycopg
from sqlalchemy import exc as sa_exc
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response

log = logging.getLogger("vopix.api.outage")
RETRY_AFTER_SECONDS = 5
BODY = "The service is briefly unavailable (database). Please retry in a few seconds.\n"
# SQLite's transient or "cannot reach the file" messages; anything else SQLite raises as
# OperationalError (no such table, syntax) is a bug, not an outage.
_SQLITE_OUTAGE = ("unable to open database file", "database is locked", "disk i/o error")


def is_database_outage(error: BaseException) -> bool:
    """True when the error means the database cannot be reached right now."""
    if isinstance(error, sa_exc.DBAPIError):
        if error.connection_invalidated:
            return True
        orig = error.orig
        if isinstance(orig, psycopg.Error):
            return isinstance(orig, psycopg.OperationalError | psycopg.InterfaceError)
        if isinstance(error, sa_exc.OperationalError):
            return any(m in str(orig).lower() for m in _SQLITE_OUTAGE)
        return False
    if isinstance(error, sa_exc.TimeoutError | sa_exc.DisconnectionError):
        return True  # the pool waited in vain for a connection
    return isinstance(error, psycopg.OperationalError | psycopg.InterfaceError)  # raw psycopg use


def unavailable() -> Response:
    return PlainTextResponse(BODY, status_code=503, headers={"Retry-After": str(RETRY_AFTER_SECONDS)})


async def database_error_handler(request: Request, error: Exception) -> Response:
    if not is_database_outage(error):
        raise error  # Starlette's server-error middleware answers its plain 500
    log.warning("database unavailable on %s %s: %s", request.method, request.url.path,
                type(error).__name__)
    return unavailable()


# Starlette finds a handler by the exception's class (walking its bases).
EXCEPTION_HANDLERS = {
    sa_exc.DBAPIError: database_error_handler,
    sa_exc.TimeoutError: database_error_handler,
    sa_exc.DisconnectionError: database_error_handler,
    psycopg.Error: database_error_handler,
}
