"""When a task runs: its rule (python-dateutil's RFC 5545 rrule) read in the person's time zone.

A schedule is stored as written: a local wall-clock start ("YYYY-MM-DDTHH:MM", no zone), an
RRULE without DTSTART ("" for a one-off) and the IANA zone. Occurrences are computed in local
wall-clock time, one per local time the rule names, then turned into UTC instants by the DST rule:

- a local time that does not exist (spring forward: 02:30 in Berlin on the last Sunday of
  March) runs at the first valid minute after it (03:00 local, the moment of the change);
- a local time that occurs twice (fall back: 02:30 in Berlin on the last Sunday of October)
  runs once, at its first occurrence (the summer-time one, fold=0).

Minutes are the resolution: seconds in a rule or a start are dropped.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from dateutil import rrule as rr

MIN_INTERVAL = timedelta(minutes=5)
LOCAL_FORMAT = "%Y-%m-%dT%H:%M"
MAX_GAP_MINUTES = 48 * 60  # the longest clock jump ever seen is a day (Samoa, 2011)
# Occurrences before a local time are looked at from this far back, so that a gap's moved
# time (later than written) or a fall-back's first pass is not missed.
LOOK_BACK = timedelta(hours=26)
CHECK_OCCURRENCES = 400  # 5 minutes apart, they span more than LOOK_BACK
RULE_MAX_CHARS = 500
WEEKDAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
DAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_DAY_ALIASES = {n.lower(): c for n, c in zip(DAY_NAMES, WEEKDAYS, strict=True)} | {
    n.lower()[:3]: c for n, c in zip(DAY_NAMES, WEEKDAYS, strict=True)
} | {c.lower(): c for c in WEEKDAYS}
REPEATS = ("once", "daily", "weekdays", "weekly", "monthly", "rrule")
_TIME = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")


class ScheduleError(ValueError):
    """A schedule that cannot be kept; the message says why, for the person."""


@dataclass(frozen=True)
class Schedule:
    start_local: str
    rrule: str
    timezone: str

    @property
    def recurring(self) -> bool:
        return bool(self.rrule)


def zone(name: str) -> ZoneInfo:
    try:
        if not name or name != name.strip():
            raise ValueError
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ScheduleError(
            f"{name!r} is not a time zone I know. Use an IANA name such as Europe/Berlin or "
            "America/New_York."
        ) from None


def _exists(naive: datetime, tz: ZoneInfo) -> bool:
    back = naive.replace(tzinfo=tz, fold=0).astimezone(UTC).astimezone(tz)
    return back.replace(tzinfo=None) == naive


def resolve(naive: datetime, tz: ZoneInfo) -> datetime:
    """A local wall-clock time as a UTC instant, by the DST rule above."""
    moment = naive.replace(second=0, microsecond=0, tzinfo=None)
    for _ in range(MAX_GAP_MINUTES):
        if _exists(moment, tz):
            return moment.replace(tzinfo=tz, fold=0).astimezone(UTC)
        moment += timedelta(minutes=1)
    raise ScheduleError("that local time does not exist in this time zone")


def local_naive(moment: datetime, tz: ZoneInfo) -> datetime:
    return moment.astimezone(tz).replace(tzinfo=None)


def parse_local(text: str) -> datetime:
    """ "2026-12-03 09:00" or "2026-12-03T09:00" (seconds and a zone are not accepted)."""
    cleaned = " ".join(str(text or "").split()).replace(" ", "T", 1)
    try:
        return datetime.strptime(cleaned, LOCAL_FORMAT)
    except ValueError:
        raise ScheduleError(
            f"{text!r} is not a date and time I can read: write it as YYYY-MM-DD HH:MM, in the "
            "person's local time."
        ) from None


def parse_time(text: str) -> tuple[int, int]:
    m = _TIME.match(str(text or "").strip())
    if not m:
        raise ScheduleError(f"{text!r} is not a time of day: write it as HH:MM (24-hour clock).")
    return int(m.group(1)), int(m.group(2))


def _rule(schedule: Schedule) -> rr.rrule:
    start = parse_local(schedule.start_local)
    try:
        rule = rr.rrulestr(schedule.rrule, dtstart=start, forceset=False)
    except (ValueError, TypeError) as exc:
        raise ScheduleError(f"the RRULE {schedule.rrule!r} is not valid ({exc}).") from None
    if not isinstance(rule, rr.rrule):
        raise ScheduleError("give one RRULE (no RDATE or EXDATE lines).")
    return rule


def _first_after(rule: rr.rrule, tz: ZoneInfo, after: datetime) -> datetime | None:
    candidate = rule.after(local_naive(after, tz) - LOOK_BACK, inc=True)
    while candidate is not None:
        moment = resolve(candidate, tz)
        if moment > after:
            return moment
        candidate = rule.after(candidate)
    return None


def next_after(schedule: Schedule, after: datetime) -> datetime | None:
    """The first run strictly after `after` (aware), as a UTC instant; None when none is left."""
    tz = zone(schedule.timezone)
    if not schedule.rrule:
        once = resolve(parse_local(schedule.start_local), tz)
        return once if once > after else None
    return _first_after(_rule(schedule), tz, after)


def upcoming(schedule: Schedule, after: datetime, count: int = 3) -> list[datetime]:
    out: list[datetime] = []
    moment: datetime | None = after
    while moment is not None and len(out) < count:
        moment = next_after(schedule, moment)
        if moment is not None:
            out.append(moment)
    return out


def check(schedule: Schedule, now: datetime) -> datetime:
    """Refuse a schedule that would never run, or runs more often than every 5 minutes;
    the first run otherwise."""
    tz = zone(schedule.timezone)
    if len(schedule.rrule) > RULE_MAX_CHARS:
        raise ScheduleError(f"the RRULE is longer than {RULE_MAX_CHARS} characters.")
    if not schedule.rrule:
        first = resolve(parse_local(schedule.start_local), tz)
        if first <= now:
            raise ScheduleError(
                f"{schedule.start_local.replace('T', ' ')} in {schedule.timezone} is in the past. "
                "Give a time in the future."
            )
        return first
    rule = _rule(schedule)
    if rule._freq == rr.SECONDLY:
        raise ScheduleError("a task can run at most every 5 minutes; this rule repeats every few seconds.")
    if "BYEASTER" in schedule.rrule.upper():
        raise ScheduleError("BYEASTER is not part of RFC 5545; give a standard RRULE.")
    # dateutil looks for the next occurrence up to the year 9999 (a rule that never fires
    # would take seconds), so the rule is checked moved forward by whole 400-year Gregorian
    # cycles (the same weekdays and leap years) to just before 9999: the search ends there.
    local_now = local_naive(now, tz)
    shift = 400 * ((9999 - 10 - local_now.year) // 400)

    def moved(t: datetime) -> datetime:
        return t.replace(year=t.year + shift)

    until = rule._until
    probe = rule.replace(dtstart=moved(parse_local(schedule.start_local)),
                         until=moved(until) if until is not None else None)
    after = moved(local_now) - LOOK_BACK
    times = list(probe.xafter(after, count=CHECK_OCCURRENCES, inc=True))
    for a, b in itertools.pairwise(times):
        if b - a < MIN_INTERVAL:
            raise ScheduleError(
                "a task can run at most every 5 minutes; this rule runs more often "
                f"({a:%H:%M} then {b:%H:%M})."
            )
    for t in times:
        first = resolve(t.replace(year=t.year - shift), tz)
        if first > now:
            return first
    raise ScheduleError("this rule never runs (it has no occurrence after now).")


def build(spec: dict[str, object], timezone: str, now: datetime) -> Schedule:
    """A schedule from the tools' and the page's fields: `repeat` (once, daily, weekdays,
    weekly, monthly, rrule), `when` ("YYYY-MM-DD HH:MM" local) or `in_minutes` for a one-off,
    `time` ("HH:MM") for the recurring kinds, `days` for weekly, `day_of_month` for monthly,
    `rrule` for a custom rule. Checked (see `check`)."""
    tz = zone(timezone)
    repeat = str(spec.get("repeat") or "once").strip().lower()
    if repeat not in REPEATS:
        raise ScheduleError(f"repeat must be one of {', '.join(REPEATS)}, not {repeat!r}.")
    local_now = local_naive(now, tz).replace(second=0, microsecond=0)
    if repeat == "once":
        minutes = spec.get("in_minutes")
        if minutes not in (None, ""):
            try:
                delta = int(str(minutes))
            except ValueError:
                raise ScheduleError("in_minutes must be a whole number of minutes.") from None
            if delta < 1:
                raise ScheduleError("in_minutes must be at least 1.")
            start = local_naive(now + timedelta(minutes=delta), tz).replace(second=0, microsecond=0)
        elif spec.get("when"):
            start = parse_local(str(spec["when"]))
        else:
            raise ScheduleError("say when: give `when` (YYYY-MM-DD HH:MM) or `in_minutes`.")
        schedule = Schedule(start.strftime(LOCAL_FORMAT), "", timezone)
        check(schedule, now)
        return schedule
    if spec.get("when"):
        start = parse_local(str(spec["when"]))
    elif spec.get("time"):
        hour, minute = parse_time(str(spec["time"]))
        start = local_now.replace(hour=hour, minute=minute)
    elif repeat == "rrule":
        start = local_now + timedelta(minutes=1)
    else:
        raise ScheduleError("say at what time: give `time` as HH:MM.")
    rule = _rule_text(repeat, spec)
    schedule = Schedule(start.strftime(LOCAL_FORMAT), rule, timezone)
    check(schedule, now)
    return schedule


def _rule_text(repeat: str, spec: dict[str, object]) -> str:
    if repeat == "daily":
        return "FREQ=DAILY"
    if repeat == "weekdays":
        return "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR"
    if repeat == "weekly":
        raw = spec.get("days") or []
        items = raw.replace(",", " ").split() if isinstance(raw, str) else list(raw)  # type: ignore[call-overload]
        days = []
        for item in items:
            code = _DAY_ALIASES.get(str(item).strip().lower())
            if code is None:
                raise ScheduleError(f"{item!r} is not a day of the week.")
            if code not in days:
                days.append(code)
        if not days:
            raise ScheduleError("say which days: give `days`, e.g. [\"MO\", \"TH\"].")
        days.sort(key=WEEKDAYS.index)
        return f"FREQ=WEEKLY;BYDAY={','.join(days)}"
    if repeat == "monthly":
        try:
            day = int(str(spec.get("day_of_month")))
        except ValueError:
            raise ScheduleError("say which day of the month: give `day_of_month` (1-31).") from None
        if not 1 <= day <= 31:
            raise ScheduleError("day_of_month must be between 1 and 31.")
        return f"FREQ=MONTHLY;BYMONTHDAY={day}"
    text = str(spec.get("rrule") or "").strip()
    if text.upper().startswith("RRULE:"):
        text = text[6:].strip()
    if not text:
        raise ScheduleError("give the rule in `rrule`, e.g. FREQ=WEEKLY;BYDAY=MO.")
    if "\n" in text or "DTSTART" in text.upper():
        raise ScheduleError("give only the RRULE line (the start is `when` or `time`).")
    return text


# -- in words ---------------------------------------------------------------------------------
def describe(schedule: Schedule) -> str:
    """The schedule as the Tasks page and the agent say it: "Every weekday at 18:00"."""
    start = parse_local(schedule.start_local)
    at = f"{start:%H:%M}"
    if not schedule.rrule:
        return f"Once, on {start:%a} {start.day} {start:%b %Y} at {at}"
    parts = dict(
        p.split("=", 1) for p in schedule.rrule.upper().split(";") if "=" in p
    )
    freq, interval = parts.pop("FREQ", ""), int(parts.pop("INTERVAL", "1") or 1)
    limits = ""
    if "COUNT" in parts:
        limits = f", {parts.pop('COUNT')} times"
    if "UNTIL" in parts:
        limits += f", until {parts.pop('UNTIL')[:8]}"
    plain = not parts or set(parts) <= {"BYDAY", "BYMONTHDAY"}
    if freq == "DAILY" and not parts:
        every = "Every day" if interval == 1 else f"Every {interval} days"
        return f"{every} at {at}{limits}"
    if freq == "WEEKLY" and plain and "BYMONTHDAY" not in parts:
        days = parts.get("BYDAY", WEEKDAYS[start.weekday()]).split(",")
        names = [DAY_NAMES[WEEKDAYS.index(d)] for d in days if d in WEEKDAYS]
        every = "Every" if interval == 1 else f"Every {interval} weeks on"
        if days == ["MO", "TU", "WE", "TH", "FR"] and interval == 1:
            return f"Every weekday at {at}{limits}"
        if len(names) == len(days) and names:
            listed = names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]
            return f"{every} {listed} at {at}{limits}"
    if freq == "MONTHLY" and set(parts) == {"BYMONTHDAY"} and parts["BYMONTHDAY"].isdigit():
        every = "Every month" if interval == 1 else f"Every {interval} months"
        return f"{every} on day {parts['BYMONTHDAY']} at {at}{limits}"
    if freq in ("HOURLY", "MINUTELY") and not parts:
        unit = "hour" if freq == "HOURLY" else "minute"
        every = f"Every {unit}" if interval == 1 else f"Every {interval} {unit}s"
        return f"{every} from {start:%Y-%m-%d %H:%M}{limits}"
    return f"By the rule {schedule.rrule}, from {start:%Y-%m-%d %H:%M}"


def in_quiet_hours(moment: datetime, tz: ZoneInfo, start: str, end: str) -> bool:
    """Is this instant inside the local quiet hours [start, end) (overnight when end < start)?"""
    if not start or not end or start == end:
        return False
    t = f"{moment.astimezone(tz):%H:%M}"
    return start <= t < end if start < end else (t >= start or t < end)


def quiet_hours_end(moment: datetime, tz: ZoneInfo, end: str) -> datetime:
    """The next instant after `moment` at which the local clock reads `end`."""
    hour, minute = parse_time(end)
    local = local_naive(moment, tz)
    candidate = local.replace(hour=hour, minute=minute, second=0, microsecond=0)
    if resolve(candidate, tz) <= moment:
        candidate += timedelta(days=1)
    return resolve(candidate, tz)
