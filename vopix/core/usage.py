"""Metering (API calls, tokens, messages per person per day) and plan limits."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import Update, bindparam, func, insert, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from vopix.core.clock import utcnow
from vopix.core.kinds import MailKind, NoticeKind
from vopix.core.mail import outbox, preferences
from vopix.core.plans import PlanLimits, limits_of
from vopix.db import core, session_scope
from vopix.models import Notice, UsageDaily

UPGRADE_LINK = "/billing"
_USAGE = UsageDaily.__table__  # type: ignore[attr-defined]
WARN_AT = (80, 100)


class QuotaExceeded(Exception):
    """Raised before a provider is called; the message is shown to the person."""


@dataclass(frozen=True)
class MonthUsage:
    messages: int
    api_calls: int
    input_tokens: int
    output_tokens: int


@dataclass(frozen=True)
class DayUsage:
    day: date
    messages: int
    api_calls: int
    input_tokens: int
    output_tokens: int


def month_start(now: datetime) -> date:
    return now.date().replace(day=1)


# Hot-path statements are built once, with bound parameters: building and hashing a new
# statement object per call costs more CPU than running it.
_COUNTERS = ("api_calls", "input_tokens", "output_tokens", "messages")
_BY_ROW = (
    _USAGE.c.user_id == bindparam("u"),
    _USAGE.c.day == bindparam("d"),
    _USAGE.c.model == bindparam("m"),
)
_INCREMENTS: dict[tuple[str, ...], Update] = {}


def _increment(keys: tuple[str, ...]) -> Update:
    stmt = _INCREMENTS.get(keys)
    if stmt is None:
        add = {_USAGE.c[k]: _USAGE.c[k] + bindparam(f"n_{k}") for k in keys}
        stmt = _INCREMENTS[keys] = update(_USAGE).where(*_BY_ROW).values(add)
    return stmt
_NEW_DAY = insert(_USAGE)


def _bump(s: Session, user_id: int, day: date, model: str, **deltas: int) -> None:
    """Add to the day's counters with one atomic UPDATE (no read-modify-write); the first
    use of a day inserts the row."""
    increment = _increment(tuple(deltas))
    params = {"u": user_id, "d": day, "m": model, **{f"n_{k}": v for k, v in deltas.items()}}
    if core(s).execute(increment, params).rowcount:
        return
    row = {**dict.fromkeys(_COUNTERS, 0), **deltas, "user_id": user_id, "day": day, "model": model}
    try:
        with s.begin_nested():
            core(s).execute(_NEW_DAY, row)
        return
    except IntegrityError:  # another worker created the row first
        pass
    core(s).execute(increment, params)


def record_message(user_id: int, now: datetime | None = None) -> None:
    """Every message a person sends counts toward the monthly message limit."""
    moment = now or utcnow()
    with session_scope() as s:
        _bump(s, user_id, moment.date(), "", messages=1)
        _warn(s, user_id, moment)


def admit_message(session: Session, user_id: int, now: datetime | None = None) -> None:
    """check_quota then record_message in the caller's transaction, reading the plan and the
    month's sums once: after the bump the month holds exactly one more message."""
    moment = now or utcnow()
    limits = limits_of(session, user_id)
    used = _month(session, user_id, moment)
    _refuse_over(limits, used)
    _bump(session, user_id, moment.date(), "", messages=1)
    after = MonthUsage(used.messages + 1, used.api_calls, used.input_tokens, used.output_tokens)
    if _just_below_a_warning(limits, after):
        # Turns admitted at the same time read the same sums: the bump above waited for theirs
        # (one usage row a day), so the month read again now is the true figure, and the 80% or
        # 100% warning is not missed by every one of them. Only near a threshold: no extra query
        # on the usual turn.
        after = _month(session, user_id, moment)
    _warn(session, user_id, moment, limits, after)


RACE_MARGIN = 16  # turns of one person admitted at once, at most, in practice


def _just_below_a_warning(limits: PlanLimits, used: MonthUsage) -> bool:
    pairs = ((used.messages, limits.messages_per_month), (used.api_calls, limits.api_calls_per_month))
    for value, limit in pairs:
        for pct in WARN_AT:
            threshold = limit * pct / 100
            if limit and threshold - RACE_MARGIN <= value < threshold:
                return True
    return False


def record_api_call(
    user_id: int, model: str, input_tokens: int, output_tokens: int, now: datetime | None = None
) -> None:
    with session_scope() as s:
        count_api_call(s, user_id, model, input_tokens, output_tokens, now)


