"""The one "when" format every page and mail uses: the person's zone, with its abbreviation."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from vopix.core.clock import local_time, zone_or_utc


def test_a_moment_is_shown_in_the_persons_zone_with_its_abbreviation() -> None:
    moment = datetime(2026, 12, 1, 14, 5, tzinfo=UTC)
    assert local_time(moment, "Europe/Lisbon") == "2026-12-01 14:05 WET"
    assert local_time(moment, "Asia/Tokyo") == "2026-12-01 23:05 JST"
    assert local_time(moment, "America/New_York") == "2026-12-01 09:05 EST"
    # The date moves too when the zone crosses midnight.
    assert local_time(datetime(2026, 12, 1, 20, 0, tzinfo=UTC), "Asia/Tokyo") == "2026-12-02 05:00 JST"


def test_summer_time_changes_the_hour_and_the_abbreviation() -> None:
    # Lisbon goes to WEST at 01:00 UTC on the last Sunday of March (2026-03-29).
    assert local_time(datetime(2026, 3, 29, 0, 59, tzinfo=UTC), "Europe/Lisbon") == "2026-03-29 00:59 WET"
    assert local_time(datetime(2026, 3, 29, 1, 0, tzinfo=UTC), "Europe/Lisbon") == "2026-03-29 02:00 WEST"
    # And back at 01:00 UTC on the last Sunday of October: 01:30 happens twice, told apart.
    assert local_time(datetime(2026, 10, 25, 0, 30, tzinfo=UTC), "Europe/Lisbon") == "2026-10-25 01:30 WEST"
    assert local_time(datetime(2026, 10, 25, 1, 30, tzinfo=UTC), "Europe/Lisbon") == "2026-10-25 01:30 WET"


@pytest.mark.parametrize("zone", ["", None, "Mars/Olympus", "../../etc/passwd", "UTC"])
def test_an_empty_or_unknown_zone_is_shown_as_utc(zone: str | None) -> None:
    assert local_time(datetime(2026, 12, 1, 14, 5, tzinfo=UTC), zone) == "2026-12-01 14:05 UTC"
    assert str(zone_or_utc(zone)) == "UTC"


def test_a_naive_datetime_is_refused_rather_than_guessed() -> None:
    # Every stored time is aware UTC (UTCDateTime); a naive one means a bug upstream.
    with pytest.raises(ValueError, match="naive"):
        local_time(datetime(2026, 12, 1, 14, 5), "Europe/Lisbon")
