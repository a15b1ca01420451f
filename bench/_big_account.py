"""A big account for the privacy benchmarks (export, purge): N messages over C conversations,
W MB of workspace files, and a little of everything else. Rows are inserted in bulk (the point is
to measure what reads them, not the chat); workspace files go through the store, chunk by chunk.

    from _big_account import build_account
    account = build_account(messages=100_000, conversations=200, workspace_mb=200)

or, for a bench script, `add_size_args(parser)`, then `use_scratch_environment(args.db, name)`
and `migrated_big_account(args)` (settings, schema, the account, a line saying what was built).
"""

from __future__ import annotations

import argparse
import base64
import os
import secrets
import tempfile
import time
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

FILE_MB = 4  # workspace files of this size (the last one smaller)
CHUNK = 256 * 1024


@dataclass(frozen=True)
class BigAccount:
    user_id: int
    email: str
    messages: int
    conversations: int
    workspace_bytes: int
    files: int
    seconds: float


def _words(i: int) -> str:
    base = ("the train to porto leaves at nine and the umbrella stays in the hall "
            "while the agent writes a summary of the week ")
    return f"{i}: " + base * (1 + i % 4)


def build_account(
    *, messages: int, conversations: int, workspace_mb: int, email: str | None = None
) -> BigAccount:
    from sqlalchemy import insert, update

    from vopix.core import accounts
    from vopix.core.agent import history
    from vopix.core.clock import utcnow
    from vopix.core.workspace import store
    from vopix.db import get_engine, session_scope
    from vopix.models import AccessLog, ChannelLink, IntegrationActivity, Message, UsageDaily, User

    started = time.perf_counter()
    address = email or f"big-{secrets.token_hex(4)}@example.com"
    user = accounts.sign_up(address, "correct-horse-battery-77", age_confirmed=True)
    user_id = user.id
    with session_scope() as s:  # room for the workspace: the Pro plan's 5 GB
        s.execute(update(User).where(User.id == user_id).values(plan_id="pro"))  # type: ignore[arg-type]
    now = utcnow()
    conv_ids = [history.create_conversation(user_id, f"Conversation {c} about trains").id
                for c in range(conversations)]
    per = max(1, messages // max(1, conversations))
    rows: list[dict] = []
    made = 0
    with get_engine().begin() as conn:
        for c, conv_id in enumerate(conv_ids):
            n = per if c < conversations - 1 else messages - made
            for i in range(n):
                k = made + i
                tool = k % 10 == 9
                rows.append({
                    "conversation_id": conv_id, "user_id": user_id,
                    "role": "tool" if tool else ("user" if k % 2 == 0 else "assistant"),
                    "content": _words(k), "channel": ("web", "telegram", "whatsapp")[k % 3],
                    "status": "complete", "tool_name": "workspace_search" if tool else None,
                    "tool_call_id": f"call_{k}" if tool else None,
                    "tool_args": '{"query": "porto"}' if tool else None,
                    "created_at": now - timedelta(seconds=messages - k),
                })  # fmt: skip
                if len(rows) >= 5000:
                    conn.execute(insert(Message), rows)
                    rows.clear()
            made += n
        if rows:
            conn.execute(insert(Message), rows)
    with session_scope() as s:
        for d in range(60):
            s.add(UsageDaily(user_id=user_id, day=date.today() - timedelta(days=d), model="gpt-bench",
                             api_calls=d, messages=2 * d, input_tokens=100 * d, output_tokens=50 * d))
        for i in range(2000):
            s.add(AccessLog(user_id=user_id, method="GET", path="/chat", status=200, ip="203.0.113.9",
                            at=now - timedelta(minutes=20 * i)))
            s.add(IntegrationActivity(user_id=user_id, service="github", tool="github_issue",
                                      action=f"created issue #{i} in octo/hello", outcome="ok",
                                      at=now - timedelta(minutes=i)))
        s.add(ChannelLink(user_id=user_id, channel="telegram", external_id="4242", display_name="Big"))
    total = workspace_mb * 1024 * 1024
    written = files = 0
    while written < total:
        size = min(FILE_MB * 1024 * 1024, total - written)
        text = files % 4 == 0
        piece = (_words(files) * 2000).encode()[:CHUNK] if text else os.urandom(CHUNK)

        def chunks(size: int = size, piece: bytes = piece):
            left = size
            while left > 0:
                yield piece[: min(len(piece), left)]
                left -= len(piece)

        ext = "md" if text else "bin"
        store.write_stream(user_id, f"files/set-{files // 10}/file-{files}.{ext}", chunks())
        written += size
        files += 1
    return BigAccount(user_id, address, messages, conversations, written, files,
                      time.perf_counter() - started)


PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def add_size_args(ap: argparse.ArgumentParser) -> None:
    ap.add_argument("--db", choices=("sqlite", "postgres"), default="sqlite")
    ap.add_argument("--small", action="store_true", help="10,000 messages, 20 conversations, 20 MB")
    ap.add_argument("--messages", type=int, default=100_000)
    ap.add_argument("--conversations", type=int, default=200)
    ap.add_argument("--workspace-mb", type=int, default=200)


def use_scratch_environment(db: str, name: str) -> dict[str, str]:
    """VOPIX's settings for a bench run: a data folder of its own, SQLite in it or a scratch
    PostgreSQL database (dropped at exit), a throwaway vault key."""
    from _scratch import fresh_database

    data = Path(tempfile.mkdtemp(prefix=f"vopix-bench-{name}-"))
    url = fresh_database(PG_URL) if db == "postgres" else f"sqlite:///{data / 'vopix.db'}"
    env = {
        "VOPIX_DATA_DIR": str(data),
        "VOPIX_DATABASE_URL": url,
        "VOPIX_VAULT_KEY": "bench:" + base64.b64encode(secrets.token_bytes(32)).decode(),
        "VOPIX_BCRYPT_ROUNDS": "4",
        "VOPIX_RUN_SCHEDULER": "0",
        "VOPIX_PUBLIC_URL": "http://bench.invalid",
    }
    os.environ.update(env)
    return env


def migrated_big_account(args: argparse.Namespace) -> BigAccount:
    """The platform installed, the schema migrated, and the account of `args` (see
    add_size_args) built; prints what was built."""
    from vopix import db, platform

    if args.small:
        args.messages, args.conversations, args.workspace_mb = 10_000, 20, 20
    platform.install()
    db.migrate()
    account = build_account(messages=args.messages, conversations=args.conversations,
                            workspace_mb=args.workspace_mb)
    print(f"account built in {account.seconds:.1f} s: {account.messages:,} messages in "
          f"{account.conversations} conversations, {account.files} files, "
          f"{account.workspace_bytes / 2**20:.0f} MB ({args.db})", flush=True)
    return account
