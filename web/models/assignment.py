"""Assignments of volunteers to shifts, their source and the state machine they move through."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import CheckConstraint, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from web.extensions import db
from web.models.base import UTCDateTime, utcnow

if TYPE_CHECKING:
    from web.models.opportunity import Shift
    from web.models.reference import Skill
    from web.models.user import User

SOURCES = ("self", "matcher", "manual")
STATES = (
    "proposed",
    "waitlisted",
    "offered",
    "confirmed",
    "declined",
    "expired",
    "cancelled",
    "attended",
    "no_show",
)
# States in which the assignment holds one of the shift's places. A no-show gives the place
# back, so that a replacement can take it.
HOLDING_STATES = frozenset({"offered", "confirmed", "attended"})
# The state machine of DESIGN.md, plus the waitlist of self sign-up.
TRANSITIONS: dict[str, frozenset[str]] = {
    "proposed": frozenset({"offered", "cancelled"}),
    "waitlisted": frozenset({"confirmed", "offered", "cancelled"}),
    "offered": frozenset({"confirmed", "declined", "expired", "cancelled"}),
    "confirmed": frozenset({"attended", "no_show", "cancelled"}),
    "declined": frozenset({"offered", "confirmed", "waitlisted"}),
    "expired": frozenset({"offered", "confirmed", "waitlisted"}),
    "cancelled": frozenset({"offered", "confirmed", "waitlisted"}),
    "attended": frozenset(),
    "no_show": frozenset(),
}


def _states_sql() -> str:
    return ", ".join(f"'{state}'" for state in STATES)


class Assignment(db.Model):
    """One volunteer on one shift: how they got there and where they are in the state machine."""

    __tablename__ = "assignment"
    __table_args__ = (
        UniqueConstraint("shift_id", "volunteer_id"),
        CheckConstraint(f"state IN ({_states_sql()})", name="state_known"),
        CheckConstraint("source IN ('self', 'matcher', 'manual')", name="source_known"),
        CheckConstraint(
            "(state = 'waitlisted') = (waitlist_position IS NOT NULL)", name="waitlist_consistent"
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    shift_id: Mapped[int] = mapped_column(ForeignKey("shift.id", ondelete="CASCADE"), index=True)
    volunteer_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    position_skill_id: Mapped[int | None] = mapped_column(ForeignKey("skill.id"))
    source: Mapped[str] = mapped_column(String(10), default="self")
    state: Mapped[str] = mapped_column(String(12), index=True)
    waitlist_position: Mapped[int | None] = mapped_column(Integer)
    run_id: Mapped[int | None] = mapped_column(
        ForeignKey("matching_run.id", ondelete="SET NULL"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    state_changed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    shift: Mapped[Shift] = relationship(back_populates="assignments")
    volunteer: Mapped[User] = relationship()
    position_skill: Mapped[Skill | None] = relationship()

    @property
    def holds_place(self) -> bool:
        return self.state in HOLDING_STATES
