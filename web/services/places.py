"""A shift's places: taking and releasing them with atomic conditional UPDATEs, and offers."""

from __future__ import annotations

import logging

import sqlalchemy as sa
from flask import current_app

from web.extensions import db
from web.models import (
    HOLDING_STATES,
    TRANSITIONS,
    Assignment,
    Shift,
    ShiftSkillRequirement,
    utcnow,
)

log = logging.getLogger(__name__)


def take(shift_id: int, position_skill_id: int | None) -> bool:
    """Take one place of a position if one is free; never read-then-write, so never overbooked."""
    if position_skill_id is None:
        statement = (
            sa.update(Shift)
            .where(
                Shift.id == shift_id,
                Shift.status == "open",
                Shift.open_taken < Shift.open_places,
            )
            .values(open_taken=Shift.open_taken + 1)
        )
    else:
        open_shift = sa.select(Shift.id).where(Shift.id == shift_id, Shift.status == "open")
        statement = (
            sa.update(ShiftSkillRequirement)
            .where(
                ShiftSkillRequirement.shift_id == shift_id,
                ShiftSkillRequirement.skill_id == position_skill_id,
                ShiftSkillRequirement.taken < ShiftSkillRequirement.places,
                ShiftSkillRequirement.shift_id.in_(open_shift),
            )
            .values(taken=ShiftSkillRequirement.taken + 1)
        )
    result = db.session.execute(statement.execution_options(synchronize_session=False))
    return result.rowcount == 1


def give_back(shift_id: int, position_skill_id: int | None) -> bool:
    """Give one place of a position back; False (and a log line) if no counter held it."""
    if position_skill_id is None:
        statement = (
            sa.update(Shift)
            .where(Shift.id == shift_id, Shift.open_taken > 0)
            .values(open_taken=Shift.open_taken - 1)
        )
    else:
        statement = (
            sa.update(ShiftSkillRequirement)
            .where(
                ShiftSkillRequirement.shift_id == shift_id,
                ShiftSkillRequirement.skill_id == position_skill_id,
                ShiftSkillRequirement.taken > 0,
            )
            .values(taken=ShiftSkillRequirement.taken - 1)
        )
    result = db.session.execute(statement.execution_options(synchronize_session=False))
    if result.rowcount != 1:
        log.warning(
            "no counter held the place given back: shift %s skill %s", shift_id, position_skill_id
        )
        return False
    return True


def release(assignment: Assignment) -> None:
    """Give back the place an assignment holds (call before moving it out of a holding state)."""
    if assignment.state in HOLDING_STATES:
        give_back(assignment.shift_id, assignment.position_skill_id)


def busy_clash(volunteer_id: int, shift: Shift, ignore_shift_ids: set[int] | None = None) -> bool:
    """Whether the volunteer's holding assignments clash with ``shift`` (overlap or rest)."""
    from matcher.eligibility import clash

    rest = int(current_app.config.get("MIN_REST_MINUTES", 30))
    others = db.session.execute(
        sa.select(Shift.id, Shift.starts_at, Shift.ends_at)
        .join(Assignment, Assignment.shift_id == Shift.id)
        .where(
            Assignment.volunteer_id == volunteer_id,
            Assignment.state.in_(sorted(HOLDING_STATES)),
            Shift.status == "open",
            Shift.id != shift.id,
        )
    ).all()
    ignore = ignore_shift_ids or set()
    return any(
        clash(shift.starts_at, shift.ends_at, start, end, rest)
        for sid, start, end in others
        if sid not in ignore
    )


def offer(
    shift: Shift, volunteer_id: int, position_skill_id: int | None, *, run_id: int | None = None
) -> tuple[bool, str]:
    """Offer a place of ``shift`` to a volunteer (matcher source); (False, reason) if it cannot."""
    if shift.status != "open":
        return False, "cancelled"
    if shift.starts_at <= utcnow():
        return False, "started"
    existing = db.session.execute(
        sa.select(Assignment).where(
            Assignment.shift_id == shift.id, Assignment.volunteer_id == volunteer_id
        )
    ).scalar_one_or_none()
    if existing is not None and existing.state in HOLDING_STATES:
        return True, "kept"
    if existing is not None and (
        existing.state == "declined" or "offered" not in TRANSITIONS[existing.state]
    ):
        return False, existing.state
    if busy_clash(volunteer_id, shift):
        return False, "clash"
    if not take(shift.id, position_skill_id):
        return False, "full"
    now = utcnow()
    if existing is None:
        existing = Assignment(shift_id=shift.id, volunteer_id=volunteer_id, created_at=now)
        db.session.add(existing)
    existing.state = "offered"
    existing.source = "matcher"
    existing.position_skill_id = position_skill_id
    existing.waitlist_position = None
    existing.run_id = run_id
    existing.state_changed_at = now
    db.session.flush()
    return True, "offered"
