"""Export everything (issue 12, P28/P30): a person asks, a worker writes the ZIP in the
background (export_worker.py), the Privacy page shows its progress and then a link that works for
its owner for 7 days; a scheduled job deletes the file after that.

The ZIP's contents are the registered parts (export_parts.py); this module registers the
built-in ones in install(), and later features add theirs with register_export_part().
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import col

from vopix.core import claim_loop, jobs
from vopix.core.clock import utcnow
from vopix.core.privacy import audit
from vopix.core.privacy import export_account as acc
from vopix.core.privacy import export_content as content
from vopix.core.privacy.export_parts import register_export_part
from vopix.core.workspace.base import human_size
from vopix.db import session_scope
from vopix.models import DataExport
from vopix.settings import get_settings

# Tables that hold something of a person and are not in the export, and why: each is a secret,
# a single-use token, a transient lease or queue, or derived from what the export does hold.
# tests/core/privacy/test_export_complete.py fails on a table of a person that is in neither.
NOT_EXPORTED: dict[str, str] = {
    "secret": "the vault's ciphertexts of keys and tokens (P06: never exported, even encrypted)",
    "action_token": "single-use link tokens (mail links); only their hashes are stored",
    "login_nonce": "single-use tokens that tie a login form to its answer",
    "oauth_state": "single-use OAuth states of a connection in progress (10 minutes)",
    "channel_link_code": "single-use codes that link a chat, valid for minutes",
    "login_attempt": "the failed-login throttle's counters, kept for its window only",
    "web_turn": "leases of web replies being written now; the replies are in conversations/",
    "inbound_event": "the channel queue of incoming updates; their messages are in conversations/",
    "outbound_message": "the channel send queue; the sent text is in conversations/",
    "workspace_text": "the search index of workspace files, derived from workspace/",
    "workspace_usage": "the running total of workspace bytes, derived from workspace/",
    "data_export": "the export jobs themselves, this one included",
    "stripe_event": "Stripe's webhook payloads as received; billing.json holds what they changed",
}

log = logging.getLogger("vopix.export")

KEEP = timedelta(days=7)  # the download works this long, then the file is deleted
KEEP_ROWS = timedelta(days=90)  # finished rows (no file) are kept this long for the page
PURGE_BATCH = 200
WAKEUPS = claim_loop.Wakeups()  # the export workers of this process


class ExportError(Exception):
    """Something the person is told, as is."""


class ExportBusy(ExportError):
    pass


class ExportUnavailable(ExportError):
    """The export exists (it is the person's) but cannot be downloaded: expired, deleted,
    failed or not ready yet."""


class ExportGone(ExportUnavailable):
    """Expired, or its file deleted."""


class ExportNotFound(ExportError):
    """No export of this person has that id (another person's is 'not found' too)."""


@dataclass(frozen=True)
class ExportView:
    id: int
    status: str  # queued | running | ready | failed | expired
    parts_done: int
    parts_total: int
    bytes_written: int
    created_at: datetime
    finished_at: datetime | None
    expires_at: datetime | None
    error: str

    @property
    def in_progress(self) -> bool:
        return self.status in ("queued", "running")

    @property
    def size_text(self) -> str:
        return human_size(self.bytes_written)


def export_dir() -> Path:
    path = get_settings().data_dir / "exports"
    path.mkdir(parents=True, exist_ok=True)
    return path


def _view(r: DataExport) -> ExportView:
    assert r.id is not None
    return ExportView(r.id, r.status, r.parts_done, r.parts_total, r.bytes_written, r.created_at,
                      r.finished_at, r.expires_at, r.error)


def request_export(user_id: int) -> ExportView:
    """Queue an export. A second one while one is queued or running is refused (ExportBusy),
    also when two requests race: the partial unique index lets one row in."""
    try:
        with session_scope() as s:
            row = DataExport(user_id=user_id)
            s.add(row)
            s.flush()
            view = _view(row)
    except IntegrityError:
        raise ExportBusy(
            "An export is already being prepared. It shows here when it is ready; you can "
            "start another one after that."
        ) from None
    WAKEUPS.wake()
    return view


def latest_export(user_id: int) -> ExportView | None:
    with session_scope() as s:
        row = s.exec(
            select(DataExport).where(col(DataExport.user_id) == user_id)  # type: ignore[call-overload]
            .order_by(col(DataExport.created_at).desc(), col(DataExport.id).desc()).limit(1)
        ).scalars().first()
        return _view(row) if row is not None else None


def get_export(user_id: int, export_id: int) -> ExportView:
    with session_scope() as s:
        row = s.get(DataExport, export_id)
        if row is None or row.user_id != user_id:
            raise ExportNotFound("There is no such export.")
        return _view(row)


def download_path(user_id: int, export_id: int, now: datetime | None = None) -> tuple[Path, ExportView]:
    """The ZIP of the person's export, or why not (ExportNotFound, ExportUnavailable)."""
    moment = now or utcnow()
    with session_scope() as s:
        row = s.get(DataExport, export_id)
        if row is None or row.user_id != user_id:
            raise ExportNotFound("There is no such export.")
        view, name = _view(row), row.file_name
    if view.status == "expired" or (view.expires_at is not None and view.expires_at <= moment):
        raise ExportGone(
            "This export has expired: its file is deleted 7 days after it was made. Make a new "
            "one on the Privacy page."
        )
    if view.status in ("queued", "running"):
        raise ExportUnavailable("This export is still being prepared.")
    if view.status == "failed":
        raise ExportUnavailable("This export could not be finished. Make a new one on the Privacy page.")
    path = export_dir() / name if name else None
    if path is None or not path.is_file():
        raise ExportGone("This export's file has been deleted. Make a new one on the Privacy page.")
    return path, view


def download_name(view: ExportView) -> str:
    return f"vopix-export-{(view.finished_at or view.created_at):%Y-%m-%d}.zip"


def _remove(name: str) -> None:
    if name:
        (export_dir() / name).unlink(missing_ok=True)


def purge_exports(now: datetime) -> int:
    """Scheduled: files of exports past their 7 days are deleted (the row stays, so the page
    and the link can say 'expired'); old finished rows go; files no row names any more (an
    account purged, a worker killed mid-write) are removed. Bounded per run."""
    done = 0
    with session_scope() as s:
        due = s.execute(
            select(DataExport.id, DataExport.file_name)
            .where(col(DataExport.status) == "ready", col(DataExport.expires_at) <= now)
            .order_by(col(DataExport.expires_at)).limit(PURGE_BATCH)
        ).all()
    for export_id, name in due:
        _remove(name)  # first the file: a crash after it leaves a row the next run finishes
        with session_scope() as s:
            s.execute(
                update(DataExport).where(col(DataExport.id) == export_id, col(DataExport.status) == "ready")
                .values(status="expired", file_name="", deleted_at=now)
            )
        done += 1
    with session_scope() as s:
        s.execute(
            delete(DataExport).where(col(DataExport.status).in_(("expired", "failed")),
                                     col(DataExport.created_at) < now - KEEP_ROWS)
        )
        named = set(s.execute(select(DataExport.file_name).where(col(DataExport.file_name) != "")).scalars())
        running = {f"export-{i}-" for i in s.execute(
            select(DataExport.id).where(col(DataExport.status).in_(("queued", "running")))).scalars()}
    for path in sorted(export_dir().glob("export-*"))[: PURGE_BATCH * 5]:
        if path.name in named or any(path.name.startswith(p) for p in running):
            continue
        path.unlink(missing_ok=True)
        done += 1
    return done


def delete_exports_of(user_id: int) -> int:
    """The person's export files and rows, now (account deletion's purge calls this; the rows
    would also go with the account by ON DELETE CASCADE, the files would not)."""
    with session_scope() as s:
        rows = s.execute(select(DataExport.id, DataExport.file_name)
                         .where(col(DataExport.user_id) == user_id)).all()
        s.execute(delete(DataExport).where(col(DataExport.user_id) == user_id))
    for export_id, name in rows:
        _remove(name)
        for path in export_dir().glob(f"export-{export_id}-*"):
            path.unlink(missing_ok=True)
    return len(rows)


def readme(parts: list[tuple[str, str]], user_email: str, made_at: datetime) -> str:
    lines = [
        "Your VOPIX data",
        "===============",
        "",
        f"Everything VOPIX holds about the account {user_email}, exported on "
        f"{made_at:%Y-%m-%d %H:%M} UTC. Times are UTC, in ISO 8601. JSON files are UTF-8.",
        "",
        "What is where:",
        "",
        *[f"  {name:<22} {about}" for name, about in parts],
        "",
        "Never in this file: your password (VOPIX keeps only a hash of it, which is not exported),",
        "the tokens of your connected services and your own AI provider key (they stay encrypted in",
        "the vault), card data (VOPIX never has it: Stripe does).",
        "",
    ]
    return "\n".join(lines)


def install() -> None:
    """The built-in parts, in ZIP order, and the expiry job."""
    register_export_part("account.json", acc.write_account,
                         "your account: email, sign-up date, plan, subscription status, notification "
                         "choices, notices")
    register_export_part("agent.json", acc.write_agent,
                         "your agent: persona, language, time zone, provider and model (never a key)")
    register_export_part("conversations/", content.write_conversations,
                         "one JSON file (every message: role, channel, time, tool calls) and one "
                         "Markdown file per conversation, named <id>-<title>")
    register_export_part("workspace/", content.write_workspace, "every workspace file, at its path")
    register_export_part("integrations.json", acc.write_integrations,
                         "connected services, accounts, scopes and the activity log (never a token)")
    register_export_part("usage.csv", acc.write_usage, "usage per day and model")
    register_export_part("channels.json", acc.write_channels, "linked Telegram chats and WhatsApp numbers")
    register_export_part("security.json", acc.write_security,
                         "login sessions, known sign-ins and the access log of the last 30 days")
    register_export_part("billing.json", acc.write_billing, "plan and subscription (no card data)")
    register_export_part("sandbox.json", acc.write_sandbox, "script runs in the sandbox and allowed scripts")
    register_export_part("mail.json", acc.write_mail, "mail sent to you (subjects and status)")
    register_export_part("staff_access.json", audit.write_export_part,
                         "every time staff opened your account or acted on it, and why; the policy "
                         "notices you dismissed")
    jobs.register_job(jobs.Job("purge_data_exports", timedelta(hours=1), purge_exports))
