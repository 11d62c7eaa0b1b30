"""A volunteer's availability: weekly rules and dated exceptions, expanded to aware windows."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import sqlalchemy as sa

from web.extensions import db
from web.models import AvailabilityException, AvailabilityRule, User, VolunteerProfile
from web.services.audit import record

DAY_MINUTES = 24 * 60
# A rule or exception ending at 23:59 or later runs to midnight: the form cannot say "24:00"
# (end must be after start on the same day), so 23:59 is how a volunteer says "until midnight".
END_OF_DAY = time(23, 59)
MAX_RULES = 50
MAX_EXCEPTIONS = 200

Window = tuple[datetime, datetime]


class AvailabilityError(ValueError):
    """A change to the availability the service refuses; ``code`` says why."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


def profile_zone(profile: VolunteerProfile) -> ZoneInfo:
    """The volunteer's zone, falling back to Africa/Cairo for an unknown name."""
    try:
        return ZoneInfo(profile.timezone or "Africa/Cairo")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("Africa/Cairo")


def _minutes(moment: time, *, is_end: bool = False) -> int:
    if is_end and moment >= END_OF_DAY:
        return DAY_MINUTES
    return moment.hour * 60 + moment.minute


def _subtract(
    intervals: list[tuple[int, int]], cut_start: int, cut_end: int
) -> list[tuple[int, int]]:
    result: list[tuple[int, int]] = []
    for start, end in intervals:
        if cut_end <= start or end <= cut_start:
            result.append((start, end))
            continue
        if start < cut_start:
            result.append((start, cut_start))
        if cut_end < end:
            result.append((cut_end, end))
    return result