def count_api_call(
    s: Session,
    user_id: int,
    model: str,
    input_tokens: int,
    output_tokens: int,
    now: datetime | None = None,
) -> None:
    """One provider call and its tokens, in the caller's transaction."""
    moment = now or utcnow()
    _bump(
        s,
        user_id,
        moment.date(),
        model[:120],
        api_calls=1,
        input_tokens=max(0, input_tokens),
        output_tokens=max(0, output_tokens),
    )
    _warn(s, user_id, moment)


_MONTH_SUMS = select(
    func.coalesce(func.sum(_USAGE.c.messages), 0),
    func.coalesce(func.sum(_USAGE.c.api_calls), 0),
    func.coalesce(func.sum(_USAGE.c.input_tokens), 0),
    func.coalesce(func.sum(_USAGE.c.output_tokens), 0),
).where(_USAGE.c.user_id == bindparam("u"), _USAGE.c.day >= bindparam("since"))


def _month(s: Session, user_id: int, now: datetime) -> MonthUsage:
    row = core(s).execute(_MONTH_SUMS, {"u": user_id, "since": month_start(now)}).one()
    return MonthUsage(int(row[0]), int(row[1]), int(row[2]), int(row[3]))


def month_usage(user_id: int, now: datetime | None = None) -> MonthUsage:
    with session_scope() as s:
        return _month(s, user_id, now or utcnow())


def daily_usage(user_id: int, days: int = 30, now: datetime | None = None) -> list[DayUsage]:
    """One entry per day for the chart, zeros included, oldest first."""
    today = (now or utcnow()).date()
    first = today - timedelta(days=days - 1)
    with session_scope() as s:
        rows = s.exec(
            select(
                UsageDaily.day,
                func.sum(UsageDaily.messages),
                func.sum(UsageDaily.api_calls),
                func.sum(UsageDaily.input_tokens),
                func.sum(UsageDaily.output_tokens),
            )
            .where(UsageDaily.user_id == user_id, col(UsageDaily.day) >= first)
            .group_by(UsageDaily.day)
        ).all()
    by_day = {r[0]: r for r in rows}
    out = []
    for i in range(days):
        d = first + timedelta(days=i)
        r = by_day.get(d)
        out.append(DayUsage(d, int(r[1]), int(r[2]), int(r[3]), int(r[4])) if r else DayUsage(d, 0, 0, 0, 0))
    return out


def check_quota(user_id: int, now: datetime | None = None) -> None:
    """Refuse a turn before any provider call when a monthly limit is reached."""
    with session_scope() as s:
        _refuse_over(limits_of(s, user_id), _month(s, user_id, now or utcnow()))


def _refuse_over(limits: PlanLimits, used: MonthUsage) -> None:
    if limits.messages_per_month and used.messages >= limits.messages_per_month:
        raise QuotaExceeded(
            f"You have used all {limits.messages_per_month} messages of your {limits.name} plan "
            "this month. Upgrade on the Billing page or wait for next month."
        )
    if limits.api_calls_per_month and used.api_calls >= limits.api_calls_per_month:
        raise QuotaExceeded(
            f"Your agent has used all {limits.api_calls_per_month} AI calls of your {limits.name} "
            "plan this month. Upgrade on the Billing page or wait for next month."
        )


def _warn(
    s: Session,
    user_id: int,
    moment: datetime,
    limits: PlanLimits | None = None,
    used: MonthUsage | None = None,
) -> list[str]:
    """In-app notices at 80% and 100% of each limit, once per month each, and the same
    warning by mail to those who did not turn it off (P12). `limits` and `used` spare the
    queries when the caller already knows them. Only a new notice costs a query for the mail:
    below 80% nothing more is read than before."""
    limits = limits_of(s, user_id) if limits is None else limits
    used = _month(s, user_id, moment) if used is None else used
    month = month_start(moment).strftime("%Y-%m")
    created = []
    for label, value, limit in (
        ("messages", used.messages, limits.messages_per_month),
        ("AI calls", used.api_calls, limits.api_calls_per_month),
    ):
        if not limit:
            continue
        for pct in WARN_AT:
            if value * 100 < limit * pct:
                continue
            key = f"quota:{label}:{pct}:{month}"
            if s.exec(select(Notice.id).where(Notice.user_id == user_id, Notice.key == key)).first():
                continue
            headline = (
                f"You have used {pct}% of this month's {limit} {label}."
                if pct < 100
                else f"You have reached this month's limit of {limit} {label}."
            )
            try:
                with s.begin_nested():
                    s.add(
                        Notice(
                            user_id=user_id,
                            key=key,
                            kind=NoticeKind.QUOTA,
                            text=headline + " Upgrade for more.",
                            link=UPGRADE_LINK,
                            level="warning" if pct < 100 else "error",
                        )
                    )
                created.append(key)
            except IntegrityError:  # another worker wrote it first, and mails it
                continue
            # The notice's unique key makes this transaction the only one to get here for
            # this limit, threshold and month: the mail goes once, and only if it commits.
            preferences.queue_optional(
                s, user_id, MailKind.QUOTA, "quota_warning", headline=headline, plan=limits.name,
                action_url=outbox.link(UPGRADE_LINK),
            )
    return created


