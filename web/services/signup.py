"""Self sign-up and withdrawal: places taken by atomic conditional updates, never overbooked.

Concurrency, in short:

- A place is taken by ``UPDATE ... SET taken = taken + 1 WHERE ... taken < places`` and the
  row count says whether it was; nothing is read first and written later.
- A volunteer's own sign-ups and withdrawals are serialised by locking their user row first
  (``SELECT ... FOR UPDATE`` on PostgreSQL; on SQLite a no-op write, which takes the database's
  single write lock before anything is read), so a double click cannot book two clashing shifts.
- Waitlisting, withdrawal and promotion lock the shift row; the next waitlist number is read
  under that lock, so numbers are distinct, and a place freed by a withdrawal is either seen by a
  sign-up's retry or given to the waitlist in the withdrawal's own transaction.
- Lock order is user row -> shift row -> skill-requirement rows everywhere, and a sign-up that
  holds a counter never waits for another lock, so the transactions cannot deadlock.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from web.extensions import db
from web.models import (
    TRANSITIONS,
    Assignment,
    Shift,
    ShiftSkillRequirement,
    User,
    utcnow,
)
from web.services import places
from web.services.audit import record
from web.services.eligibility import ACTIVE_STATES, check_pair

log = logging.getLogger(__name__)

# A volunteer may withdraw from these states (the place, if any, goes back to the shift).
WITHDRAWABLE = frozenset({"waitlisted", "offered", "confirmed"})
CONFLICT_REASONS = frozenset({"already", "not_signed_up", "not_withdrawable"})

_shift_table = Shift.__table__
_requirement_table = ShiftSkillRequirement.__table__
_user_table = User.__table__


class SignupError(Exception):
    """The sign-up or withdrawal is refused; ``reasons`` are codes of eligibility.REASON_TEXTS."""

    def __init__(self, reasons: tuple[str, ...]) -> None:
        super().__init__(", ".join(reasons))
        self.reasons = reasons

    @property
    def status(self) -> int:
        """409 when the request conflicts with the current state, 400 otherwise."""
        return 409 if CONFLICT_REASONS.intersection(self.reasons) else 400


@dataclass(frozen=True)
class Place:
    """A place taken: the reserved skill's requirement, or None for an open place."""

    requirement_id: int | None
    skill_id: int | None


def _dialect() -> str:
    return db.session.get_bind().dialect.name


def _lock_volunteer(user_id: int) -> None:
    if _dialect() == "sqlite":
        # A write first: SQLite then holds its write lock for the whole transaction.
        db.session.execute(
            sa.update(_user_table)
            .where(_user_table.c.id == user_id)
            .values(active=_user_table.c.active)
        )
    else:
        db.session.execute(sa.select(User.id).where(User.id == user_id).with_for_update())


def _lock_shift(shift_id: int) -> None:
    if _dialect() != "sqlite":  # SQLite already holds the database's write lock
        db.session.execute(sa.select(Shift.id).where(Shift.id == shift_id).with_for_update())


def _fresh_shift(shift_id: int) -> Shift | None:
    return db.session.scalar(
        sa.select(Shift)
        .where(Shift.id == shift_id)
        .options(selectinload(Shift.requirements).joinedload(ShiftSkillRequirement.skill))
        .execution_options(populate_existing=True)
    )


def _fresh_assignment(shift_id: int, user_id: int) -> Assignment | None:
    return db.session.scalar(
        sa.select(Assignment)
        .where(Assignment.shift_id == shift_id, Assignment.volunteer_id == user_id)
        .execution_options(populate_existing=True)
    )


def _take_place(shift: Shift, positions: tuple[str | None, ...]) -> Place | None:
    """Take the first free place among ``positions`` (reserved skills first, then open)."""
    by_code = {r.skill.code: r for r in shift.requirements}
    for position in positions:
        if position is None:
            if places.take(shift.id, None):
                return Place(None, None)
        elif position in by_code:
            requirement = by_code[position]
            if places.take(shift.id, requirement.skill_id):
                return Place(requirement.id, requirement.skill_id)
    return None


