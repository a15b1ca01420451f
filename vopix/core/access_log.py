"""Access log: time, IP, method, path, status and user of every request and socket connection.

Entries are queued in memory and written in batches by a background task, so logging never
adds a database round trip to a request. Query strings, bodies, cookies and tokens are never
recorded.
"""

from __future__ import annotations

import asyncio
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import delete, insert
from sqlmodel import col, select

from vopix.core.clock import utcnow
from vopix.core.passwords import sha256_hex
from vopix.db import session_scope
from vopix.models import AccessLog, AuthSession, RefreshToken

MAX_QUEUE = 50_000


@dataclass
class AccessEntry:
    ip: str
    method: str
    path: str
    status: int
    user_id: int | None
    duration_ms: int
    at: datetime = field(default_factory=utcnow)


class AccessLogWriter:
    """Collects entries from the event loop and flushes them in one INSERT per batch."""

    def __init__(self) -> None:
        self._pending: list[AccessEntry] = []
        self._lock = threading.Lock()
        self.dropped = 0

    def record(self, entry: AccessEntry) -> None:
        with self._lock:
            if len(self._pending) >= MAX_QUEUE:
                self.dropped += 1
                return
            self._pending.append(entry)

    def flush(self) -> int:
        with self._lock:
            batch, self._pending = self._pending, []
        if not batch:
            return 0
        rows = [
            {
                "at": e.at,
                "ip": e.ip[:64],
                "method": e.method[:16],
                "path": e.path[:512],
                "status": e.status,
                "user_id": e.user_id,
                "duration_ms": e.duration_ms,
            }
            for e in batch
        ]
        with session_scope() as s:
            s.execute(insert(AccessLog), rows)
        return len(rows)

    async def run(self, every_s: float = 1.0) -> None:
        """Background task: flush once a second until cancelled, then flush what is left."""
        try:
            while True:
                await asyncio.sleep(every_s)
                await asyncio.to_thread(self.flush)
        finally:
            self.flush()


writer = AccessLogWriter()

_user_cache: dict[str, tuple[float, int | None]] = {}
_CACHE_SECONDS = 30.0


def cached_user_for_token(token: str) -> tuple[bool, int | None]:
    """(found, user id) from the cache alone: cheap enough for the event loop, so a page's
    dozens of asset requests do not each take a trip to a worker thread."""
    hit = _user_cache.get(sha256_hex(token)) if token else None
    if hit and time.monotonic() - hit[0] < _CACHE_SECONDS:
        return True, hit[1]
    return not token, None


def user_for_token(token: str) -> int | None:
    """The user a session cookie belongs to, for the log only (cached briefly, no side effects)."""
    found, user_id = cached_user_for_token(token)
    if found:
        return user_id
    key = sha256_hex(token)
    now = time.monotonic()
    with session_scope() as s:
        user_id = s.exec(
            select(AuthSession.user_id)
            .join(RefreshToken, col(RefreshToken.session_id) == col(AuthSession.id))
            .where(RefreshToken.token_hash == key)
        ).first()
    if len(_user_cache) > 10_000:
        _user_cache.clear()
    _user_cache[key] = (now, user_id)
    return user_id


def purge_access_logs(now: datetime, retention_days: int) -> int:
    """Delete entries older than the retention period. Returns the number deleted."""
    cutoff = now - timedelta(days=retention_days)
    with session_scope() as s:
        result = s.exec(delete(AccessLog).where(col(AccessLog.at) < cutoff))  # type: ignore[call-overload]
        return int(result.rowcount or 0)


def recent_entries(user_id: int, limit: int = 50) -> list[AccessLog]:
    with session_scope() as s:
        return list(
            s.exec(
                select(AccessLog)
                .where(AccessLog.user_id == user_id)
                .order_by(col(AccessLog.at).desc())
                .limit(limit)
            ).all()
        )
