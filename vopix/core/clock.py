"""The one place that reads the time, so tests and jobs can inject a clock."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError


def utcnow() -> datetime:
    return datetime.now(UTC)


def zone_or_utc(name: str | None) -> ZoneInfo:
    """The person's zone; an empty or unknown name (a zone dropped from tzdata) is UTC, so a
    page never fails over a setting."""
    try:
        return ZoneInfo(name) if name else ZoneInfo("UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def local_time(moment: datetime, zone: str | None) -> str:
    """The one "when" format of every page and mail: "2026-12-01 14:05 WET", in the person's
    zone with its abbreviation (which follows summer time). Naive datetimes are refused: every
    stored time is aware UTC (UTCDateTime), so a naive one is a bug, not a guess to make."""
    if moment.tzinfo is None:
        raise ValueError("naive datetime: give an aware (UTC) one")
    local = moment.astimezone(zone_or_utc(zone))
    return f"{local:%Y-%m-%d %H:%M} {local.tzname()}"
