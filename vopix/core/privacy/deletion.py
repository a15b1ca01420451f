"""Deleting an account (issue 12, P29): at once every session ends, the linked chats are
forgotten, the integrations are revoked at their services and the Stripe subscription is
cancelled; the data waits VOPIX_DELETION_GRACE_DAYS (a restore link in the confirmation mail
undoes the deletion until then), and the scheduled purge (privacy/purge.py) removes it all.

Every function is synchronous (states call them through asyncio.to_thread, like all of core);
the revocations at the services run on an event loop of their own.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import stripe
from sqlalchemy import delete
from sqlmodel import Session, col, select

from vopix.core import account_standing, accounts, action_tokens, http, support
from vopix.core.action_tokens import TokenInvalid
from vopix.core.clock import local_time, utcnow
from vopix.core.kinds import MailKind, TokenPurpose
from vopix.core.mail import outbox
from vopix.core.mail.templates import TEMPLATES, Text
from vopix.db import session_scope
from vopix.models import (
    AgentProfile,
    BillingAccount,
    ChannelLink,
    ChannelLinkCode,
    LoginNonce,
    OAuthState,
    User,
)
from vopix.settings import get_settings

log = logging.getLogger("vopix.deletion")
RESTORE_PATH = "/restore-account"
SESSION_REASON = "account_deleted"  # auth_session.revoked_reason (32 chars at most)

TEMPLATES.setdefault("account_deletion", {
    "en": Text(
        "Your VOPIX account is being deleted",
        ("You deleted your VOPIX account {email} on {when}. Every session was signed out, your "
         "linked chats were unlinked, your connected services were disconnected and their tokens "
         "revoked, and any paid subscription was cancelled.",
         "Your data is kept until {until}, then deleted for good: messages, workspace files, "
         "settings and everything else. Until then the link below restores the account (it "
         "works once). Services and chats stay disconnected: connect them again if you restore.",
         "If you did not delete your account, restore it and change your password.{support}"),
        action="Restore my account",
    ),
})
TEMPLATES.setdefault("account_deleted", {
    "en": Text(
        "Your VOPIX account was deleted",
        ("Your VOPIX account and all its data were deleted on {when}: the account {email}, its "
         "messages, workspace files, settings, usage records and connections. Access-log "
         "entries keep no link to you.",
         "This is the last mail VOPIX sends to this address.{support}"),
    ),
})


class DeletionError(ValueError):
    """A refusal whose message is safe to show."""


@dataclass(frozen=True)
class Requested:
    purge_after: datetime
    notes: tuple[str, ...]  # what the services said (a revocation they did not confirm, ...)


@dataclass(frozen=True)
class Restored:
    user_id: int
    email: str


def grace() -> timedelta:
    return timedelta(days=get_settings().deletion_grace_days)


def run_async(coro: Coroutine[Any, Any, Any]) -> Any:
    """Run a coroutine on a loop of its own (from a worker thread, the CLI or a job), closing
    the HTTP clients it pooled on that loop."""

    async def main() -> Any:
        try:
            return await coro
        finally:
            await http.close_all()

    return asyncio.run(main())


def _language(s: Session, user_id: int) -> str:
    profile = s.get(AgentProfile, user_id)
    return (profile.language if profile else "") or "en"


def zone_of(s: Session, user_id: int) -> str | None:
    """The person's time zone, for the times a mail gives (None: UTC)."""
    profile = s.get(AgentProfile, user_id)
    return profile.timezone if profile else None


def _forget_links(s: Session, user_id: int) -> None:
    """Linked chats and numbers (the ids themselves), pending link codes, login codes and
    OAuth connects in progress: nothing can reach the account any more."""
    for model in (ChannelLink, ChannelLinkCode, LoginNonce, OAuthState):
        s.execute(delete(model).where(col(model.user_id) == user_id))


def begin(
    user_id: int, *, grace_period: timedelta, restorable: bool, now: datetime | None = None
) -> datetime:
    """The part that commits at once: the account is marked deleting (login refused), every
    session ends, linked chats are forgotten and (when `restorable`) the confirmation mail with
    its restore link is queued. Returns when the purge may run. DeletionError when the account
    is gone or already being deleted."""
    moment = now or utcnow()
    with session_scope() as s:
        user = s.exec(select(User).where(User.id == user_id).with_for_update()).first()
        if user is None:
            raise DeletionError("Account not found.")
        if user.deletion_requested_at is not None:
            raise DeletionError("This account is already being deleted.")
        purge_after = moment + grace_period
        user.deletion_requested_at = moment
        user.purge_after = purge_after
        user.updated_at = moment
        s.add(user)
        account_standing.end_every_session(s, user_id, SESSION_REASON)
        _forget_links(s, user_id)
        action_tokens.revoke_all(s, user_id, TokenPurpose.ACCOUNT_RESTORE)
        if restorable:
            token = action_tokens.issue(s, user_id, TokenPurpose.ACCOUNT_RESTORE, grace_period)
            outbox.enqueue(
                s, to=user.email, kind=MailKind.ACCOUNT, template="account_deletion", user_id=user_id,
                language=_language(s, user_id), email=user.email,
                when=local_time(moment, zone_of(s, user_id)),
                until=local_time(purge_after, zone_of(s, user_id)), support=support.contact_sentence(),
                action_url=outbox.link(f"{RESTORE_PATH}?token={token}"),
            )
        return purge_after


