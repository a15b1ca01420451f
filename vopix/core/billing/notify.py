"""What a person is told when their billing changes: a failed payment (mail and notice, with the
way to fix it) and a paid plan that ended. Each notice is once-only by its key; a mail goes only
with a new notice, so repeated syncs of the same state say nothing twice."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col

from vopix.core import support
from vopix.core.clock import utcnow
from vopix.core.kinds import MailKind, NoticeKind
from vopix.core.mail import outbox
from vopix.core.plans import FREE
from vopix.models import AgentProfile, Notice, Plan, User

if TYPE_CHECKING:
    from vopix.core.billing.sync import Snapshot

BILLING_LINK = "/billing"


def _notice(s: Session, user_id: int, kind: NoticeKind, key: str, text: str, level: str) -> bool:
    try:
        with s.begin_nested():
            s.add(Notice(user_id=user_id, key=key[:120], kind=kind, level=level, text=text,
                         link=BILLING_LINK))
        return True
    except IntegrityError:  # said already
        return False


def _mail(s: Session, user_id: int, template: str, **params: str) -> None:
    user = s.get(User, user_id)
    if user is None or user.deletion_requested_at is not None:
        return  # an account being deleted had its subscription cancelled by the deletion: no mail
    profile = s.get(AgentProfile, user_id)
    outbox.enqueue(
        s, to=user.email, kind=MailKind.BILLING, template=template, user_id=user_id,
        language=(profile.language if profile else "") or "en", action_url=outbox.link(BILLING_LINK),
        support=support.contact_sentence(), **params,
    )


def transition(
    s: Session, user_id: int, before_status: str, snap: Snapshot, before_plan: str, after_plan: str
) -> None:
    """Compare what was stored with the new snapshot and say what the person must know."""
    if snap.status == "past_due" and before_status != "past_due":
        text = (
            "Your last payment failed. Stripe will try again over the next days and your plan stays "
            "meanwhile; update your payment method on the Billing page to keep it."
        )
        key = f"billing:past_due:{snap.subscription_id}:{snap.current_period_end}"
        if _notice(s, user_id, NoticeKind.PAYMENT_FAILED, key, text, "error"):
            _mail(s, user_id, "payment_failed", plan=_plan_name(s, after_plan))
    if before_status == "past_due" and snap.status != "past_due":
        # Paid (or ended): the failed-payment notice has done its job.
        s.execute(
            update(Notice)
            .where(col(Notice.user_id) == user_id, col(Notice.kind) == NoticeKind.PAYMENT_FAILED,
                   col(Notice.read_at).is_(None))
            .values(read_at=utcnow())
        )
    if before_plan != FREE and after_plan == FREE:
        name = _plan_name(s, before_plan)
        if snap.status == "unpaid":  # lapsed, not ended: paying the open invoice brings it back
            text = (
                f"Stripe could not collect the payment for your {name} plan, so your account is on "
                "the Free plan until it is paid: pay it with Manage billing on the Billing page. "
                "Nothing was deleted."
            )
            template = "plan_unpaid"
        else:
            text = (
                f"Your {name} plan has ended and your account is on the Free plan now. Nothing was "
                "deleted; where you are over a Free limit, new messages or files wait until you "
                "upgrade again or make room."
            )
            template = "plan_ended"
        key = f"billing:{template}:{before_plan}:{snap.subscription_id}:{utcnow():%Y-%m-%d}"
        if _notice(s, user_id, NoticeKind.BILLING, key, text, "warning"):
            _mail(s, user_id, template, plan=name)


def _plan_name(s: Session, plan_id: str) -> str:
    plan = s.get(Plan, plan_id)
    return plan.name if plan else plan_id