def _release_place(shift: Shift, skill_id: int | None) -> None:
    """Give back the place an assignment held (decrement the counter of its position)."""
    places.give_back(shift.id, skill_id)


def _next_waitlist_position(shift_id: int) -> int:
    """One more than the last waitlist number of the shift (call with the shift row locked)."""
    last = db.session.scalar(
        sa.select(sa.func.max(Assignment.waitlist_position)).where(
            Assignment.shift_id == shift_id, Assignment.state == "waitlisted"
        )
    )
    return (last or 0) + 1


def _move(assignment: Assignment, state: str, now: datetime) -> None:
    if state not in TRANSITIONS[assignment.state]:
        raise SignupError(("not_withdrawable",))
    assignment.state = state
    assignment.state_changed_at = now


def _refuse_unless_open(shift: Shift, now: datetime) -> None:
    if shift.status == "cancelled":
        raise SignupError(("cancelled",))
    if shift.starts_at <= now:
        raise SignupError(("past",))
    if shift.status != "open" or shift.opportunity.status != "open":
        raise SignupError(("not_open",))
    if not shift.institution.active:
        raise SignupError(("not_open",))


def sign_up(volunteer_user: User, shift: Shift, *, now: datetime | None = None) -> Assignment:
    """Sign the volunteer up: a free place (confirmed) or the waitlist; refuses when ineligible.

    Raises ``SignupError`` with reason codes (nothing written), ``LookupError`` for a shift
    that no longer exists.
    """
    now = now or utcnow()
    if not volunteer_user.has_role("volunteer") or not volunteer_user.active:
        raise SignupError(("not_volunteer",))
    user_id, shift_id = volunteer_user.id, shift.id
    try:
        _lock_volunteer(user_id)
        fresh = _fresh_shift(shift_id)
        if fresh is None:
            raise LookupError(shift_id)
        shift = fresh
        _refuse_unless_open(shift, now)
        profile = volunteer_user.profile
        if profile is None:
            raise SignupError(("profile_incomplete",))
        existing = _fresh_assignment(shift_id, user_id)
        if existing is not None and existing.state in ACTIVE_STATES:
            raise SignupError(("already",))
        verdict = check_pair(profile, shift)
        if not verdict.ok:
            raise SignupError(verdict.reasons)
        place = _take_place(shift, verdict.positions)
        if place is None:
            # Under the shift lock no withdrawal can run: a place freed just before is seen
            # by this retry, otherwise the waitlist number read next is ours alone.
            _lock_shift(shift_id)
            # A cancellation may have committed while we waited for the lock.
            status = db.session.scalar(
                sa.select(Shift.status)
                .where(Shift.id == shift_id)
                .execution_options(populate_existing=True)
            )
            if status != "open":
                raise SignupError(("cancelled",))
            place = _take_place(shift, verdict.positions)
        waitlist_position = None if place else _next_waitlist_position(shift_id)
        assignment = existing or Assignment(shift_id=shift_id, volunteer_id=user_id)
        if existing is None:
            assignment.state = "waitlisted" if place is None else "confirmed"
            assignment.state_changed_at = now
            assignment.created_at = now
            db.session.add(assignment)
        else:
            _move(assignment, "waitlisted" if place is None else "confirmed", now)
        assignment.source = "self"
        assignment.run_id = None  # not (or no longer) a matching run's offer
        assignment.position_skill_id = place.skill_id if place else None
        assignment.waitlist_position = waitlist_position
        db.session.flush()
        record(
            volunteer_user,
            "assignment.signed_up" if place else "assignment.waitlisted",
            "assignment",
            assignment.id,
            shift_id=shift_id,
            position=_position_code(shift, place),
            waitlist_position=assignment.waitlist_position,
        )
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
    return assignment


def _position_code(shift: Shift, place: Place | None) -> str | None:
    if place is None or place.requirement_id is None:
        return None
    return next((r.skill.code for r in shift.requirements if r.id == place.requirement_id), None)