def add_notice(
    user_id: int,
    key: str,
    text: str,
    *,
    kind: NoticeKind = NoticeKind.GENERAL,
    level: str = "info",
    link: str = "",
) -> bool:
    """Store a notice once per key; returns False when it already existed."""
    try:
        with session_scope() as s:
            s.add(Notice(user_id=user_id, key=key[:120], kind=kind, text=text, level=level, link=link))
        return True
    except IntegrityError:
        return False


def unread_notices(user_id: int, limit: int = 10, *, kind: NoticeKind | None = None) -> list[Notice]:
    """The person's unread notices, newest first; only those of `kind` when given."""
    of_kind = [Notice.kind == kind] if kind is not None else []
    with session_scope() as s:
        return list(
            s.exec(
                select(Notice)
                .where(Notice.user_id == user_id, col(Notice.read_at).is_(None), *of_kind)
                .order_by(col(Notice.created_at).desc())
                .limit(limit)
            )
        )


def dismiss_notice(user_id: int, notice_id: int) -> None:
    with session_scope() as s:
        n = s.get(Notice, notice_id)
        if n is not None and n.user_id == user_id:
            n.read_at = utcnow()
            s.add(n)


# -- sandboxed script runs (issue 16): wall seconds, metered like the rest --------------------
_RUN_SECONDS = select(func.coalesce(func.sum(_USAGE.c.run_seconds), 0)).where(
    _USAGE.c.user_id == bindparam("u"), _USAGE.c.day >= bindparam("since")
)


def run_time(seconds: int) -> str:
    """A run-time allowance in words: "10 minutes", "1 hour", "90 seconds"."""
    for size, unit in ((3600, "hour"), (60, "minute"), (1, "second")):
        if seconds % size == 0:
            n = seconds // size
            return f"{n:,} {unit}{'s' if n != 1 else ''}"
    return f"{seconds} seconds"


def run_seconds_used(s: Session, user_id: int, now: datetime | None = None) -> int:
    """Seconds of script runs this month (UTC)."""
    moment = now or utcnow()
    return int(core(s).execute(_RUN_SECONDS, {"u": user_id, "since": month_start(moment)}).scalar_one())


def admit_run(s: Session, user_id: int, now: datetime | None = None) -> int | None:
    """Before a run: the seconds left this month (None: the plan has no monthly limit), or
    QuotaExceeded when none are left."""
    limits = limits_of(s, user_id)
    if not limits.run_seconds_per_month:
        return None
    left = limits.run_seconds_per_month - run_seconds_used(s, user_id, now)
    if left <= 0:
        raise QuotaExceeded(
            f"Your scripts have used all {run_time(limits.run_seconds_per_month)} of run time of your "
            f"{limits.name} plan this month. Upgrade on the Billing page or wait for next month."
        )
    return left


def count_run_seconds(s: Session, user_id: int, seconds: int, now: datetime | None = None) -> None:
    """A finished run's wall seconds (rounded up), in the caller's transaction; an in-app
    notice once a month when they reach 80% and 100% of the plan's run time."""
    if seconds <= 0:
        return
    moment = now or utcnow()
    _bump(s, user_id, moment.date(), "", run_seconds=seconds)
    limits = limits_of(s, user_id)
    limit = limits.run_seconds_per_month
    if not limit:
        return
    used = run_seconds_used(s, user_id, moment)
    month = month_start(moment).strftime("%Y-%m")
    for pct in WARN_AT:
        if used * 100 < limit * pct:
            continue
        key = f"quota:run_seconds:{pct}:{month}"
        if s.exec(select(Notice.id).where(Notice.user_id == user_id, Notice.key == key)).first():
            continue
        headline = (
            f"Your scripts have used {pct}% of this month's {run_time(limit)} of run time."
            if pct < 100
            else f"Your scripts have used all of this month's {run_time(limit)} of run time."
        )
        try:
            with s.begin_nested():
                s.add(Notice(
                    user_id=user_id, key=key, kind=NoticeKind.QUOTA, text=headline + " Upgrade for more.",
                    link=UPGRADE_LINK, level="warning" if pct < 100 else "error",
                ))  # fmt: skip
        except IntegrityError:  # another run wrote it first
            continue
