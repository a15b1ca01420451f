"""The export's small parts: account, agent, integrations, usage, channels, security, billing,
sandbox runs and mail. Each reads only the person's rows, in batches, and leaves out every
secret: no password hash, no vault row, no token, key or key hint, no link token."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from sqlalchemy import select
from sqlmodel import col

from vopix.core.clock import utcnow
from vopix.core.privacy.export_parts import keyset
from vopix.core.privacy.export_zip import ExportWriter
from vopix.core.sessions import describe_user_agent
from vopix.db import session_scope
from vopix.models import (
    AccessLog,
    AgentProfile,
    AuthSession,
    BillingAccount,
    ChannelLink,
    IntegrationActivity,
    IntegrationConnection,
    KnownSignIn,
    MailOutbox,
    Notice,
    Plan,
    ScriptMark,
    ScriptRun,
    StaffRole,
    UsageDaily,
    User,
)

ACCESS_LOG_DAYS = 30


def _row(r: Any) -> dict[str, Any]:
    return dict(r._mapping)


def write_account(w: ExportWriter) -> None:
    with session_scope() as s:
        user = s.get(User, w.user_id)
        if user is None:
            raise LookupError("the account is gone")
        plan = s.get(Plan, user.plan_id)
        doc = {
            "email": user.email,
            "signed_up_at": user.created_at,
            "age_confirmed_at": user.age_confirmed_at,
            "updated_at": user.updated_at,
            "plan": {"id": user.plan_id, "name": plan.name if plan else user.plan_id},
            "subscription_status": user.subscription_status,
            "notifications": {
                "security_and_service_mail": "always sent",
                "quota_warnings": user.quota_mail_opt_in,
                "product_news": user.marketing_opt_in,
            },
            "suspended_at": user.suspended_at,
            "deletion_requested_at": user.deletion_requested_at,
        }
    notices = keyset(
        select(Notice.id, Notice.kind, Notice.level, Notice.text, Notice.link, Notice.created_at,
               Notice.read_at).where(col(Notice.user_id) == w.user_id),
        col(Notice.id),
    )
    w.write_json("account.json", {**doc, "notices": map(_row, notices)})


def _public_url(url: str) -> str:
    """A base URL without what could be a credential (user:password@, a query string)."""
    if not url:
        return ""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    return urlunsplit((parts.scheme, host, parts.path, "", ""))


def write_agent(w: ExportWriter) -> None:
    with session_scope() as s:
        p = s.get(AgentProfile, w.user_id)
        doc: dict[str, Any] = {} if p is None else {
            "name": p.name,
            "personality": p.personality,
            "language": p.language,
            "timezone": p.timezone,
            "provider_kind": p.provider_kind or "platform default",
            "model": p.model or "platform default",
            "base_url": _public_url(p.base_url),
            # The key itself never leaves the vault, not even its last characters.
            "own_api_key": "stored (not exported)" if p.api_key_secret_id else "none",
            "updated_at": p.updated_at,
        }
    w.write_json("agent.json", doc)


def write_integrations(w: ExportWriter) -> None:
    c = IntegrationConnection
    connections = keyset(
        select(c.id, c.service, c.status, c.method, c.account, c.account_id, c.scopes, c.created_at,
               c.updated_at, c.expires_at, c.last_used_at).where(col(c.user_id) == w.user_id),
        col(c.id),
    )
    a = IntegrationActivity
    activity = keyset(
        select(a.id, a.at, a.service, a.tool, a.action, a.outcome, a.detail, a.conversation_id,
               a.channel).where(col(a.user_id) == w.user_id),
        col(a.id),
    )
    w.write_json("integrations.json", {
        "about": "Connected services and what your agent did with them. Tokens are never exported.",
        "connections": ({**_row(r), "token": "stored in the vault (not exported)"} for r in connections),
        "activity": map(_row, activity),
    })  # fmt: skip


def write_usage(w: ExportWriter) -> None:
    u = UsageDaily
    rows = keyset(
        select(u.id, u.day, u.model, u.messages, u.api_calls, u.input_tokens, u.output_tokens,
               u.run_seconds).where(col(u.user_id) == w.user_id),
        col(u.id),
    )
    w.write_csv(
        "usage.csv",
        ["day", "model", "messages", "ai_calls", "input_tokens", "output_tokens", "script_run_seconds"],
        ([r.day.isoformat(), r.model, r.messages, r.api_calls, r.input_tokens, r.output_tokens,
          r.run_seconds] for r in rows),
    )  # fmt: skip


def write_channels(w: ExportWriter) -> None:
    c = ChannelLink
    links = keyset(
        select(c.id, c.channel, c.external_id, c.display_name, c.linked_at, c.last_inbound_at)
        .where(col(c.user_id) == w.user_id),
        col(c.id),
    )
    w.write_json("channels.json", {
        "about": "Telegram chats and WhatsApp numbers linked to your agent (external_id is the "
                 "chat id or the number).",
        "links": map(_row, links),
    })  # fmt: skip


def write_security(w: ExportWriter) -> None:
    a = AuthSession
    sessions = keyset(
        select(a.id, a.created_at, a.last_seen_at, a.expires_at, a.revoked_at, a.revoked_reason, a.ip,
               a.user_agent).where(col(a.user_id) == w.user_id),
        col(a.id),
    )
    k = KnownSignIn
    known = keyset(
        select(k.id, k.kind, k.value, k.first_seen_at, k.last_seen_at).where(col(k.user_id) == w.user_id),
        col(k.id),
    )
    log = AccessLog
    since = utcnow() - timedelta(days=ACCESS_LOG_DAYS)
    entries = keyset(
        select(log.id, log.at, log.ip, log.method, log.path, log.status, log.duration_ms)
        .where(col(log.user_id) == w.user_id, col(log.at) >= since),
        col(log.id),
    )

    with session_scope() as s:
        role = s.execute(
            select(StaffRole.role, StaffRole.granted_at, StaffRole.revoked_at)
            .where(col(StaffRole.user_id) == w.user_id)
        ).first()

    def session_row(r: Any) -> dict[str, Any]:
        d = _row(r)
        d["device"] = describe_user_agent(d.pop("user_agent") or "")
        return d

    w.write_json("security.json", {
        "about": f"Your login sessions, the networks and devices you signed in from, and the "
                 f"access log of your account for the last {ACCESS_LOG_DAYS} days.",
        "sessions": map(session_row, sessions),
        "known_sign_ins": map(_row, known),
        "access_log": map(_row, entries),
        "staff_role": _row(role) if role else None,
    })  # fmt: skip


def write_billing(w: ExportWriter) -> None:
    with session_scope() as s:
        user = s.get(User, w.user_id)
        b = s.get(BillingAccount, w.user_id)
        doc: dict[str, Any] = {
            "about": "Your plan and subscription as VOPIX stores them. Payments and cards are "
                     "handled by Stripe: VOPIX never holds card data, and stores no invoices "
                     "(the Billing page reads them from Stripe when you open it).",
            "plan": user.plan_id if user else "",
            "subscription_status": user.subscription_status if user else "",
        }
        if b is not None:
            doc["subscription"] = {
                "stripe_customer": b.customer_id or "",
                "subscription": b.subscription_id,
                "status": b.status,
                "plan": b.subscribed_plan_id,
                "current_period_end": b.current_period_end,
                "cancel_at_period_end": b.cancel_at_period_end,
                "plan_given_by_support": b.comp_plan_id or "",
                "updated_at": b.updated_at,
            }
        doc["invoices"] = []
    w.write_json("billing.json", doc)


def write_sandbox(w: ExportWriter) -> None:
    r = ScriptRun
    runs = keyset(
        select(r.id, r.created_at, r.script, r.args, r.status, r.exit_code, r.duration_ms, r.stdout,
               r.stderr, r.notes, r.output_folder, r.files, r.channel).where(col(r.user_id) == w.user_id),
        col(r.id),
    )
    m = ScriptMark
    marks = keyset(
        select(m.path_key, m.path, m.sha256, m.created_at).where(col(m.user_id) == w.user_id),
        col(m.path_key),
    )
    w.write_json("sandbox.json", {
        "about": "Every script your agent ran in the sandbox, and the scripts you let it run "
                 "without asking.",
        "runs": map(_row, runs),
        "allowed_scripts": ({"path": x.path, "sha256": x.sha256, "allowed_at": x.created_at} for x in marks),
    })  # fmt: skip


def write_mail(w: ExportWriter) -> None:
    o = MailOutbox
    rows = keyset(
        select(o.id, o.created_at, o.sent_at, o.kind, o.to_address, o.subject, o.status)
        .where(col(o.user_id) == w.user_id),
        col(o.id),
    )
    w.write_json("mail.json", {
        "about": "Mail VOPIX sent or is sending you (subjects only: bodies hold single-use links "
                 "and are deleted once sent).",
        "mail": map(_row, rows),
    })  # fmt: skip
