"""Matching runs: their scope and window, the proposal they produce, locks and nightly schedules."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Float,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from web.extensions import db
from web.models.base import UTCDateTime, utcnow

if TYPE_CHECKING:
    from web.models.opportunity import Shift
    from web.models.reference import Skill
    from web.models.user import User

RUN_TRIGGERS = ("manual", "nightly", "replacement")
RUN_STATUSES = ("queued", "running", "proposed", "published", "discarded", "failed")
# A run in one of these states holds the locks of its scope.
ACTIVE_RUN_STATUSES = frozenset({"queued", "running", "proposed"})
SCOPE_KINDS = ("national", "governorates", "institutions")


class MatchingRun(db.Model):
    """One matching run over a scope and a window, from queued to published, discarded or failed."""

    __tablename__ = "matching_run"
    __table_args__ = (
        CheckConstraint("trigger IN ('manual', 'nightly', 'replacement')", name="trigger_known"),
        CheckConstraint(
            "status IN ('queued', 'running', 'proposed', 'published', 'discarded', 'failed')",
            name="status_known",
        ),
        CheckConstraint(
            "scope_kind IN ('national', 'governorates', 'institutions')", name="scope_known"
        ),
        CheckConstraint("window_end > window_start", name="window_ordered"),
        # A schedule fires at most one run per local day, however often its job runs.
        UniqueConstraint("schedule_id", "scheduled_for"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    trigger: Mapped[str] = mapped_column(String(12), default="manual")
    status: Mapped[str] = mapped_column(String(12), default="queued", index=True)
    scope_kind: Mapped[str] = mapped_column(String(14))
    scope_ids: Mapped[list[int]] = mapped_column(JSON, default=list)
    # Set for a replacement run: only these shifts are re-matched, everything else stays.
    shift_ids: Mapped[list[int] | None] = mapped_column(JSON)
    window_start: Mapped[datetime] = mapped_column(UTCDateTime)
    window_end: Mapped[datetime] = mapped_column(UTCDateTime)
    time_limit_s: Mapped[float] = mapped_column(Float, default=30.0)
    auto_publish: Mapped[bool] = mapped_column(Boolean, default=False)
    schedule_id: Mapped[int | None] = mapped_column(
        ForeignKey("matching_schedule.id", ondelete="SET NULL")
    )
    scheduled_for: Mapped[str | None] = mapped_column(String(10))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    heartbeat_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    published_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    worker: Mapped[str | None] = mapped_column(String(120))
    progress: Mapped[str] = mapped_column(String(300), default="")
    error: Mapped[str | None] = mapped_column(Text)
    metrics: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    problem: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    solution: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    version: Mapped[int] = mapped_column(Integer, default=1)

    created_by: Mapped[User | None] = relationship(foreign_keys=[created_by_id])
    published_by: Mapped[User | None] = relationship(foreign_keys=[published_by_id])
    proposals: Mapped[list[RunProposal]] = relationship(
        back_populates="run", cascade="all, delete-orphan", order_by="RunProposal.id"
    )

    __mapper_args__ = {"version_id_col": version}

    @property
    def is_active(self) -> bool:
        return self.status in ACTIVE_RUN_STATUSES


class RunProposal(db.Model):
    """A proposed (volunteer, shift) pair of a run, from the matcher or a coordinator's edit."""

    __tablename__ = "run_proposal"
    __table_args__ = (UniqueConstraint("run_id", "shift_id", "volunteer_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    run_id: Mapped[int] = mapped_column(
        ForeignKey("matching_run.id", ondelete="CASCADE"), index=True
    )
    shift_id: Mapped[int] = mapped_column(ForeignKey("shift.id", ondelete="CASCADE"), index=True)
    volunteer_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"))
    position_skill_id: Mapped[int | None] = mapped_column(ForeignKey("skill.id"))
    locked: Mapped[bool] = mapped_column(Boolean, default=False)
    pinned: Mapped[bool] = mapped_column(Boolean, default=False)
    removed: Mapped[bool] = mapped_column(Boolean, default=False)
    added_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))

    run: Mapped[MatchingRun] = relationship(back_populates="proposals")
    shift: Mapped[Shift] = relationship()
    volunteer: Mapped[User] = relationship(foreign_keys=[volunteer_id])
    position_skill: Mapped[Skill | None] = relationship()


class RunLock(db.Model):
    """An institution held by an active run: the primary key keeps overlapping runs apart."""

    __tablename__ = "run_lock"

    institution_id: Mapped[int] = mapped_column(
        ForeignKey("institution.id", ondelete="CASCADE"), primary_key=True
    )
    run_id: Mapped[int] = mapped_column(
        ForeignKey("matching_run.id", ondelete="CASCADE"), index=True
    )


class MatchingSchedule(db.Model):
    """A nightly run for a scope: when (local time), how long, and whether it publishes itself."""

    __tablename__ = "matching_schedule"
    __table_args__ = (
        CheckConstraint(
            "scope_kind IN ('national', 'governorates', 'institutions')", name="scope_known"
        ),
        CheckConstraint("hour BETWEEN 0 AND 23 AND minute BETWEEN 0 AND 59", name="time_valid"),
        CheckConstraint("window_days BETWEEN 1 AND 31", name="window_range"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    scope_kind: Mapped[str] = mapped_column(String(14), default="national")
    scope_ids: Mapped[list[int]] = mapped_column(JSON, default=list)
    hour: Mapped[int] = mapped_column(Integer, default=2)
    minute: Mapped[int] = mapped_column(Integer, default=0)
    timezone: Mapped[str] = mapped_column(String(64), default="Africa/Cairo")
    window_days: Mapped[int] = mapped_column(Integer, default=7)
    time_limit_s: Mapped[float] = mapped_column(Float, default=60.0)
    auto_publish: Mapped[bool] = mapped_column(Boolean, default=False)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