async def revoke_integrations(user_id: int) -> list[str]:
    """Revoke every connected service's token at the service, then delete the connection and
    its tokens here (quietly: no "disconnected" alert for an account being deleted)."""
    from vopix.core.integrations import connections, disconnect
    from vopix.core.integrations.services import service

    notes: list[str] = []
    for service_id in await asyncio.to_thread(connections.list_connections, user_id):
        found = await asyncio.to_thread(connections.tokens_for_revoke, user_id, service_id)
        revoked = await disconnect.revoke_at_service(service_id, *found) if found else False
        await asyncio.to_thread(connections.remove, user_id, service_id, alert=False)
        if found and not revoked:
            notes.append(
                f"{service(service_id).label} did not confirm the revocation of its token (deleted "
                f"here): remove VOPIX from your authorized apps there to be sure."
            )
    return notes


def cancel_subscription(user_id: int) -> bool:
    """Cancel the person's live Stripe subscriptions at once. True when nothing is left to
    cancel (or billing is off); False when Stripe could not be reached (the purge tries again)."""
    from vopix.core.billing import stripe_api
    from vopix.core.billing.sync import LIVE_STATUSES

    with session_scope() as s:
        account = s.get(BillingAccount, user_id)
        customer_id = account.customer_id if account else None
    if not customer_id:
        return True
    if not stripe_api.enabled():
        return True
    try:
        client = stripe_api.client()
        listed = client.v1.subscriptions.list(params={"customer": customer_id, "status": "all", "limit": 20})
        for sub in listed.data:
            if sub.status in LIVE_STATUSES:
                client.v1.subscriptions.cancel(sub.id)
    except stripe.StripeError:
        log.warning("deletion: could not cancel the subscriptions of account %s", user_id)
        return False
    return True


def delete_stripe_customer(customer_id: str) -> bool:
    """At the purge: the Stripe customer (the person's email and payment methods at Stripe) is
    deleted too. True when it is gone or there is nothing to delete; False when Stripe could
    not be reached (the purge tries again). Stripe keeps the invoices it must by law."""
    from vopix.core.billing import stripe_api

    if not customer_id or not stripe_api.enabled():
        return True
    try:
        stripe_api.client().v1.customers.delete(customer_id)
    except stripe.InvalidRequestError as exc:
        if exc.code == "resource_missing":  # deleted already (a purge stopped after it)
            return True
        log.warning("deletion: Stripe refused to delete the customer of a purged account")
        return False
    except stripe.StripeError:
        log.warning("deletion: could not reach Stripe to delete the customer of a purged account")
        return False
    return True


def stop_services(user_id: int) -> list[str]:
    """The parts that talk to other services; safe to repeat (the purge does, first)."""
    notes = run_async(revoke_integrations(user_id))
    if not cancel_subscription(user_id):
        notes.append("Stripe could not be reached to cancel your subscription; we will try again.")
    return notes


def request_deletion(user_id: int, password: str, *, ip: str = "") -> Requested:
    """The person deletes their own account after a throttled check of the current password
    (AccountError, LoginThrottled: nothing changes)."""
    accounts.verify_current_password(user_id, password, ip=ip)
    purge_after = begin(user_id, grace_period=grace(), restorable=True)
    return Requested(purge_after, tuple(stop_services(user_id)))


RESTORE_PROBLEMS = {
    "unknown": "This restore link is not valid. If the account was already deleted for good, "
               "it cannot be restored.",
    "used": "This restore link was already used. If your account was restored, log in.",
    "expired": "This restore link has expired: the grace period is over and the account is "
               "deleted for good.",
}


def restore_problem(token: str) -> str:
    """'' when the link would restore an account now, else what is wrong with it."""
    try:
        action_tokens.peek(token, TokenPurpose.ACCOUNT_RESTORE)
    except TokenInvalid as exc:
        return RESTORE_PROBLEMS[exc.reason]
    return ""


def restore(token: str, *, now: datetime | None = None) -> Restored:
    """Undo a deletion inside its grace period: the account can log in again (afresh: no old
    session comes back; services and chats stay disconnected). TokenInvalid: see
    RESTORE_PROBLEMS."""
    moment = now or utcnow()
    with session_scope() as s:
        user_id = action_tokens.redeem(s, token, TokenPurpose.ACCOUNT_RESTORE).user_id
        user = s.exec(select(User).where(User.id == user_id).with_for_update()).first()
        if user is None or user.deletion_requested_at is None:
            raise TokenInvalid("used")
        if user.purge_after is not None and user.purge_after <= moment:
            raise TokenInvalid("expired")  # the purge is due: the grace period is over
        user.deletion_requested_at = None
        user.purge_after = None
        user.updated_at = moment
        s.add(user)
        return Restored(user_id, user.email)
