"""Which mail a person gets (P12, P13): security alerts and the other service-critical mail
always; quota warnings unless they turn them off; product news only if they turn it on. Both
choices change at any time, on the account page or through a mail's unsubscribe link."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from sqlalchemy import select
from sqlmodel import Session

from vopix.core.clock import utcnow
from vopix.core.kinds import MailKind
from vopix.core.mail import outbox, unsubscribe
from vopix.core.mail.addresses import BadAddress
from vopix.db import session_scope
from vopix.models import AgentProfile, User

log = logging.getLogger("vopix.mail")

# The User column that holds each optional kind's choice.
_CHOICE = {MailKind.QUOTA: "quota_mail_opt_in", MailKind.PRODUCT_NEWS: "marketing_opt_in"}
NAMES = {MailKind.QUOTA: "quota warnings", MailKind.PRODUCT_NEWS: "product news"}


class ChoiceRefused(ValueError):
    """A choice that cannot be made (turning security alerts off); the message says why."""


@dataclass(frozen=True)
class MailChoices:
    quota: bool
    product_news: bool
    security: bool = True  # always: they cannot be turned off


def choices(user_id: int) -> MailChoices | None:
    with session_scope() as s:
        user = s.get(User, user_id)
        if user is None:
            return None
        return MailChoices(quota=user.quota_mail_opt_in, product_news=user.marketing_opt_in)


def _column(kind: MailKind) -> str:
    column = _CHOICE.get(kind)
    if column is None:
        raise ChoiceRefused(
            "Security alerts and other account mail cannot be turned off: they tell you when "
            "something happens to your account."
        )
    return column


def set_choice(user_id: int, kind: MailKind, on: bool) -> bool:
    """Turn an optional kind of mail on or off; False when there is no such account."""
    column = _column(kind)
    with session_scope() as s:
        user = s.get(User, user_id)
        if user is None:
            return False
        setattr(user, column, bool(on))
        user.updated_at = utcnow()
        s.add(user)
        return True


def unsubscribe_link(token: str) -> unsubscribe.Target:
    """What an unsubscribe link names (BadLink when forged or damaged, or when the account is
    gone). Changes nothing: the link's page shows it before the person confirms."""
    target = unsubscribe.read(token)
    with session_scope() as s:
        if s.get(User, target.user_id) is None:
            raise unsubscribe.BadLink("This link belongs to an account that no longer exists.")
    return target


def unsubscribe_by_link(token: str) -> unsubscribe.Target:
    """Turn off the kind of mail the link names, for the person it names (no login: the
    signed token is the authority). Doing it twice is harmless."""
    target = unsubscribe.read(token)
    if not set_choice(target.user_id, target.kind, False):
        raise unsubscribe.BadLink("This link belongs to an account that no longer exists.")
    return target


def queue_optional(s: Session, user_id: int, kind: MailKind, template: str, **params: str) -> int | None:
    """Queue an optional mail in the caller's transaction if the person wants this kind, with
    its unsubscribe link (footer and List-Unsubscribe headers). Returns the mail's id, or
    None when they opted out or their address cannot take mail (the event still happens)."""
    column = _column(kind)
    row = s.execute(
        select(User.email, getattr(User, column), AgentProfile.language)
        .outerjoin(AgentProfile, AgentProfile.user_id == User.id)  # type: ignore[arg-type]
        .where(User.id == user_id)  # type: ignore[arg-type]
    ).first()
    if row is None or not row[1]:
        return None
    try:
        return outbox.enqueue(
            s, to=row[0], kind=kind, template=template, user_id=user_id, language=row[2] or "en",
            unsubscribe_url=unsubscribe.url_for(user_id, kind), **params,
        )
    except BadAddress as exc:
        log.warning("no %s mail for user %s: %s", kind, user_id, exc)
        return None
