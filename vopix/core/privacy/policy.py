"""Privacy policy versions and their notices (P34).

`publish` stores a version (refusing a material change effective less than 14 days ahead, with
nothing stored), then `send_notices` queues one service mail per account through the outbox, a
batch per transaction in ascending user id; the version's cursor says how far it got, so a
restart (the `policy_notices` job) resumes where it stopped and no one is mailed twice. In the
app, `banner_for` gives the newest version published since the person signed up until they
dismiss it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import func, update
from sqlmodel import col, select

from vopix.core import jobs
from vopix.core.clock import utcnow
from vopix.core.kinds import MailKind
from vopix.core.mail import outbox
from vopix.core.mail.addresses import BadAddress
from vopix.db import core, insert_ignoring_duplicates, session_scope
from vopix.models import AgentProfile, PolicyDismissal, PolicyVersion, User

NOTICE_DAYS = 14  # the policy: material changes are announced at least 14 days ahead
BATCH = 500
POLICY_PATH = "/policy"
_VERSION = PolicyVersion.__table__  # type: ignore[attr-defined]


class PolicyError(ValueError):
    """A refused publication; the message is safe to show and nothing was stored."""


@dataclass(frozen=True)
class Published:
    id: int
    version: str
    effective_on: date
    material: bool
    notices_queued: int


def earliest_material_date(now: datetime | None = None) -> date:
    return (now or utcnow()).date() + timedelta(days=NOTICE_DAYS)


def _check(version: str, summary: str, effective_on: date, material: bool, now: datetime) -> None:
    if not version or len(version) > 32:
        raise PolicyError("Give a version name of at most 32 characters (for example 2027-01).")
    if not summary or len(summary) > 600:
        raise PolicyError("Give a summary of the change of at most 600 characters.")
    today = now.date()
    if effective_on < today:
        raise PolicyError(f"The effective date {effective_on:%Y-%m-%d} is in the past.")
    if material and effective_on < earliest_material_date(now):
        raise PolicyError(
            f"A material change needs {NOTICE_DAYS} days' notice: the earliest effective date "
            f"is {earliest_material_date(now):%Y-%m-%d} (you gave {effective_on:%Y-%m-%d}). "
            "Nothing was published."
        )


def publish(
    *, version: str, summary: str, effective_on: date, material: bool = True, body: str = "",
    by: str, by_user_id: int | None = None, now: datetime | None = None, send: bool = True,
) -> Published:
    """Store the version and (by default) queue the notice mails now."""
    moment = now or utcnow()
    version, summary = version.strip(), " ".join(summary.split())
    _check(version, summary, effective_on, material, moment)
    with session_scope() as s:
        if s.exec(select(PolicyVersion.id).where(PolicyVersion.version == version)).first():
            raise PolicyError(f"Version {version} is published already. Nothing was changed.")
        row = PolicyVersion(
            version=version, summary=summary, body=body, effective_on=effective_on,
            material=material, published_at=moment, published_by=by[:120],
            published_by_user_id=by_user_id,
        )
        s.add(row)
        s.flush()
        assert row.id is not None
        version_id = row.id
    queued = send_notices(version_id) if send else 0
    return Published(version_id, version, effective_on, material, queued)


def _mail_params(row: PolicyVersion) -> dict[str, str]:
    change = "This is a material change." if row.material else "This is a minor change."
    return dict(
        version=row.version, summary=row.summary, effective=f"{row.effective_on:%Y-%m-%d}",
        change=change, action_url=outbox.link(POLICY_PATH),
    )


def send_batch(version_id: int, batch: int = BATCH, now: datetime | None = None) -> int | None:
    """Queue the next batch of notices in one transaction: the number queued, or None when
    every account has its notice (the version is then marked as sent)."""
    with session_scope() as s:
        row = s.get(PolicyVersion, version_id)
        if row is None or row.notices_sent_at is not None:
            return None
        cursor = row.notice_cursor
        people = s.exec(
            select(User.id, User.email, AgentProfile.language)
            .join(AgentProfile, col(AgentProfile.user_id) == col(User.id), isouter=True)
            .where(col(User.id) > cursor, col(User.created_at) <= row.published_at)
            .order_by(col(User.id)).limit(batch)
        ).all()
        if not people:
            s.execute(update(_VERSION).where(_VERSION.c.id == version_id,
                                             _VERSION.c.notices_sent_at.is_(None))
                      .values(notices_sent_at=now or utcnow()))
            return None
        params = _mail_params(row)
        # Claim the batch first: a second worker on the same cursor matches no row and rolls back.
        claimed = core(s).execute(
            update(_VERSION).where(_VERSION.c.id == version_id, _VERSION.c.notice_cursor == cursor)
            .values(notice_cursor=people[-1][0], notices_queued=_VERSION.c.notices_queued + len(people))
        ).rowcount
        if claimed != 1:
            s.rollback()
            return 0
        for user_id, email, language in people:
            try:
                outbox.enqueue(s, to=email, kind=MailKind.POLICY, template="policy_notice",
                               user_id=user_id, language=language or "en", **params)
            except BadAddress:
                continue  # an address the outbox cannot send to: the banner still tells them
        return len(people)


def send_notices(version_id: int, batch: int = BATCH) -> int:
    """Queue every remaining notice of this version, batch by batch. Returns how many."""
    total = 0
    while (n := send_batch(version_id, batch)) is not None:
        total += n
    return total


def resume_notices(now: datetime) -> int:
    """The job: finish the notices of any version whose mailing stopped half-way."""
    with session_scope() as s:
        pending = s.exec(select(PolicyVersion.id).where(col(PolicyVersion.notices_sent_at).is_(None))).all()
    return sum(send_notices(v) for v in pending if v is not None)


def install() -> None:
    jobs.register_job(jobs.Job("policy_notices", timedelta(minutes=5), resume_notices))


# -- reading ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class Banner:
    version_id: int
    version: str
    summary: str
    effective_on: date
    material: bool


def banner_for(user_id: int) -> Banner | None:
    """The newest version published since the person signed up, unless they dismissed it."""
    with session_scope() as s:
        joined = s.exec(select(User.created_at).where(User.id == user_id)).first()
        if joined is None:
            return None
        row = s.exec(
            select(PolicyVersion).where(col(PolicyVersion.published_at) > joined)
            .order_by(col(PolicyVersion.published_at).desc(), col(PolicyVersion.id).desc()).limit(1)
        ).first()
        if row is None or row.id is None:
            return None
        if s.get(PolicyDismissal, (user_id, row.id)) is not None:
            return None
        return Banner(row.id, row.version, row.summary, row.effective_on, row.material)


def dismiss(user_id: int, version_id: int) -> None:
    with session_scope() as s:
        if s.get(PolicyVersion, version_id) is None:
            return
        table = PolicyDismissal.__table__  # type: ignore[attr-defined]
        stmt = insert_ignoring_duplicates(table, ("user_id", "policy_version_id"), s.get_bind().dialect.name)
        core(s).execute(stmt.values(user_id=user_id, policy_version_id=version_id, dismissed_at=utcnow()))


def latest() -> PolicyVersion | None:
    with session_scope() as s:
        newest = (col(PolicyVersion.published_at).desc(), col(PolicyVersion.id).desc())
        return s.exec(select(PolicyVersion).order_by(*newest)).first()


def list_versions(limit: int = 20) -> list[PolicyVersion]:
    with session_scope() as s:
        return list(s.exec(select(PolicyVersion).order_by(col(PolicyVersion.id).desc()).limit(limit)).all())


def dismissed_count(version_id: int) -> int:
    with session_scope() as s:
        return int(s.exec(select(func.count()).select_from(PolicyDismissal)
                          .where(PolicyDismissal.policy_version_id == version_id)).one())
