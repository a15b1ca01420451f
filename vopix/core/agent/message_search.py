"""Full-text search over one person's messages: FTS5 on SQLite, tsvector on PostgreSQL, the
most relevant first, each hit with a snippet that holds its match (see vopix.core.fulltext)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import text

from vopix.core.clock import utcnow
from vopix.core.fulltext import Part, fts5_match, plain, prefix_tsquery, query_words, snippet
from vopix.db import session_scope


@dataclass(frozen=True)
class SearchHit:
    message_id: int
    conversation_id: int
    conversation_title: str
    role: str
    parts: tuple[Part, ...]  # the snippet: a window that holds the match, matches marked
    created_at: datetime

    @property
    def snippet(self) -> str:
        return plain(list(self.parts))


def search_messages(user_id: int, query: str, limit: int = 30) -> list[SearchHit]:
    """Full-text search over one's own messages (FTS5 on SQLite, tsvector on PostgreSQL), the
    most relevant first (FTS5's bm25, PostgreSQL's ts_rank normalised by length), and among
    equally relevant ones the newest. Each hit's snippet holds its match (see fulltext)."""
    words = query_words(query)
    if not words:
        return []
    with session_scope() as s:
        if s.get_bind().dialect.name == "sqlite":
            sql = _SEARCH_SQLITE
            params: dict[str, object] = {"q": fts5_match(words), "u": user_id, "n": limit}
        else:
            sql = _SEARCH_POSTGRES
            params = {"q": prefix_tsquery(words), "u": user_id, "n": limit}
        return [
            SearchHit(r[0], r[1], r[2], r[3], tuple(snippet(r[4], words)), _as_utc(r[5]))
            for r in s.execute(sql, params)
        ]


_SEARCH_SQLITE = text(
    "SELECT m.id, m.conversation_id, c.title, m.role, m.content, m.created_at "
    "FROM message_fts JOIN message m ON m.id = message_fts.rowid "
    "JOIN conversation c ON c.id = m.conversation_id "
    "WHERE message_fts MATCH :q AND m.user_id = :u "
    "ORDER BY bm25(message_fts), m.created_at DESC, m.id DESC LIMIT :n"
)
_SEARCH_POSTGRES = text(
    "SELECT m.id, m.conversation_id, c.title, m.role, m.content, m.created_at "
    "FROM message m JOIN conversation c ON c.id = m.conversation_id "
    "WHERE to_tsvector('simple', m.content) @@ to_tsquery('simple', :q) AND m.user_id = :u "
    "ORDER BY ts_rank(to_tsvector('simple', m.content), to_tsquery('simple', :q), 1) DESC, "
    "m.created_at DESC, m.id DESC LIMIT :n"
)


def _as_utc(value: object) -> datetime:
    """Raw SQL hands back SQLite timestamps as text and PostgreSQL ones as naive datetimes."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    return utcnow()