def _local_to_utc(day: date, minutes: int, zone: ZoneInfo) -> datetime:
    """A local wall time (minutes after midnight, 1440 = next midnight) as an aware UTC datetime.

    A wall time that does not exist (the hour skipped when clocks go forward) is read with the
    offset in force before the change; a repeated one (clocks go back) means its first occurrence.
    """
    day = day + timedelta(days=minutes // DAY_MINUTES)
    minutes %= DAY_MINUTES
    local = datetime.combine(day, time(minutes // 60, minutes % 60), tzinfo=zone)
    return local.astimezone(UTC)


def merge(windows: Iterable[Window]) -> list[Window]:
    """Sort windows and merge those that overlap or touch."""
    merged: list[list[datetime]] = []
    for start, end in sorted(windows):
        if end <= start:
            continue
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    return [(start, end) for start, end in merged]


def day_intervals(
    weekday_rules: Iterable[AvailabilityRule], exceptions: Iterable[AvailabilityException]
) -> list[tuple[int, int]]:
    """Local [start, end) minute intervals of one day from its weekday's rules and its exceptions.

    Exceptions apply after the rules: a whole-day "unavailable" removes every rule window of that
    day, a timed one removes that part, and an "available" one adds its window (or the whole day
    when it carries no times).
    """
    intervals = [
        (_minutes(rule.start_time), _minutes(rule.end_time, is_end=True)) for rule in weekday_rules
    ]
    extra: list[tuple[int, int]] = []
    for exc in exceptions:
        timed = exc.start_time is not None and exc.end_time is not None
        span = (
            (_minutes(exc.start_time), _minutes(exc.end_time, is_end=True))
            if timed
            else (0, DAY_MINUTES)
        )
        if exc.available:
            extra.append(span)
        else:
            intervals = _subtract(intervals, *span)
    return [(s, e) for s, e in intervals + extra if e > s]


def windows_for(profile: VolunteerProfile, start: datetime, end: datetime) -> list[Window]:
    """The volunteer's availability between ``start`` and ``end`` as merged, aware UTC windows.

    Weekly rules (weekday 0 = Monday) and dated exceptions are read as wall times in the
    profile's zone on each local day, then converted, so a window keeps its wall-clock hours on
    both sides of a daylight-saving change. Windows are clipped to [start, end).
    """
    if start.tzinfo is None or end.tzinfo is None:
        raise ValueError("windows_for needs aware datetimes")
    if end <= start:
        return []
    zone = profile_zone(profile)
    first = start.astimezone(zone).date() - timedelta(days=1)
    last = end.astimezone(zone).date()
    rules_by_weekday: dict[int, list[AvailabilityRule]] = {}
    for rule in profile.availability_rules:
        rules_by_weekday.setdefault(rule.weekday, []).append(rule)
    exceptions_by_day: dict[date, list[AvailabilityException]] = {}
    for exc in profile.availability_exceptions:
        if first <= exc.day <= last:
            exceptions_by_day.setdefault(exc.day, []).append(exc)
    windows: list[Window] = []
    day = first
    while day <= last:
        intervals = day_intervals(
            rules_by_weekday.get(day.weekday(), ()), exceptions_by_day.get(day, ())
        )
        for lo, hi in intervals:
            w_start = _local_to_utc(day, lo, zone)
            w_end = _local_to_utc(day, hi, zone)
            w_start, w_end = max(w_start, start), min(w_end, end)
            if w_end > w_start:
                windows.append((w_start, w_end))
        day += timedelta(days=1)
    return merge(windows)


# ---- editing the rules and exceptions (one transaction each, audited) -----------------------


@dataclass(frozen=True)
class RuleInput:
    """A weekly window to add: weekday 0 = Monday, local start and end times."""

    weekday: int
    start_time: time
    end_time: time


@dataclass(frozen=True)
class ExceptionInput:
    """A dated exception to add: a whole day (no times) or part of a day, off or extra."""

    day: date
    available: bool
    start_time: time | None
    end_time: time | None
    note: str = ""


def _check_times(start: time | None, end: time | None, *, optional: bool) -> None:
    if start is None and end is None and optional:
        return
    if start is None or end is None:
        raise AvailabilityError("times_together")
    if end <= start:
        raise AvailabilityError("end_before_start")


def add_rule(actor: User, profile: VolunteerProfile, data: RuleInput) -> AvailabilityRule:
    """Add a weekly window; refuses bad times, an exact duplicate and more than MAX_RULES."""
    if not 0 <= data.weekday <= 6:
        raise AvailabilityError("weekday")
    _check_times(data.start_time, data.end_time, optional=False)
    if len(profile.availability_rules) >= MAX_RULES:
        raise AvailabilityError("too_many")
    for rule in profile.availability_rules:
        if (rule.weekday, rule.start_time, rule.end_time) == (
            data.weekday,
            data.start_time,
            data.end_time,
        ):
            raise AvailabilityError("duplicate")
    rule = AvailabilityRule(
        weekday=data.weekday, start_time=data.start_time, end_time=data.end_time
    )
    profile.availability_rules.append(rule)
    db.session.flush()
    record(
        actor,
        "availability.rule_added",
        "availability_rule",
        rule.id,
        weekday=data.weekday,
        start=data.start_time.isoformat("minutes"),
        end=data.end_time.isoformat("minutes"),
    )
    db.session.commit()
    return rule


def remove_rule(actor: User, profile: VolunteerProfile, rule_id: int) -> None:
    """Remove one of the profile's own weekly windows (``LookupError`` for any other id)."""
    rule = db.session.get(AvailabilityRule, rule_id)
    if rule is None or rule.profile_id != profile.id:
        raise LookupError(rule_id)
    record(
        actor,
        "availability.rule_removed",
        "availability_rule",
        rule.id,
        weekday=rule.weekday,
        start=rule.start_time.isoformat("minutes"),
        end=rule.end_time.isoformat("minutes"),
    )
    profile.availability_rules.remove(rule)
    db.session.commit()


def add_exception(
    actor: User, profile: VolunteerProfile, data: ExceptionInput, *, today: date
) -> AvailabilityException:
    """Add a dated exception; refuses past days, bad times and a second one at the same start."""
    if data.day < today:
        raise AvailabilityError("past_day")
    if data.day > today + timedelta(days=730):
        raise AvailabilityError("far_day")
    _check_times(data.start_time, data.end_time, optional=True)
    if len(profile.availability_exceptions) >= MAX_EXCEPTIONS:
        raise AvailabilityError("too_many")
    duplicate = db.session.scalar(
        sa.select(AvailabilityException.id).where(
            AvailabilityException.profile_id == profile.id,
            AvailabilityException.day == data.day,
            AvailabilityException.start_time.is_(None)
            if data.start_time is None
            else AvailabilityException.start_time == data.start_time,
        )
    )
    if duplicate is not None:
        raise AvailabilityError("duplicate")
    exc = AvailabilityException(
        day=data.day,
        available=data.available,
        start_time=data.start_time,
        end_time=data.end_time,
        note=data.note,
    )
    profile.availability_exceptions.append(exc)
    db.session.flush()
    record(
        actor,
        "availability.exception_added",
        "availability_exception",
        exc.id,
        day=data.day.isoformat(),
        available=data.available,
        start=data.start_time.isoformat("minutes") if data.start_time else None,
        end=data.end_time.isoformat("minutes") if data.end_time else None,
    )
    db.session.commit()
    return exc


def remove_exception(actor: User, profile: VolunteerProfile, exception_id: int) -> None:
    """Remove one of the profile's own exceptions (``LookupError`` for any other id)."""
    exc = db.session.get(AvailabilityException, exception_id)
    if exc is None or exc.profile_id != profile.id:
        raise LookupError(exception_id)
    record(
        actor,
        "availability.exception_removed",
        "availability_exception",
        exc.id,
        day=exc.day.isoformat(),
        available=exc.available,
    )
    profile.availability_exceptions.remove(exc)
    db.session.commit()
