"""Fixtures of the manager pages' tests: a manager with a home, another home, and helpers."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

CAIRO = ZoneInfo("Africa/Cairo")


def cairo_today() -> date:
    return datetime.now(CAIRO).date()


def future_day(days: int = 10) -> date:
    """A day ``days`` ahead in Cairo, moved off the clock-change days (changes are at night)."""
    return cairo_today() + timedelta(days=days)


def local(moment: datetime) -> datetime:
    return moment.astimezone(CAIRO)


def dst_change(direction: str, after: date | None = None) -> date:
    """The next Cairo day whose clocks move ``forward`` or ``back``, found with zoneinfo."""
    day = after or cairo_today()
    for _ in range(3 * 366):
        noon_before = datetime.combine(day, time(12), CAIRO).utcoffset()
        noon_after = datetime.combine(day + timedelta(days=1), time(12), CAIRO).utcoffset()
        if noon_before != noon_after and (noon_after > noon_before) == (direction == "forward"):
            # The change happens during the night between ``day`` and the next day.
            return day
        day += timedelta(days=1)
    raise AssertionError("zoneinfo knows no clock change in Cairo in the next three years")


def odd_local_time(day: date, kind: str) -> tuple[date, time] | None:
    """A local time on ``day`` or the next day that is ``missing`` or ``ambiguous`` in Cairo."""
    from web.services.shifts import LocalTimeError, local_to_utc

    for offset in (0, 1):
        candidate = day + timedelta(days=offset)
        for minutes in range(0, 24 * 60, 15):
            at = time(minutes // 60, minutes % 60)
            try:
                local_to_utc(candidate, at, CAIRO)
            except LocalTimeError as error:
                if error.kind == kind:
                    return candidate, at
    return None


def shift_form(day: date | str, start: str = "10:00", end: str = "13:00", **extra: Any) -> dict:
    data = {
        "day": str(day),
        "start_time": start,
        "end_time": end,
        "needed": "3",
        "gender": "any",
        "min_age": "0",
        "priority": "1",
        "description_ar": "",
        "description_en": "",
    }
    data.update({k: str(v) if not isinstance(v, list) else v for k, v in extra.items()})
    return data


def assign(shift: Any, volunteer: Any, state: str = "confirmed", skill: Any = None, **kw: Any):
    """Put a volunteer on a shift in a state, keeping the place counters right."""
    from web.extensions import db
    from web.models import HOLDING_STATES, Assignment

    assignment = Assignment(
        shift_id=shift.id,
        volunteer_id=volunteer.id,
        state=state,
        position_skill_id=skill.id if skill is not None else None,
        source=kw.pop("source", "self"),
        waitlist_position=kw.pop("waitlist_position", None),
    )
    db.session.add(assignment)
    if state in HOLDING_STATES:
        if skill is None:
            shift.open_taken += 1
        else:
            next(r for r in shift.requirements if r.skill_id == skill.id).taken += 1
    db.session.commit()
    return assignment


@pytest.fixture(autouse=True)
def _cheap_password_hashes(monkeypatch):
    """These tests log in through the session, so strong password hashing only costs time."""
    from werkzeug.security import generate_password_hash

    import web.models.user

    monkeypatch.setattr(
        web.models.user,
        "generate_password_hash",
        lambda password: generate_password_hash(password, "pbkdf2:sha256:1"),
    )


@pytest.fixture
def manager(factory):
    return factory.user("manager", full_name="Mona Manager")


@pytest.fixture
def home(factory, manager):
    return factory.institution(managers=(manager,), name_ar="دار الرحمة", name_en="Dar Al Rahma")


@pytest.fixture
def other_home(factory):
    other = factory.user("manager", full_name="Omar Other")
    return factory.institution(
        managers=(other,), name_ar="دار أخرى", name_en="Other Home", governorate="EG-ALX"
    )


@pytest.fixture
def opportunity(factory, home):
    return factory.opportunity(home)


@pytest.fixture
def manager_client(login_as, manager, home):
    return login_as(manager)


def make_shift(factory: Any, opportunity: Any, skills: dict[str, int] | None = None, **kw: Any):
    """``factory.shift`` plus skill reservations (added after the shift is in the session)."""
    from web.extensions import db
    from web.models import ShiftSkillRequirement

    skills = skills or {}
    shift = factory.shift(opportunity, **kw)
    for code, places in skills.items():
        skill = factory.skill(code)
        db.session.add(ShiftSkillRequirement(shift_id=shift.id, skill_id=skill.id, places=places))
        shift.open_places -= places
    db.session.commit()
    db.session.refresh(shift)
    return shift
