"""The purge (P26): every row and file of an account whose grace period is over, removed for
good, then a receipt to the address the account had.

A scheduled job (a function of `now`), bounded per run (PURGE_ACCOUNTS accounts, each table's
rows in chunks (rows_per_chunk), every chunk its own transaction), and idempotent: a purge stopped
half-way leaves the user row, which is deleted last, so the next run finds the account again
and finishes it. The receipt is queued in the transaction that deletes the user row, with no
user link, so it survives the purge and goes exactly once.

Which tables: every column with a foreign key to user.id (children first), so a table added
later is purged without a change here; the few columns that name a person without a foreign
key are listed in UNLINKED (tests/core/privacy/test_purge.py fails for one missing).

Once across processes: an account is purged by one process at a time (a PostgreSQL advisory
lock on the account, `purging`); a runner that finds another at it leaves the account to it.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta

from sqlalchemy import Column, LargeBinary, Table, delete, select, text, update
from sqlmodel import col

from vopix.core import jobs, support
from vopix.core.clock import local_time, utcnow
from vopix.core.kinds import MailKind
from vopix.core.mail import outbox
from vopix.core.mail.addresses import BadAddress
from vopix.core.privacy import deletion
from vopix.db import get_engine, session_scope
from vopix.models import AccessLog, BillingAccount, LoginAttempt, MailOutbox, StripeEvent, User, metadata

log = logging.getLogger("vopix.purge")
PURGE_ACCOUNTS = 20  # accounts per run
CHUNK_ROWS = 5000  # rows per transaction
BLOB_CHUNK_ROWS = 64  # rows per transaction of a table with blobs (workspace chunks: 16 MB)
EVERY = timedelta(hours=1)
PURGE_LOCK_CLASS = 0x70757267  # the advisory locks' first key ("purg"); the second: the user id
# Columns that name a person without a foreign key to user.id, and what the purge does.
UNLINKED: dict[tuple[str, str], str] = {
    ("access_log", "user_id"): "set NULL (the entry stays, anonymous, until its retention ends)",
    ("login_attempt", "email"): "deleted (failed logins with the account's address)",
    ("mail_outbox", "to_address"): "deleted (mail to the address not linked to the account)",
    ("stripe_event", "customer_id"): "deleted (webhook events of the account's Stripe customer)",
}

PurgeHook = Callable[[int], None]
_hooks: list[PurgeHook] = []


def on_purge(fn: PurgeHook) -> PurgeHook:
    """Register `fn(user_id)`, run before the account's rows go: for files kept outside the
    database (an export's ZIP). It must be idempotent (a purge may run twice)."""
    if fn not in _hooks:
        _hooks.append(fn)
    return fn


def user_columns() -> list[tuple[Table, Column, str]]:  # type: ignore[type-arg]
    """(table, column, ON DELETE) of every foreign key to user.id, children before parents."""
    found = []
    for table in reversed(metadata.sorted_tables):
        if table.name == "user":
            continue
        for column in table.columns:
            for fk in column.foreign_keys:
                if fk.column.table.name == "user" and fk.column.name == "id":
                    found.append((table, column, (fk.ondelete or "").upper()))
    return found


def rows_per_chunk(table: Table) -> int:
    """Rows per transaction: fewer where a row holds a blob, so no transaction (and, on SQLite,
    no hold of the write lock) grows with the size of the account's files."""
    return BLOB_CHUNK_ROWS if any(isinstance(c.type, LargeBinary) for c in table.columns) else CHUNK_ROWS


def _chunked(table: Table, where: object, values: dict | None = None) -> int:  # type: ignore[type-arg]
    """Delete (or, with `values`, update) the rows matching `where`, rows_per_chunk() per
    transaction. Returns how many rows changed."""
    pk = list(table.primary_key.columns)
    limit = rows_per_chunk(table)
    total = 0
    while True:
        with get_engine().begin() as conn:
            if len(pk) == 1:
                ids = select(pk[0]).where(where).limit(limit).scalar_subquery()  # type: ignore[arg-type]
                stmt = (update(table).values(**values) if values else delete(table)).where(pk[0].in_(ids))
            else:  # small tables keyed by (user_id, ...): at once
                stmt = (update(table).values(**values) if values else delete(table)).where(where)  # type: ignore[arg-type]
            n = int(conn.execute(stmt).rowcount or 0)
        total += n
        if n < limit or len(pk) != 1:
            return total


class Busy(Exception):
    """Another process is purging this account now: it finishes it."""


@contextlib.contextmanager
def purging(user_id: int) -> Iterator[None]:
    """This process alone purges the account while inside (Busy otherwise). Two runners racing
    (the scheduled job and `python -m vopix retention`, or a staff deletion) had each cancelled
    the subscription and deleted the Stripe customer, the second failing on what the first had
    done (tests/cluster/test_once_purges.py). On PostgreSQL a session advisory lock on a
    connection of its own, released at the end and by the server if the process dies; SQLite
    has one writing process."""
    engine = get_engine()
    if engine.dialect.name != "postgresql":
        yield
        return
    keys = {"c": PURGE_LOCK_CLASS, "k": user_id}
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        if not conn.execute(text("SELECT pg_try_advisory_lock(:c, :k)"), keys).scalar():
            raise Busy(user_id)
        try:
            yield
        finally:
            with contextlib.suppress(Exception):  # a lost connection released it already
                conn.execute(text("SELECT pg_advisory_unlock(:c, :k)"), keys)


def _customer_of(user_id: int) -> str:
    with session_scope() as s:
        account = s.get(BillingAccount, user_id)
        return (account.customer_id or "") if account else ""


def purge_account(user_id: int, *, now: datetime | None = None, stop: bool = True) -> int | None:
    """Remove the account and everything of it; the number of rows removed or changed, None
    when there was no such account. `stop`: first repeat the revocations and the Stripe
    cancellation (a deletion stopped before them); a Stripe that cannot be reached leaves the
    account for the next run (RuntimeError). Busy: another process is purging it."""
    with purging(user_id):
        return _purge_account(user_id, now or utcnow(), stop)


def _purge_account(user_id: int, moment: datetime, stop: bool) -> int | None:
    with session_scope() as s:
        user = s.get(User, user_id)
        if user is None:
            return None
        email, zone = user.email, deletion.zone_of(s, user_id)  # (the profile goes below)
    if stop:
        deletion.run_async(deletion.revoke_integrations(user_id))
        if not deletion.cancel_subscription(user_id):
            raise RuntimeError(f"Stripe could not be reached to cancel account {user_id}'s subscription")
    for hook in _hooks:
        hook(user_id)
    customer_id = _customer_of(user_id)
    if stop and not deletion.delete_stripe_customer(customer_id):
        raise RuntimeError(f"Stripe could not be reached to delete account {user_id}'s customer")
    rows = 0
    for table, column, ondelete in user_columns():
        if ondelete == "SET NULL":
            rows += _chunked(table, column == user_id, {column.name: None})
        else:
            rows += _chunked(table, column == user_id)
    rows += _chunked(AccessLog.__table__, col(AccessLog.user_id) == user_id, {"user_id": None})  # type: ignore[attr-defined]
    rows += _chunked(LoginAttempt.__table__, col(LoginAttempt.email) == email)  # type: ignore[attr-defined]
    rows += _chunked(MailOutbox.__table__, col(MailOutbox.to_address) == email)  # type: ignore[attr-defined]
    if customer_id:
        rows += _chunked(StripeEvent.__table__, col(StripeEvent.customer_id) == customer_id)  # type: ignore[attr-defined]
    with session_scope() as s:
        user = s.execute(select(User).where(col(User.id) == user_id).with_for_update()).scalars().first()
        if user is None:
            return rows  # a parallel purge finished it
        s.delete(user)
        s.flush()
        try:
            outbox.enqueue(
                s, to=email, kind=MailKind.ACCOUNT, template="account_deleted", user_id=None,
                when=local_time(moment, zone), email=email, support=support.contact_sentence(),
            )
        except BadAddress:  # an address no mail can go to must not keep the data
            log.warning("purge: no receipt for account %s (its address is not deliverable)", user_id)
    log.info("purge: account %s removed (%s rows)", user_id, rows + 1)
    return rows + 1


def due(now: datetime, limit: int = PURGE_ACCOUNTS) -> list[int]:
    with session_scope() as s:
        return list(
            s.execute(
                select(col(User.id))
                .where(col(User.purge_after).is_not(None), col(User.purge_after) <= now)
                .order_by(col(User.purge_after), col(User.id))
                .limit(limit)
            ).scalars()
        )


def purge_due(now: datetime, limit: int = PURGE_ACCOUNTS) -> int:
    """Scheduled: purge up to `limit` accounts whose grace period ended; one that fails is
    logged and left for the next run, the others go on. Returns how many were purged."""
    done = 0
    for user_id in due(now, limit):
        try:
            if purge_account(user_id, now=now) is not None:
                done += 1
        except Busy:
            log.info("purge: account %s is being purged by another process", user_id)
        except Exception:
            log.exception("purge: account %s failed; the next run tries again", user_id)
    return done


def delete_now(user_id: int, reason: str, *, now: datetime | None = None) -> bool:
    """Staff (an account reported as a child's, P33) and the operator command: every step of a
    deletion, and the purge at once, without a restore link. False when there is no account.
    An account already being deleted is purged at once too."""
    reason = " ".join((reason or "").split())
    if not reason:
        raise deletion.DeletionError("Give a reason for the deletion.")
    moment = now or utcnow()
    try:
        deletion.begin(user_id, grace_period=timedelta(0), restorable=False, now=moment)
    except deletion.DeletionError:
        with session_scope() as s:
            if s.get(User, user_id) is None:
                return False
    log.info("deletion: account %s deleted at once (%s)", user_id, reason[:80])
    try:
        deletion.stop_services(user_id)
        return purge_account(user_id, now=moment, stop=False) is not None
    except Busy:  # the scheduled purge is at it
        return True
    except Exception:
        # The account is marked deleting with its purge due: the scheduled purge finishes it.
        log.exception("deletion: account %s is left for the scheduled purge", user_id)
        return True


def install() -> None:
    from vopix.core.privacy import export

    on_purge(export.delete_exports_of)  # the export ZIPs are files in the data folder
    jobs.register_job(jobs.Job("purge_deleted_accounts", EVERY, purge_due))
