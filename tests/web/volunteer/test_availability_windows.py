"""windows_for: weekly rules and dated exceptions expanded to aware UTC windows, DST included."""

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from web.models import AvailabilityException, AvailabilityRule, VolunteerProfile
from web.services.availability import merge, windows_for

CAIRO = ZoneInfo("Africa/Cairo")


def t(text: str) -> time:
    return time.fromisoformat(text)


def profile(rules=(), exceptions=(), zone: str = "Africa/Cairo") -> VolunteerProfile:
    p = VolunteerProfile(timezone=zone)
    for weekday, start, end in rules:
        p.availability_rules.append(
            AvailabilityRule(weekday=weekday, start_time=t(start), end_time=t(end))
        )
    for day, available, start, end in exceptions:
        p.availability_exceptions.append(
            AvailabilityException(
                day=day,
                available=available,
                start_time=t(start) if start else None,
                end_time=t(end) if end else None,
            )
        )
    return p


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def local(*args: int) -> datetime:
    return datetime(*args, tzinfo=CAIRO)


def test_weekly_rule_expands_on_its_weekday_only():
    # 2026-03-02 is a Monday (weekday 0); Cairo is UTC+2 in March.
    p = profile(rules=[(0, "09:00", "12:00")])
    windows = windows_for(p, utc(2026, 3, 1), utc(2026, 3, 15))
    assert windows == [
        (utc(2026, 3, 2, 7), utc(2026, 3, 2, 10)),
        (utc(2026, 3, 9, 7), utc(2026, 3, 9, 10)),
    ]
    assert all(a.tzinfo is not None and b.tzinfo is not None for a, b in windows)


def test_wall_clock_hours_kept_across_spring_forward():
    # Egypt moved clocks forward at 00:00 on Friday 2024-04-26 (UTC+2 -> UTC+3).
    p = profile(rules=[(4, "09:00", "12:00")])
    windows = windows_for(p, utc(2024, 4, 18), utc(2024, 5, 4))
    assert windows == [
        (utc(2024, 4, 19, 7), utc(2024, 4, 19, 10)),
        (utc(2024, 4, 26, 6), utc(2024, 4, 26, 9)),
        (utc(2024, 5, 3, 6), utc(2024, 5, 3, 9)),
    ]


def test_window_in_the_skipped_hour_uses_the_offset_before_the_change():
    p = profile(rules=[(4, "00:00", "02:00")])
    windows = windows_for(p, utc(2024, 4, 25), utc(2024, 4, 27))
    # 00:00 does not exist that night: read as 00:00+02:00 = 01:00+03:00; it ends at 02:00+03:00.
    assert windows == [(utc(2024, 4, 25, 22), utc(2024, 4, 25, 23))]


def test_window_until_midnight_on_the_night_clocks_go_back_is_an_hour_longer():
    # Thursday 2024-10-31: at 24:00 (UTC+3) clocks went back to 23:00 (UTC+2).
    p = profile(rules=[(3, "20:00", "23:59")])
    windows = windows_for(p, utc(2024, 10, 24), utc(2024, 11, 8))
    assert windows == [
        (utc(2024, 10, 24, 17), utc(2024, 10, 24, 21)),
        (utc(2024, 10, 31, 17), utc(2024, 10, 31, 22)),
        (utc(2024, 11, 7, 18), utc(2024, 11, 7, 22)),
    ]
    lengths = [b - a for a, b in windows]
    assert lengths == [timedelta(hours=4), timedelta(hours=5), timedelta(hours=4)]


def test_midnight_windows_of_consecutive_days_merge():
    p = profile(rules=[(0, "18:00", "23:59"), (1, "00:00", "06:00")])
    windows = windows_for(p, utc(2026, 3, 1), utc(2026, 3, 4))
    assert windows == [(utc(2026, 3, 2, 16), utc(2026, 3, 3, 4))]


def test_overlapping_and_adjacent_rules_merge():
    p = profile(rules=[(0, "09:00", "12:00"), (0, "11:00", "13:00"), (0, "13:00", "14:00")])
    windows = windows_for(p, utc(2026, 3, 2), utc(2026, 3, 3))
    assert windows == [(utc(2026, 3, 2, 7), utc(2026, 3, 2, 12))]


