"""Fixtures of the attendance tests: an institution, its manager, shifts and seated volunteers."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest


def hour(moment: datetime) -> datetime:
    return moment.replace(minute=0, second=0, microsecond=0)


@dataclass
class Home:
    """A Cairo institution, its manager, a shift now, a past and a future shift, volunteers."""

    institution: Any
    manager: Any
    opportunity: Any
    now_shift: Any  # started 30 minutes ago, lasts 3 hours
    past_shift: Any  # a week ago, 3 hours
    future_shift: Any  # in two days
    volunteers: list[Any]
    coordinator: Any


def seat(shift: Any, volunteer: Any, state: str = "confirmed") -> Any:
    """Give a volunteer one of the shift's open places (or another state that holds none)."""
    from web.extensions import db
    from web.models import HOLDING_STATES, Assignment

    assignment = Assignment(
        shift_id=shift.id,
        volunteer_id=volunteer.id,
        state=state,
        source="self",
        waitlist_position=1 if state == "waitlisted" else None,
    )
    if state in HOLDING_STATES:
        shift.open_taken += 1
    db.session.add(assignment)
    db.session.commit()
    return assignment


@pytest.fixture
def home(factory) -> Home:
    manager = factory.user("manager")
    institution = factory.institution(managers=(manager,), governorate="EG-C")
    opportunity = factory.opportunity(institution)
    now = datetime.now(UTC)
    now_shift = factory.shift(opportunity, start=now - timedelta(minutes=30), hours=3)
    past_shift = factory.shift(opportunity, start=hour(now - timedelta(days=7)), hours=3)
    # 10:00 UTC two days on: inside the factory volunteers' daily availability at any hour
    future_shift = factory.shift(
        opportunity, start=hour(now + timedelta(days=2)).replace(hour=10), hours=2
    )
    volunteers = [factory.volunteer(lat=30.05 + i * 0.001) for i in range(3)]
    coordinator = factory.user("coordinator", national_scope=True)
    return Home(
        institution,
        manager,
        opportunity,
        now_shift,
        past_shift,
        future_shift,
        volunteers,
        coordinator,
    )


def count(model: Any) -> int:
    import sqlalchemy as sa

    from web.extensions import db

    return db.session.scalar(sa.select(sa.func.count()).select_from(model))


@pytest.fixture
def english(app):
    """Service messages in English (their Arabic is tested through the pages)."""
    from flask_babel import force_locale

    with force_locale("en"):
        yield
