"""Local wall times to UTC in an institution's zone: round trips, skipped and repeated hours."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from web.services.shifts import LocalTimeError, local_to_utc, series_days

ZONES = ["Africa/Cairo", "Asia/Riyadh", "Asia/Dubai", "Europe/London", "America/New_York"]


@settings(max_examples=300, deadline=None)
@given(
    day=st.dates(min_value=date(2023, 1, 1), max_value=date(2032, 12, 31)),
    at=st.times(),
    zone_name=st.sampled_from(ZONES),
)
def test_local_to_utc_round_trips_or_refuses(day, at, zone_name):
    zone = ZoneInfo(zone_name)
    try:
        moment = local_to_utc(day, at, zone)
    except LocalTimeError as error:
        # Refused only when the wall time is really skipped or repeated that day.
        naive = datetime.combine(day, at)
        offsets = {naive.replace(tzinfo=zone, fold=f).utcoffset() for f in (0, 1)}
        assert len(offsets) == 2
        assert error.kind in ("missing", "ambiguous")
        return
    assert moment.tzinfo is UTC
    assert moment.astimezone(zone).replace(tzinfo=None) == datetime.combine(day, at)


def test_cairo_changes_clocks_on_the_days_egypt_chose():
    """Since 2023: forward on the last Friday of April, back on the last Thursday of October."""
    cairo = ZoneInfo("Africa/Cairo")
    for year in (2024, 2025, 2026, 2027):
        april_end = date(year, 4, 30)
        last_friday = april_end - timedelta(days=(april_end.weekday() - 4) % 7)
        october_end = date(year, 10, 31)
        last_thursday = october_end - timedelta(days=(october_end.weekday() - 3) % 7)
        before = datetime.combine(last_friday - timedelta(days=1), time(12), cairo).utcoffset()
        after = datetime.combine(last_friday, time(12), cairo).utcoffset()
        assert after - before == timedelta(hours=1), year
        summer = datetime.combine(last_thursday, time(12), cairo).utcoffset()
        winter = datetime.combine(last_thursday + timedelta(days=1), time(12), cairo).utcoffset()
        assert summer - winter == timedelta(hours=1), year


def test_series_days_are_weekly_on_the_first_days_weekday():
    days = series_days(date(2027, 4, 9), 6)
    assert days[0] == date(2027, 4, 9) and len(days) == 6
    assert all(b - a == timedelta(weeks=1) for a, b in pairwise(days))
    assert {d.weekday() for d in days} == {date(2027, 4, 9).weekday()}