def withdraw(
    volunteer_user: User, shift: Shift, *, now: datetime | None = None
) -> tuple[Assignment, Assignment | None]:
    """Withdraw the volunteer from the shift; a freed place goes to the first eligible waitlister.

    With nobody on the waitlist, a replacement run re-matches the place (after the commit).
    Returns the withdrawn assignment and the promoted one (or None). Raises ``SignupError``
    when the volunteer holds nothing on the shift or it has already started.
    """
    now = now or utcnow()
    user_id, shift_id = volunteer_user.id, shift.id
    try:
        _lock_volunteer(user_id)
        _lock_shift(shift_id)
        fresh = _fresh_shift(shift_id)
        if fresh is None:
            raise LookupError(shift_id)
        shift = fresh
        assignment = _fresh_assignment(shift_id, user_id)
        if assignment is None or assignment.state not in ACTIVE_STATES:
            raise SignupError(("not_signed_up",))
        if assignment.state not in WITHDRAWABLE:
            raise SignupError(("not_withdrawable",))
        if shift.starts_at <= now:
            raise SignupError(("past",))
        held = assignment.holds_place
        previous_state = assignment.state
        _move(assignment, "cancelled", now)
        assignment.waitlist_position = None
        if held:
            _release_place(shift, assignment.position_skill_id)
        record(
            volunteer_user,
            "assignment.withdrawn",
            "assignment",
            assignment.id,
            shift_id=shift_id,
            previous_state=previous_state,
        )
        db.session.flush()
        promoted = None
        if held and shift.status == "open":
            promoted = promote_waitlist(shift, now, after=assignment)
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
    if held and promoted is None:
        from web.services.replacement import request_replacement

        db.session.refresh(shift)
        request_replacement(shift)
    return assignment, promoted


def lock_shift(shift_id: int) -> None:
    """Lock the shift row until the end of the transaction (before releasing one of its places).

    Withdrawals, declines and promotions that lock it first never deadlock with each other and
    never race a sign-up onto the waitlist past a free place.
    """
    _lock_shift(shift_id)


def promote_waitlist(shift: Shift, now: datetime, *, after: Assignment) -> Assignment | None:
    """Give a freed place to the first waitlisted volunteer who is still eligible and fits.

    Call in the transaction that released the place (best with the shift row locked first,
    ``lock_shift``); the caller commits. ``after`` is the assignment that gave the place back.
    Returns the promoted assignment, now confirmed with source "self", or None.
    """
    _lock_shift(shift.id)
    waiting = db.session.scalars(
        sa.select(Assignment)
        .where(Assignment.shift_id == shift.id, Assignment.state == "waitlisted")
        .order_by(Assignment.waitlist_position, Assignment.id)
        .execution_options(populate_existing=True)
    ).all()
    for candidate in waiting:
        user = candidate.volunteer
        if not user.active or user.profile is None:
            continue
        verdict = check_pair(user.profile, shift)
        if not verdict.ok:
            continue
        place = _take_place(shift, verdict.positions)
        if place is None:
            continue
        position = candidate.waitlist_position
        _move(candidate, "confirmed", now)
        candidate.source = "self"
        candidate.waitlist_position = None
        candidate.position_skill_id = place.skill_id
        record(
            None,
            "assignment.promoted",
            "assignment",
            candidate.id,
            shift_id=shift.id,
            volunteer_id=candidate.volunteer_id,
            from_waitlist_position=position,
            after_withdrawal_of=after.id,
            position=_position_code(shift, place),
        )
        db.session.flush()
        # They are not looking at the page: tell them by text, in this same transaction.
        from web.services.messaging import queue_confirmation

        queue_confirmation(candidate)
        return candidate
    return None


def waitlist_rank(assignment: Assignment) -> int | None:
    """The volunteer's place in the queue (1 = next), counting only who is still waiting."""
    if assignment.state != "waitlisted" or assignment.waitlist_position is None:
        return None
    return db.session.scalar(
        sa.select(sa.func.count(Assignment.id)).where(
            Assignment.shift_id == assignment.shift_id,
            Assignment.state == "waitlisted",
            Assignment.waitlist_position <= assignment.waitlist_position,
        )
    )
