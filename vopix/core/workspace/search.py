"""Full-text search over a person's text files.

Why this way: the same approach as message search (history.py) so both databases are served by
what they do best with no extra service: SQLite's FTS5 (a virtual table kept in step by
triggers) and PostgreSQL's to_tsvector with a GIN index. What is indexed is a text copy of each
text file's first INDEX_BYTES (1 MB), kept in `workspace_text` and replaced on every write;
binary files are not indexed but are still found by name. The copy is an index, not stored
content, so it does not count against the person's storage.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import delete, insert, text
from sqlmodel import Session, col, select

from vopix.core.fulltext import fts5_match, prefix_tsquery, query_words
from vopix.db import session_scope
from vopix.models import WorkspaceEntry, WorkspaceText


@dataclass(frozen=True)
class SearchHit:
    path: str
    snippet: str  # matches marked [like this]; "" for a name match


def index(s: Session, user_id: int, entry_id: int, content: str | None) -> None:
    """Replace the searchable text of one file (None: not text, so not indexed)."""
    s.execute(delete(WorkspaceText).where(col(WorkspaceText.entry_id) == entry_id))
    if content:
        # PostgreSQL text cannot hold NUL; text files have none, but be sure.
        clean = content.replace("\x00", "")
        s.execute(insert(WorkspaceText).values(entry_id=entry_id, user_id=user_id, content=clean))


def search(user_id: int, query: str, limit: int = 20) -> list[SearchHit]:
    """Files whose name contains the query, then files whose text matches every word (prefixes
    count: "meet" finds "meeting")."""
    query = (query or "").strip()
    words = query_words(query)
    if not query:
        return []
    with session_scope() as s:
        needle = query.casefold()
        names = [
            SearchHit(e.path, "")
            for e in s.exec(
                select(WorkspaceEntry)
                .where(WorkspaceEntry.user_id == user_id, WorkspaceEntry.kind == "file")
                .order_by(col(WorkspaceEntry.path_key))
            )
            if needle in e.path_key.rpartition("/")[2]
        ][:limit]
        content: list[SearchHit] = []
        if words:
            if s.get_bind().dialect.name == "sqlite":
                match = fts5_match(words)
                sql = text(
                    "SELECT e.path, snippet(workspace_text_fts, 0, '[', ']', '…', 16) "
                    "FROM workspace_text_fts JOIN workspace_text t ON t.entry_id = workspace_text_fts.rowid "
                    "JOIN workspace_entry e ON e.id = t.entry_id "
                    "WHERE workspace_text_fts MATCH :q AND t.user_id = :u AND e.user_id = :u "
                    "ORDER BY rank LIMIT :n"
                )
                params: dict[str, object] = {"q": match, "u": user_id, "n": limit}
            else:
                tsq = prefix_tsquery(words)
                sql = text(
                    "SELECT e.path, ts_headline('simple', t.content, to_tsquery('simple', :q), "
                    "'StartSel=[,StopSel=],MaxWords=24,MinWords=8') "
                    "FROM workspace_text t JOIN workspace_entry e ON e.id = t.entry_id "
                    "WHERE to_tsvector('simple', t.content) @@ to_tsquery('simple', :q) "
                    "AND t.user_id = :u AND e.user_id = :u ORDER BY e.path_key LIMIT :n"
                )
                params = {"q": tsq, "u": user_id, "n": limit}
            content = [SearchHit(r[0], " ".join(str(r[1]).split())) for r in s.execute(sql, params)]
    seen = {h.path for h in content}
    return [*content, *(h for h in names if h.path not in seen)][:limit]
