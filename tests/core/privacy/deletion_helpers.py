"""An account with something in (nearly) every table, and a walk over every table of the
metadata for rows that still name a person (by user id, email or Stripe customer id)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import date
from urllib.parse import parse_qs, urlsplit

import sqlalchemy as sa
from sqlmodel import select
from sqlmodel.sql.sqltypes import AutoString

from vopix.core import access_log, sessions
from vopix.core.agent import history
from vopix.core.integrations import oauth
from vopix.core.kinds import MailKind
from vopix.core.mail import outbox
from vopix.core.privacy.purge import UNLINKED
from vopix.core.workspace import store
from vopix.db import get_engine, session_scope
from vopix.models import (
    BillingAccount,
    ChannelLink,
    LoginAttempt,
    MailOutbox,
    Notice,
    StripeEvent,
    UsageDaily,
    WorkspaceEntry,
    metadata,
)


@dataclass
class Filled:
    user_id: int
    email: str
    customer_id: str
    blob_ids: list[tuple[str, int]]  # (blob id, size) of the workspace files


def connect_github(github, user_id: int) -> None:
    _, info = sessions.start_session(user_id)
    url = oauth.begin(user_id, info.session_id, "github")
    q = {k: v[-1] for k, v in parse_qs(urlsplit(url).query).items()}
    code = github.authorize(redirect_uri=q["redirect_uri"], scope=q.get("scope", ""), state=q["state"],
                            code_challenge=q.get("code_challenge"),
                            code_challenge_method=q.get("code_challenge_method"))
    asyncio.run(oauth.finish("github", state=q["state"], code=code, user_id=user_id,
                             session_id=info.session_id))


def fill_account(user_id: int, email: str, *, github=None, messages: int = 3) -> Filled:
    """Rows of the person through the product's own functions where there is one."""
    sessions.start_session(user_id, ip="198.51.100.7", user_agent="Mozilla/5.0 (X11; Linux) Firefox/131.0")
    conv = history.create_conversation(user_id, "Tomatoes")
    for i in range(messages):
        history.add_message(user_id, conv.id, "user" if i % 2 == 0 else "assistant", f"message {i} about basil")
    store.write_text(user_id, "notes/garden.md", "sow basil beside the tomatoes " * 50)
    if github is not None:
        connect_github(github, user_id)
    customer_id = f"cus_test{user_id}"
    with session_scope() as s:
        if s.get(BillingAccount, user_id) is None:
            s.add(BillingAccount(user_id=user_id, customer_id=customer_id))
        else:
            customer_id = s.get(BillingAccount, user_id).customer_id or customer_id  # type: ignore[union-attr]
        s.add(ChannelLink(user_id=user_id, channel="telegram", external_id=f"7000{user_id}", display_name="Ada"))
        s.add(Notice(user_id=user_id, key="welcome", level="info", text="Hello", link=""))
        s.add(UsageDaily(user_id=user_id, day=date(2026, 12, 1), model="m", messages=2))
        s.add(LoginAttempt(email=email, ip="203.0.113.9"))
        s.add(StripeEvent(id=f"evt_{user_id}_1", type="invoice.paid", customer_id=customer_id))
        outbox.enqueue(s, to=email, kind=MailKind.TEST, template="test", public_url="x")  # no user link
        blob_ids = [
            (e.blob_id, e.size) for e in s.exec(select(WorkspaceEntry).where(WorkspaceEntry.user_id == user_id))
            if e.blob_id
        ]
    access_log.writer.record(access_log.AccessEntry(ip="192.0.2.7", method="GET", path="/chat", status=200,
                                                    user_id=user_id, duration_ms=1))
    access_log.writer.flush()
    return Filled(user_id, email, customer_id, blob_ids)


def _is_receipt(table: sa.Table) -> sa.ColumnElement[bool] | None:
    if table.name != MailOutbox.__tablename__:
        return None
    return sa.and_(table.c.kind == MailKind.ACCOUNT, table.c.user_id.is_(None),
                   table.c.subject == "Your VOPIX account was deleted")


def names_a_user(table: sa.Table, column: sa.Column) -> bool:  # type: ignore[type-arg]
    """A column that holds a user id: a foreign key to user.id, a known one without a key, or
    one named like it (a table added later without a foreign key is still checked)."""
    return (
        (table.name == "user" and column.name == "id")
        or any(fk.column.table.name == "user" for fk in column.foreign_keys)
        or ((table.name, column.name) in UNLINKED and column.name.endswith("user_id"))
        or column.name == "user_id" or column.name.endswith("_user_id")
    )


def _is_text(column: sa.Column) -> bool:  # type: ignore[type-arg]
    return isinstance(column.type, sa.String | AutoString)  # Text is a String too


def rows_naming(filled: Filled) -> dict[str, int]:
    """Table.column -> rows that still name the person, over every table of the metadata: a
    user-id column equal to the id, or a text column holding the email or the customer id (the
    purge receipt, the one mail meant to outlive the account, left out)."""
    found: dict[str, int] = {}
    with get_engine().connect() as conn:
        for table in metadata.sorted_tables:
            receipt = _is_receipt(table)
            for column in table.columns:
                if names_a_user(table, column):
                    where = column == filled.user_id
                elif _is_text(column):
                    where = sa.or_(column.contains(filled.email), column == filled.customer_id)
                else:
                    continue
                if receipt is not None:
                    where = sa.and_(where, sa.not_(receipt))
                n = conn.execute(sa.select(sa.func.count()).select_from(table).where(where)).scalar_one()
                if n:
                    found[f"{table.name}.{column.name}"] = int(n)
    return found


def receipts_to(email: str) -> list[MailOutbox]:
    with session_scope() as s:
        return list(s.exec(select(MailOutbox).where(MailOutbox.to_address == email,
                                                    MailOutbox.kind == MailKind.ACCOUNT)).all())