def test_whole_day_off_removes_every_window_that_day():
    p = profile(
        rules=[(0, "09:00", "12:00"), (0, "15:00", "17:00")],
        exceptions=[(date(2026, 3, 2), False, None, None)],
    )
    windows = windows_for(p, utc(2026, 3, 1), utc(2026, 3, 10))
    assert windows == [
        (utc(2026, 3, 9, 7), utc(2026, 3, 9, 10)),
        (utc(2026, 3, 9, 13), utc(2026, 3, 9, 15)),
    ]


def test_part_of_a_day_off_cuts_the_window():
    p = profile(
        rules=[(0, "09:00", "17:00")],
        exceptions=[(date(2026, 3, 2), False, "11:00", "13:00")],
    )
    windows = windows_for(p, utc(2026, 3, 2), utc(2026, 3, 3))
    assert windows == [
        (utc(2026, 3, 2, 7), utc(2026, 3, 2, 9)),
        (utc(2026, 3, 2, 11), utc(2026, 3, 2, 15)),
    ]


def test_extra_window_adds_time_and_merges_with_rules():
    p = profile(
        rules=[(0, "09:00", "12:00")],
        exceptions=[
            (date(2026, 3, 2), True, "12:00", "14:00"),
            (date(2026, 3, 4), True, "18:00", "20:00"),  # a Wednesday without rules
        ],
    )
    windows = windows_for(p, utc(2026, 3, 1), utc(2026, 3, 6))
    assert windows == [
        (utc(2026, 3, 2, 7), utc(2026, 3, 2, 12)),
        (utc(2026, 3, 4, 16), utc(2026, 3, 4, 18)),
    ]


def test_extra_window_on_a_day_off_still_counts():
    p = profile(
        rules=[(0, "09:00", "12:00")],
        exceptions=[
            (date(2026, 3, 2), False, None, None),
            (date(2026, 3, 2), True, "18:00", "19:00"),
        ],
    )
    assert windows_for(p, utc(2026, 3, 2), utc(2026, 3, 3)) == [
        (utc(2026, 3, 2, 16), utc(2026, 3, 2, 17))
    ]


def test_windows_are_clipped_to_the_range():
    p = profile(rules=[(0, "09:00", "12:00")])
    assert windows_for(p, utc(2026, 3, 2, 8), utc(2026, 3, 2, 9)) == [
        (utc(2026, 3, 2, 8), utc(2026, 3, 2, 9))
    ]
    assert windows_for(p, utc(2026, 3, 2, 11), utc(2026, 3, 2, 9)) == []


def test_other_zone_and_a_local_range_start():
    # Riyadh has no DST: UTC+3 all year. The range starts at a local midnight.
    p = profile(rules=[(6, "16:00", "18:00")], zone="Asia/Riyadh")
    start = datetime(2026, 3, 1, tzinfo=ZoneInfo("Asia/Riyadh"))  # a Sunday
    assert windows_for(p, start, start + timedelta(days=1)) == [
        (utc(2026, 3, 1, 13), utc(2026, 3, 1, 15))
    ]


def test_unknown_zone_falls_back_to_cairo():
    p = profile(rules=[(0, "09:00", "10:00")], zone="Mars/Olympus")
    assert windows_for(p, utc(2026, 3, 2), utc(2026, 3, 3)) == [
        (utc(2026, 3, 2, 7), utc(2026, 3, 2, 8))
    ]


def test_naive_range_refused():
    with pytest.raises(ValueError):
        windows_for(profile(), datetime(2026, 3, 2), utc(2026, 3, 3))


def test_no_rules_no_windows():
    assert windows_for(profile(), utc(2026, 3, 1), utc(2026, 4, 1)) == []


def test_merge_sorts_and_drops_empty():
    a = utc(2026, 1, 1, 8)
    assert merge(
        [(a + timedelta(hours=3), a + timedelta(hours=4)), (a, a), (a, a + timedelta(hours=3))]
    ) == [(a, a + timedelta(hours=4))]
